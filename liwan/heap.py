"""How a web or worker process runs Python's cyclic garbage collector (``settle``).

A page builds thousands of model instances that point at each other (a related object's cache
points back at the instance that loaded it), and such cycles are freed only by the cyclic
collector, not when the page is done. Left to its defaults the collector ran inside pages:
every dozen requests or so a full collection walked the ≈ 150,000 objects of the loaded
application too, a pause of 100–160 ms in whichever page it fell on (the slow tail of
BENCHMARKS.md), ≈ 6–7 ms a request on average. Instead:

- what is loaded at start-up lives as long as the process: it is frozen out of every later
  collection (``freeze``; the URL configuration with every view and the translation catalogs
  are loaded first, as the first request would load them);
- inside a request the collector waits for ``YOUNG_OBJECTS`` new objects: a bound on what a
  request that builds very many can leave, not a pause in every page;
- as the next request starts, the previous one's garbage is collected (the young generations
  only: by then nothing refers to it any more, whereas while its response is being closed its
  objects are still alive and would be promoted to the old generation); every
  ``OLD_EVERY``-th time, the old generation too, so that what outlived a request and died later
  is freed as well. ≈ 1.5 ms a request on average, pauses of at most ≈ 20–25 ms, in the
  request that starts (measured in-process, BENCHMARKS.md).

A web worker settles once loaded (``liwan.wsgi``); a Celery worker freezes in its parent
before forking, so its children share those pages, and each child collects between tasks
(``liwan.celery``: the day's reminder planning spent 0.7 s of its 5.6 in 1,300 collections).
The test suite keeps Python's defaults. This is CPython 3.11–3.13's generational collector;
3.14's incremental one counts differently, so there only the freeze applies.
"""

from __future__ import annotations

import gc
import sys
from typing import Any

from django.core.signals import request_started

# New container objects (allocations less deallocations) before the collector runs inside a
# request. A ledger page leaves ≈ 5,000, the budget sheet ≈ 19,000: pages stay below it, an
# import or an export of many rows does not.
YOUNG_OBJECTS = 50_000
# Fewer new objects than this since the last collection (``/healthz`` leaves 200): leave them
# for a later request.
FEW_OBJECTS = 2_000
# Young collections between two collections of the old generation (which walk everything
# that outlived a request since start-up and is not frozen).
OLD_EVERY = 100
GENERATIONAL = sys.version_info < (3, 14)


def settle(*, between: Any = request_started) -> None:
    """A process that serves requests (or what ``between`` signals: another signal with
    ``connect``), once loaded: freeze what is loaded and collect between requests."""
    freeze()
    collect_between(between)


def freeze() -> None:
    """Load what every request would, then move everything alive out of the collector's reach
    for good."""
    from django.conf import settings
    from django.urls import get_resolver
    from django.utils import translation

    get_resolver().url_patterns  # noqa: B018 — imports every view module
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("")  # loads the language's catalogs
    gc.collect()
    gc.freeze()


def collect_between(between: Any) -> None:
    """Collect as each request (task) starts rather than in the middle of one."""
    if not GENERATIONAL:
        return
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, middle, old)
    between.connect(collect_between_requests, dispatch_uid="liwan.heap")


def collect_between_requests(**kwargs: Any) -> None:
    """The previous requests' garbage, before this request makes its own."""
    young, _, collections_since_old = gc.get_count()
    if young >= FEW_OBJECTS:
        gc.collect(2 if collections_since_old >= OLD_EVERY else 1)
