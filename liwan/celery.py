"""The Celery app. Configuration comes from Django settings (``CELERY_*``): kombu's filesystem
transport under var/ by default, Redis in production. Tasks live in each app's ``tasks.py``.

    celery -A liwan worker      # runs the tasks
    celery -A liwan beat        # triggers the periodic ones (CELERY_BEAT_SCHEDULE)
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liwan.settings")

app = Celery("liwan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
