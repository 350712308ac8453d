"""The Celery app. Configuration comes from Django settings (``CELERY_*``): kombu's filesystem
transport under var/ by default, Redis in production. Tasks live in each app's ``tasks.py``.

    celery -A liwan worker      # runs the tasks
    celery -A liwan beat        # triggers the periodic ones (CELERY_BEAT_SCHEDULE)
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_prerun, worker_init, worker_process_init

from liwan import heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liwan.settings")

app = Celery("liwan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def freeze_heap(sender: Any = None, **kwargs: Any) -> None:
    """A prefork worker's parent, once loaded and before it forks its children: what is loaded
    is frozen out of garbage collection here, so the children share those pages
    (liwan/heap.py). A worker without children (``--pool=solo``, the tests') is left alone."""
    pool = getattr(sender, "pool_cls", "")
    if "prefork" in (pool if isinstance(pool, str) else pool.__module__):
        heap.freeze()


@worker_process_init.connect
def collect_between_tasks(**kwargs: Any) -> None:
    """Each child of a prefork worker collects garbage between tasks rather than during them."""
    heap.collect_between(task_prerun)
