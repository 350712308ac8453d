"""Server-side latency and queries per request of the main pages, measured in-process.

Each request goes through the whole Django stack (middleware, session, view, template) with the
test client against the benchmark database; the time is the server's, without a network. Query
counts come from the connection's own log for that request.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass

from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from rectification.models import RectificationItem
from rectification.pagination import Cursor
from rectification.views import LedgerListView


@dataclass
class PageTiming:
    page: str
    role: str
    url: str
    requests: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    queries: int
    status: int


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


# A page whose warm-up takes longer than this is measured a few times only (a round's whole
# publication draft, say): its figure is what matters, not a tight percentile.
SLOW_PAGE_SECONDS = 2.0
SLOW_PAGE_REPEAT = 3


def measure(client: Client, page: str, role: str, url: str, repeat: int) -> PageTiming:
    started = time.perf_counter()
    response = client.get(url)  # warm-up: session touch, template and query-plan caches
    if response.status_code != 200:
        raise RuntimeError(f"{url} as {role}: HTTP {response.status_code}")
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    if time.perf_counter() - started > SLOW_PAGE_SECONDS:
        repeat = min(repeat, SLOW_PAGE_REPEAT)
    # Django empties the query log at the start of every request; start from an empty one so
    # the context's "queries since entry" is this request's.
    reset_queries()
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    queries = len(captured)  # now: the context reads the connection's log lazily
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        samples.append((time.perf_counter() - started) * 1000)
    return PageTiming(
        page=page,
        role=role,
        url=url,
        requests=repeat,
        p50_ms=round(statistics.median(samples), 1),
        p95_ms=round(_percentile(samples, 95), 1),
        max_ms=round(max(samples), 1),
        queries=queries,
        status=response.status_code,
    )


def background(*, staff_username: str) -> list[dict]:
    """The worker's computations behind the pages of a large round (``rectification.snapshots``),
    made here as the worker makes them and timed, so that the pages measured next read a fresh
    stored result: the likely repeats, the whole round's publication draft and the report to
    leaders of the newest year."""
    from rectification import snapshots
    from rectification.choices import SnapshotKind
    from rectification.models import RoundSnapshot

    user = User.objects.get(username=staff_username)
    year = RectificationItem.objects.order_by("-round_year").values_list("round_year", flat=True)[0]
    results = []
    for kind in (SnapshotKind.REPEATS, SnapshotKind.PUBLICATION, SnapshotKind.LEADERS_REPORT):
        # Made and run directly, not through the broker: no worker runs during the benchmark.
        RoundSnapshot.objects.filter(kind=kind, year=year, scope="").delete()
        queued = RoundSnapshot.objects.create(kind=kind, year=year, requested_by=user)
        started = time.perf_counter()
        done = snapshots.run(queued.pk)
        results.append(
            {
                "kind": kind.value,
                "year": year,
                "items": done.total,
                "rows": done.rows,
                "seconds": round(time.perf_counter() - started, 1),
                "status": done.status,
            }
        )
    return results


def run(*, repeat: int = 40, staff_username: str, unit_username: str) -> list[dict]:
    results = []
    ledger = reverse("rectification:ledger")
    public = reverse("results:public-index")
    for role, username in (("evaluation staff", staff_username), ("unit staff", unit_username)):
        user = User.objects.get(username=username)
        client = Client()
        client.force_login(user)
        visible = RectificationItem.objects.all() if user.unit_id is None else user.unit.items
        newest = visible.order_by("-recommendation__finding__result__round__year").values_list(
            "recommendation__finding__result__round__year", flat=True
        )[0]
        count = visible.count()
        per_page = LedgerListView.paginate_by
        deep_page = max(1, (count // per_page) * 3 // 4)
        item = visible.filter(status="in_progress").order_by("id").last()
        pages = [
            ("ledger, first page", ledger),
            ("ledger, filtered", f"{ledger}?year={newest}&status=in_progress&overdue=yes"),
            ("ledger, keyword (common: 22% of items)", f"{ledger}?q=台账资料电子化"),
            ("ledger, keyword (selective)", f"{ledger}?q=越秀区财政局"),
            ("ledger, deep page", f"{ledger}?page={deep_page}"),
            # The same page as its neighbour's Next link reaches it, by the cursor of that
            # page's last row (rectification.pagination) rather than by skipping rows.
            (
                "ledger, deep page by its Next link",
                f"{ledger}?page={deep_page}&after="
                + Cursor.of(visible.in_ledger_order()[(deep_page - 1) * per_page - 1]),
            ),
            ("item page", reverse("rectification:item-detail", args=[item.pk])),
            ("worklist (我的待办)", reverse("rectification:worklist")),
            ("dashboard", reverse("dashboard:index")),
            ("dashboard, one year", f"{reverse('dashboard:index')}?year={newest}"),
        ]
        if user.unit_id is None:
            # The bureau's own pages of the results.
            pages += [
                ("budget sheet (预算挂钩)", f"{reverse('results:budget-sheet')}?year={newest}"),
                ("report to leaders", f"{reverse('results:leaders-report')}?year={newest}"),
                ("repeat problems (屡审屡犯)", reverse("rectification:repeats")),
                ("publication draft (整改公开)", f"{reverse('results:publication')}?year={newest}"),
            ]
        else:
            pages.append(
                (
                    "unit report",
                    reverse("dashboard:unit-report", args=[user.unit_id, newest]),
                )
            )
        for page, url in pages:
            results.append(asdict(measure(client, page, role, url, repeat)))
    results.append(asdict(measure(Client(), "published results", "anyone", public, repeat)))
    return results
