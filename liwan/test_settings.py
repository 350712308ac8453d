"""Settings for the test suite: the real settings, made fast and hermetic.

The database is still whatever ``DATABASE_URL`` says (PostgreSQL in CI), because the suite must
exercise the real database; only the expensive or outward-facing parts are swapped.
"""

import tempfile
from pathlib import Path

from liwan.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
_tmp = Path(tempfile.mkdtemp(prefix="liwan-test-"))
MEDIA_ROOT = _tmp / "media"
CELERY_TASK_ALWAYS_EAGER = True
SITE_BASE_URL = "http://testserver"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
STATIC_ROOT = _tmp / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
