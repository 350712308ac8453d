"""Settings for the Liwan rectification ledger.

Everything comes from environment variables (see ``liwan.env``). With none set, the project
runs in its *embedded default*: SQLite, Celery on kombu's filesystem transport and e-mail
written to files, all under ``var/`` — no server needed. Production sets ``DATABASE_URL``,
``CELERY_BROKER_URL``, ``EMAIL_URL``-style SMTP variables and ``DJANGO_DEBUG=false``;
docs/operations.md lists them (the security block at the end: SECURITY.md).
"""

from __future__ import annotations

import datetime
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
    # Only with DEBUG on, on 127.0.0.1 (bandit B105 and ruff S105 are right in general).
    SECRET_KEY = "embedded-default-insecure-key-for-local-use-only"  # noqa: S105 # nosec B105

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
    "axes",  # login lockout (security block below)
    "csp",  # Content-Security-Policy header and its system checks (security block below)
    # The second factor (accounts.twofactor): TOTP authenticators and one-time recovery codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "evaluations",
    "rectification",
    "calendars",
    "dashboard",
    "reminders",
    # Using the results: budget linkage (预算挂钩).
    "results",
    # Demo and benchmark data (seed_demo, seed_scale): commands only, refused with DEBUG off.
    "devdata",
]

MIDDLEWARE = [
    # First: every later part (lockout, audit trail, logs) must see the real client address.
    "liwan.middleware.TrustedProxyMiddleware",
    "liwan.middleware.RequestContextMiddleware",
    # Each request's own database routing (reads from the replica where a view allows it).
    "liwan.replica.ReplicaMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "liwan.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Whether the session passed the second factor, then: no page (the back-office included)
    # for a session that must and has not (accounts.twofactor).
    "django_otp.middleware.OTPMiddleware",
    "accounts.twofactor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "liwan.middleware.SessionTimeoutMiddleware",
    "liwan.middleware.PasswordExpiryMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
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
                "accounts.context_processors.roles",
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
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiler pays off for long analytical queries, not for page queries:
    # on the 200,000-item ledger it spent 1.9 s compiling a query that runs in 30 ms
    # (BENCHMARKS.md). Off for this application's sessions only.
    # Appended to any options given in DATABASE_URL (a search_path, say). Behind PgBouncer,
    # which refuses startup options, set it on the role instead: ALTER ROLE … SET jit = off.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    if env_bool("LIWAN_DATABASE_JIT_OFF", True):
        _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
if env_str("REPLICA_DATABASE_URL"):
    # A streaming hot standby of the primary. The dashboard, exports and reports read from it
    # when it is close enough behind (liwan.replica); everything else stays on the primary.
    DATABASES["replica"] = dj_database_url.parse(
        env_str("REPLICA_DATABASE_URL"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
    DATABASES["replica"]["OPTIONS"] = {
        **DATABASES["replica"].get("OPTIONS", {}),
        **{k: v for k, v in DATABASES["default"].get("OPTIONS", {}).items() if k == "options"},
        # A standby that does not answer within two seconds is skipped, not waited for.
        "connect_timeout": env_int("LIWAN_REPLICA_CONNECT_TIMEOUT", 2),
    }
    # Tests that run with a replica configured read the primary's test database through it.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["liwan.replica.ReplicaRouter"]
# How far behind the standby may be for others' reads (a person's own writes are always read
# back at once), and how long after a write a person's reads wait for the standby to have it.
LIWAN_REPLICA_MAX_LAG_SECONDS = env_int("LIWAN_REPLICA_MAX_LAG_SECONDS", 5)
LIWAN_REPLICA_STICKY_SECONDS = env_int("LIWAN_REPLICA_STICKY_SECONDS", 300)
# Checks that do not apply here, each added below with its reason.
SILENCED_SYSTEM_CHECKS: list[str] = []
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves several threads (runserver) and the Celery worker at once.
    # SQLite's default journal lets a reader block every writer and starts transactions
    # deferred, so two requests that read then write fail at once with "database is locked"
    # (the busy timeout cannot help a transaction that already holds a read lock). WAL lets
    # readers and one writer work side by side; IMMEDIATE takes the write lock at BEGIN, where
    # the busy timeout applies, so concurrent writers queue instead of failing
    # (tests/test_sqlite_concurrency.py).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": env_int("LIWAN_SQLITE_TIMEOUT_SECONDS", 20),
        }
    )
    # models.W040: SQLite has no covering indexes; the review queue's index is made without
    # its INCLUDE column there (it only saves PostgreSQL a visit to the rows).
    SILENCED_SYSTEM_CHECKS.append("models.W040")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
# The first page after signing in: what waits for this person (我的待办).
LOGIN_REDIRECT_URL = "rectification:worklist"
LOGOUT_REDIRECT_URL = "login"
# Sessions end after 30 minutes idle and 12 hours at most (liwan.middleware).
LIWAN_SESSION_IDLE_SECONDS = env_int("LIWAN_SESSION_IDLE_SECONDS", 30 * 60)
LIWAN_SESSION_MAX_SECONDS = env_int("LIWAN_SESSION_MAX_SECONDS", 12 * 60 * 60)
SESSION_COOKIE_AGE = LIWAN_SESSION_MAX_SECONDS
SESSION_COOKIE_HTTPONLY = True
if env_str("LIWAN_CACHE_URL"):
    # A cache shared by every process (Redis): the dashboard's cached figures and the rendered
    # publications are computed once for all workers, and sessions are read from it — written
    # through to the database (cached_db), so a page costs no session query and a restart of
    # Redis signs nobody out. Without it each process caches for itself and sessions stay in
    # the database only (a per-process cache would keep a signed-out session alive elsewhere).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env_str("LIWAN_CACHE_URL"),
            "KEY_PREFIX": "liwan",
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# The password policy and its reasons (OWASP ASVS and 等保 side by side): SECURITY.md.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "accounts.validators.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("LIWAN_PASSWORD_MIN_LENGTH", 12)},
    },
    {
        "NAME": "accounts.validators.CharacterClassValidator",
        "OPTIONS": {"min_classes": env_int("LIWAN_PASSWORD_MIN_CLASSES", 3)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.MaximumLengthValidator"},
]
# django-axes checks every sign-in (portal and admin) before the password is even tried.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
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
# The plan (整改方案) is due this many days after the item is first assigned (provincial
# practice: about 30 days after the results letter); working days when the switch is on.
LIWAN_PLAN_DUE_DAYS = env_int("LIWAN_PLAN_DUE_DAYS", 30)
LIWAN_PLAN_DUE_IN_WORKING_DAYS = env_bool("LIWAN_PLAN_DUE_IN_WORKING_DAYS", False)
# Evidence uploads.
# Budget linkage (预算挂钩): the advice for next year's budget of a project, by its grade and
# the state of its rectification (none / done / under_way / overdue; results.rules). Advice:
# support 支持, reduce 核减, defer 暂缓, after_rectification 整改后安排. 优 and 良 are funded once
# their problems are dealt with, 中 is cut, 差 is held back. A system check refuses a table with
# a missing or unknown cell. Staff may override the advice of one project, with a reason.
LIWAN_BUDGET_RULES = {
    "优": {
        "none": "support",
        "done": "support",
        "under_way": "support",
        "overdue": "after_rectification",
    },
    "良": {
        "none": "support",
        "done": "support",
        "under_way": "after_rectification",
        "overdue": "after_rectification",
    },
    "中": {
        "none": "reduce",
        "done": "reduce",
        "under_way": "after_rectification",
        "overdue": "defer",
    },
    "差": {"none": "defer", "done": "reduce", "under_way": "defer", "overdue": "defer"},
}

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


# 三色预警: an item not closed is yellow when its deadline is at most this many days away (today
# included), red when overdue, green otherwise.
LIWAN_WARNING_YELLOW_DAYS = env_int("LIWAN_WARNING_YELLOW_DAYS", 7)
# 屡审屡犯: a finding whose title has at least this trigram similarity (pg_trgm's measure, 0–1)
# with one an earlier round found at the same unit, in a shared category, is offered to staff
# as a likely repeat. 0.3 is pg_trgm's own default threshold.
LIWAN_REPEAT_SIMILARITY = float(env_str("LIWAN_REPEAT_SIMILARITY", "0.3"))
# 督办单: the working days a unit is given to answer a supervision slip on its red items.
LIWAN_SUPERVISION_REPLY_WORKING_DAYS = env_int("LIWAN_SUPERVISION_REPLY_WORKING_DAYS", 10)
LIWAN_REMINDER_DAYS_BEFORE = _env_days("LIWAN_REMINDER_DAYS_BEFORE", [7, 3, 1])
LIWAN_REMINDER_OVERDUE_EVERY_DAYS = env_int("LIWAN_REMINDER_OVERDUE_EVERY_DAYS", 7)
LIWAN_REMINDER_ESCALATE_AFTER_DAYS = env_int("LIWAN_REMINDER_ESCALATE_AFTER_DAYS", 15)
LIWAN_REMINDER_STALE_PROGRESS_DAYS = env_int("LIWAN_REMINDER_STALE_PROGRESS_DAYS", 30)
# A submission (待销号) waiting longer than this many working days reminds its reviewers.
LIWAN_REVIEW_REMIND_AFTER_WORKING_DAYS = env_int("LIWAN_REVIEW_REMIND_AFTER_WORKING_DAYS", 5)
# Events older than this when the sweep first sees them are not notified any more (a sweep
# that was down for days does not send stale news); the worklists still show what waits.
LIWAN_NOTIFY_WITHIN_HOURS = env_int("LIWAN_NOTIFY_WITHIN_HOURS", 48)
# Group-robot posts (企业微信 / 粤政易 / 钉钉): seconds to wait for the robot's answer.
LIWAN_WEBHOOK_TIMEOUT_SECONDS = env_int("LIWAN_WEBHOOK_TIMEOUT_SECONDS", 10)
# Delivery: a transient SMTP failure is retried after base * 2**(attempt-1) seconds (capped,
# with jitter) until MAX_ATTEMPTS, then shown as failed in the back-office. 12 attempts span at
# least 3 hours (at most 6): a mail server's maintenance window passes without anyone having
# to press "重新发送" (tests/test_faults.py holds the server down for 30 minutes).
LIWAN_REMINDER_MAX_ATTEMPTS = env_int("LIWAN_REMINDER_MAX_ATTEMPTS", 12)
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
    },
    "exports-expire": {
        "task": "rectification.expire_exports",
        "schedule": 3600,
        "options": {"expires": 3600},
    },
    "snapshots-expire": {
        "task": "rectification.expire_snapshots",
        "schedule": 3600,
        "options": {"expires": 3600},
    },
}
# An export of more rows than this is written by the worker (rectification.export_jobs) and
# kept this many hours; smaller ones download at once.
LIWAN_EXPORT_INLINE_ROWS = env_int("LIWAN_EXPORT_INLINE_ROWS", 20000)
# A keyword search matching more items than this is not counted exactly: its first this many
# are listed (a common word would otherwise be counted over a city's whole ledger).
LIWAN_LEDGER_COUNT_LIMIT = env_int("LIWAN_LEDGER_COUNT_LIMIT", 1000)
LIWAN_EXPORT_KEEP_HOURS = env_int("LIWAN_EXPORT_KEEP_HOURS", 24)
# A closure list (对账销号单) of more items than this is laid out in Word by the worker too (about
# a second per 300 lines), as an export job.
LIWAN_CLOSURE_LIST_INLINE_ITEMS = env_int("LIWAN_CLOSURE_LIST_INLINE_ITEMS", 300)
# A round of more items than this has its repeat problems, its publication draft and its report
# to leaders computed by the worker and stored, and is published by the worker
# (rectification.snapshots); the page shows the stored result, computed again once it is older
# than this many seconds. Smaller rounds are computed (and published) on each request.
LIWAN_ROUND_INLINE_ITEMS = env_int("LIWAN_ROUND_INLINE_ITEMS", 2000)
LIWAN_SNAPSHOT_FRESH_SECONDS = env_int("LIWAN_SNAPSHOT_FRESH_SECONDS", 600)
if CELERY_BROKER_URL == "filesystem://":
    # kombu's filesystem transport needs its folders to exist, and keeps its control (fanout)
    # folder relative to the working directory unless told otherwise.
    CELERY_BROKER_TRANSPORT_OPTIONS["control_folder"] = str(_queue_dir / "control")
    for _folder in ("queue", "processed", "control"):
        (_queue_dir / _folder).mkdir(parents=True, exist_ok=True)


# === Security and production hardening =========================================================
# One block, keyed off DJANGO_DEBUG: the embedded default (DEBUG on, plain http on 127.0.0.1)
# stays as it was; with DJANGO_DEBUG=false the site is served over TLS only and
# `manage.py check --deploy` reports nothing. The threat model and the tests that prove each
# line: SECURITY.md; deployment: docs/operations.md.

# Behind a reverse proxy (nginx…), REMOTE_ADDR is the proxy. With N trusted proxies in front,
# liwan.middleware.TrustedProxyMiddleware takes the client address from X-Forwarded-For (the Nth
# entry from the right, the one our own proxy appended) and the scheme from X-Forwarded-Proto.
# 0, the default, trusts no header: a client cannot forge its address by sending them.
LIWAN_TRUSTED_PROXY_COUNT = env_int("LIWAN_TRUSTED_PROXY_COUNT", 0)
if LIWAN_TRUSTED_PROXY_COUNT > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Headers sent in every mode (they cost nothing on http://127.0.0.1 either).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = True  # no script of ours reads it; forms carry the token
SESSION_COOKIE_SAMESITE = "Lax"  # HttpOnly is set with the session limits above
# Content-Security-Policy (django-csp 4 format). Scripts and styles come from our own static
# files only: no inline <script>, no inline style attributes, no eval. Bootstrap's CSS draws
# its small icons (select arrows, close buttons) as data: SVG images, hence img-src data:.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("LIWAN_SECURE_SSL_REDIRECT", True)
    # A load balancer probes each gunicorn directly over plain http; a redirect to https would
    # read as "unhealthy" (or be followed to the balancer itself). /healthz carries no data.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("LIWAN_HSTS_SECONDS", 365 * 24 * 60 * 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("LIWAN_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("LIWAN_HSTS_PRELOAD", False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # The __Host- prefix makes browsers refuse these cookies unless they are Secure, for this
    # exact host and path /, so a sibling host on the intranet cannot plant or overwrite them.
    SESSION_COOKIE_NAME = "__Host-liwan-session"
    CSRF_COOKIE_NAME = "__Host-liwan-csrf"
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["upgrade-insecure-requests"] = True
    if not SECURE_HSTS_PRELOAD:
        # security.W021 asks for HSTS preloading. The preload list is compiled into public
        # browsers for public domain names; an intranet host (*.gov.cn inside the government
        # network, or an internal name) cannot be on it, and a preload entry could not be
        # withdrawn quickly. HSTS itself (one year, subdomains) is on. LIWAN_HSTS_PRELOAD=true
        # turns preloading on for a public deployment and lifts this silence.
        SILENCED_SYSTEM_CHECKS.append("security.W021")

# Brute force (django-axes): lock a *username from one address* after LIWAN_LOGIN_FAILURE_LIMIT
# failures, for LIWAN_LOGIN_COOLOFF_MINUTES. Locking on the pair, not the address alone, lets a
# colleague behind the same office NAT sign in; not the username alone, so nobody can lock a
# colleague out from elsewhere. Every attempt is recorded (AccessFailureLog, AccessLog).
AXES_FAILURE_LIMIT = env_int("LIWAN_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LIWAN_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# The back-office lists of attempts are ours (accounts.admin), in Chinese, for staff to unlock.
AXES_ENABLE_ADMIN = False
# No "AXES: BEGIN version …" line at every start-up (every management command printed it);
# lockouts and failed sign-ins are still logged (accounts.lockout, the security log).
AXES_VERBOSE = False

# Second factor (TOTP) for evaluation staff and every back-office account: required by default
# in production (等保 level 3 asks two factors of administrators), off in the embedded default so
# the demo accounts sign in with their password alone. A user who enrolled anyway is always
# asked. Five wrong codes count as five failed sign-ins (the lockout above).
LIWAN_REQUIRE_2FA = env_bool("LIWAN_REQUIRE_2FA", not DEBUG)
OTP_TOTP_ISSUER = env_str("LIWAN_2FA_ISSUER", "荔湾区整改台账")

# Passwords: no forced periodic change by default (OWASP ASVS 2.1.10, NIST SP 800-63B); an
# assessor who requires one under 等保 sets the maximum age in days (SECURITY.md explains).
LIWAN_PASSWORD_MAX_AGE_DAYS = env_int("LIWAN_PASSWORD_MAX_AGE_DAYS", 0)

# Uploads: a zip container (docx, xlsx, ofd) may not unpack to more than this, nor hold more
# members; images may not declare more pixels (a "pixel flood" exhausts any image decoder).
LIWAN_UPLOAD_MAX_UNPACKED_BYTES = env_int("LIWAN_UPLOAD_MAX_UNPACKED_BYTES", 200 * 1024 * 1024)
LIWAN_UPLOAD_MAX_ZIP_MEMBERS = env_int("LIWAN_UPLOAD_MAX_ZIP_MEMBERS", 5000)
LIWAN_UPLOAD_MAX_IMAGE_PIXELS = env_int("LIWAN_UPLOAD_MAX_IMAGE_PIXELS", 100_000_000)

# A broker outage must not turn a page into an error: publishing gives up within about a
# second and the caller logs it (the beat sweep catches up from the database).
CELERY_BROKER_CONNECTION_TIMEOUT = env_int("LIWAN_BROKER_CONNECTION_TIMEOUT", 2)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}

# Evidence on S3-compatible object storage (django-storages) by configuration alone; the
# packages are not in requirements.txt by default (docs/operations.md lists the pinned pair).
if env_str("LIWAN_EVIDENCE_STORAGE", "filesystem") == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("LIWAN_S3_BUCKET"),
            "endpoint_url": env_str("LIWAN_S3_ENDPOINT_URL") or None,
            "region_name": env_str("LIWAN_S3_REGION") or None,
            "access_key": env_str("LIWAN_S3_ACCESS_KEY_ID"),
            "secret_key": env_str("LIWAN_S3_SECRET_ACCESS_KEY"),
            "location": env_str("LIWAN_S3_PREFIX", "liwan"),
            # Evidence is private: no public ACL, no unsigned URLs, never overwrite a name.
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# Security events (lockouts, refused uploads) are logged by the "liwan.security" logger at
# WARNING, each line naming the user and client address (liwan.logs.security_event).
# === end of the security block =================================================================
