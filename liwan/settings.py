"""Settings for the Liwan rectification ledger.

Everything comes from environment variables (see ``liwan.env``). With none set, the project
runs in its *embedded default*: SQLite, Celery on kombu's filesystem transport and e-mail
written to files, all under ``var/`` — no server needed. Production sets ``DATABASE_URL``,
``CELERY_BROKER_URL``, ``EMAIL_URL``-style SMTP variables and ``DJANGO_DEBUG=false``; the README's
deployment section lists them.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from liwan.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
# Runtime state of the embedded default (database, uploads, mail, broker queue). Never served.
VAR_DIR = Path(env_str("LIWAN_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    SECRET_KEY = "embedded-default-insecure-key-for-local-use-only"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
# Absolute links in e-mails point here (no request to build them from in a Celery worker).
SITE_BASE_URL = env_str("LIWAN_SITE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_filters",
    "crispy_forms",
    "crispy_bootstrap5",
    "accounts",
    "evaluations",
    "rectification",
    "reminders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "liwan.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "liwan.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "liwan.urls"
WSGI_APPLICATION = "liwan.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "liwan.context_processors.roles",
            ],
        },
    },
]

if not env_str("DATABASE_URL"):
    # The embedded default keeps its SQLite file under var/; create the folder on first run.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "rectification:ledger"
LOGOUT_REDIRECT_URL = "login"
# Sessions end after 30 minutes idle and 12 hours at most (liwan.middleware).
LIWAN_SESSION_IDLE_SECONDS = env_int("LIWAN_SESSION_IDLE_SECONDS", 30 * 60)
LIWAN_SESSION_MAX_SECONDS = env_int("LIWAN_SESSION_MAX_SECONDS", 12 * 60 * 60)
SESSION_COOKIE_AGE = LIWAN_SESSION_MAX_SECONDS
SESSION_COOKIE_HTTPONLY = True
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded evidence lives under var/media, outside every web root; only an access-checked view
# serves it. MEDIA_URL is deliberately not routed anywhere.
MEDIA_ROOT = Path(env_str("LIWAN_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env_str(
            "LIWAN_STATICFILES_STORAGE",
            "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
# Spreadsheets of a whole city can be a few MB; the limit for in-memory uploads stays default.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# E-mail: files under var/mail by default; SMTP when EMAIL_HOST is set.
DEFAULT_FROM_EMAIL = env_str(
    "DEFAULT_FROM_EMAIL", "荔湾区财政局绩效评价整改台账 <noreply@liwan.local>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if env_str("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 25)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Celery: kombu's filesystem transport by default (no broker server), Redis in production.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _queue_dir = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# The ledger.
# How many extension requests (延期申请) one item may receive.
LIWAN_MAX_EXTENSIONS_PER_ITEM = env_int("LIWAN_MAX_EXTENSIONS_PER_ITEM", 2)
# Evidence uploads.
LIWAN_EVIDENCE_MAX_BYTES = env_int("LIWAN_EVIDENCE_MAX_BYTES", 20 * 1024 * 1024)
LIWAN_EVIDENCE_ALLOWED_TYPES = env_list(
    "LIWAN_EVIDENCE_ALLOWED_TYPES", ["pdf", "jpg", "png", "doc", "docx", "xls", "xlsx", "ofd"]
)
# Imports: spreadsheets larger than this are refused before parsing.
LIWAN_IMPORT_MAX_BYTES = env_int("LIWAN_IMPORT_MAX_BYTES", 20 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LIWAN_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}


# Reminders
# Deadline reminders, overdue chasing and escalation (docs/reminders.md). Days are calendar days
# in TIME_ZONE; every rule reads these, so the README's table and the mails agree.
def _env_days(name: str, default: list[int]) -> list[int]:
    try:
        return sorted({int(v) for v in env_list(name, [str(d) for d in default])}, reverse=True)
    except ValueError as exc:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{name} must be comma-separated integers") from exc


LIWAN_REMINDER_DAYS_BEFORE = _env_days("LIWAN_REMINDER_DAYS_BEFORE", [7, 3, 1])
LIWAN_REMINDER_OVERDUE_EVERY_DAYS = env_int("LIWAN_REMINDER_OVERDUE_EVERY_DAYS", 7)
LIWAN_REMINDER_ESCALATE_AFTER_DAYS = env_int("LIWAN_REMINDER_ESCALATE_AFTER_DAYS", 15)
LIWAN_REMINDER_STALE_PROGRESS_DAYS = env_int("LIWAN_REMINDER_STALE_PROGRESS_DAYS", 30)
# Delivery: a transient SMTP failure is retried after base * 2**(attempt-1) seconds (capped,
# with jitter) until MAX_ATTEMPTS, then shown as failed in the back-office.
LIWAN_REMINDER_MAX_ATTEMPTS = env_int("LIWAN_REMINDER_MAX_ATTEMPTS", 6)
LIWAN_REMINDER_RETRY_BASE_SECONDS = env_int("LIWAN_REMINDER_RETRY_BASE_SECONDS", 60)
LIWAN_REMINDER_RETRY_MAX_SECONDS = env_int("LIWAN_REMINDER_RETRY_MAX_SECONDS", 3600)
# A worker that died while sending leaves rows in "sending"; after this lease they are retried.
# Keep it well above EMAIL_TIMEOUT so a slow but live send is never taken over.
LIWAN_REMINDER_CLAIM_LEASE_SECONDS = env_int("LIWAN_REMINDER_CLAIM_LEASE_SECONDS", 600)
# How often beat runs the sweep (plan + send).
LIWAN_REMINDER_SWEEP_SECONDS = env_int("LIWAN_REMINDER_SWEEP_SECONDS", 120)
CELERY_BEAT_SCHEDULE = {
    "reminders-sweep": {
        "task": "reminders.sweep",
        "schedule": LIWAN_REMINDER_SWEEP_SECONDS,
        # A sweep queued while no worker ran is pointless once the next one is due.
        "options": {"expires": LIWAN_REMINDER_SWEEP_SECONDS},
    }
}
if CELERY_BROKER_URL == "filesystem://":
    # kombu's filesystem transport needs its folders to exist, and keeps its control (fanout)
    # folder relative to the working directory unless told otherwise.
    CELERY_BROKER_TRANSPORT_OPTIONS["control_folder"] = str(_queue_dir / "control")
    for _folder in ("queue", "processed", "control"):
        (_queue_dir / _folder).mkdir(parents=True, exist_ok=True)
