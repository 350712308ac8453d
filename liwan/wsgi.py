import os

from django.core.wsgi import get_wsgi_application

from liwan import heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liwan.settings")
application = get_wsgi_application()

# Before the first request: the loaded application is frozen out of garbage collection and the
# collector runs after responses, not in the middle of pages (liwan/heap.py).
heap.settle()
