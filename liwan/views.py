"""Site-wide views that belong to no app."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@require_safe
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for a load balancer: the process answers. Touches neither the database nor
    Redis on purpose, so a dependency outage does not take every instance out of rotation
    (the app degrades on its own, docs/operations.md). Also the "minimal Django view" that the
    load benchmark compares the ledger with (BENCHMARKS.md)."""
    return HttpResponse("ok", content_type="text/plain")
