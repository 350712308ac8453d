"""The Celery app. Configuration comes from Django settings (``CELERY_*``): kombu's filesystem
transport under var/ by default, Redis in production. Tasks live in each app's ``tasks.py``.

    celery -A liwan worker      # runs the tasks
    celery -A liwan beat        # triggers the periodic ones (CELERY_BEAT_SCHEDULE)
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_prerun, worker_process_init

from liwan import heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liwan.settings")

app = Celery("liwan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def settle_heap(**kwargs: Any) -> None:
    """Each worker process, once loaded, collects garbage between tasks (liwan/heap.py); the
    development worker (``--pool=solo``) keeps Python's defaults."""
    heap.settle(between=task_prerun)
