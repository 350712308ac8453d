# Load the Celery app with Django, so @shared_task binds to it and `celery -A liwan` finds it.
from liwan.celery import app as celery_app

__all__ = ("celery_app",)
