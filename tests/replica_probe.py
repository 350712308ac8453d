"""Run by ``tests/test_read_replica.py`` in a process of its own, whose ``DATABASE_URL`` is the
primary and ``REPLICA_DATABASE_URL`` the standby of a streaming pair: plays one scenario through
the whole stack (the test client, the middleware, the router) and prints what it saw as JSON,
for the test to judge.

    python -m tests.replica_probe reads|down
"""

from __future__ import annotations

import datetime
import json
import os
import sys
import time
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liwan.test_settings")

import django

django.setup()

from django.db import connections  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from evaluations.models import Unit  # noqa: E402
from liwan.replica import LSN_COOKIE, REPLICA, replica_reads, replica_usable  # noqa: E402
from rectification.models import RectificationItem  # noqa: E402
from results.publication import wording_hash  # noqa: E402
from tests import factories  # noqa: E402

DRAFT = reverse("results:publication")


def _replica_sql(query: dict[str, Any]) -> bool:
    return "pg_is_in_recovery" not in query["sql"]


def _get(client: Client, url: str) -> dict[str, Any]:
    """GET ``url``: the status, how many of its data queries each database served, the page."""
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[REPLICA]) as replica,
    ):
        response = client.get(url)
    return {
        "status": response.status_code,
        "primary": len(primary),
        "replica": sum(1 for q in replica.captured_queries if _replica_sql(q)),
        "page": response.content.decode(),
    }


def _caught_up() -> None:
    for _ in range(200):
        if replica_usable():
            return
        time.sleep(0.05)
    raise SystemExit("the replica did not catch up")


def _replay(action: str) -> None:
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(f"SELECT pg_wal_replay_{action}()")


def reads() -> dict[str, Any]:
    seen: dict[str, Any] = {}
    staff, colleague = factories.StaffUserFactory(), factories.StaffUserFactory()
    item = factories.ItemFactory(
        deadline=datetime.date.today() + datetime.timedelta(days=30), measures="原来的措施。"
    )
    _caught_up()
    client = Client()
    client.force_login(staff)
    draft = _get(client, DRAFT)
    seen["draft"] = {**draft, "shows": "原来的措施。" in draft["page"]}
    dashboard = _get(client, reverse("dashboard:index"))
    seen["dashboard"] = {k: v for k, v in dashboard.items() if k != "page"}

    # The standby stops replaying: what the primary writes from now on is not on it.
    _replay("pause")
    response = client.post(
        reverse("results:public-wording", args=[item.pk]),
        {
            "problem": item.recommendation.finding.title,
            "measures": "刚刚改写的措施。",
            "document": "",
            "seen": wording_hash(item),
        },
    )
    seen["write"] = {"status": response.status_code, "cookie": LSN_COOKIE in response.cookies}
    after = _get(client, DRAFT)
    seen["own_write"] = {
        "primary": after["primary"],
        "replica": after["replica"],
        "shows": "刚刚改写的措施。" in after["page"],
    }
    other = Client()
    other.force_login(colleague)
    with override_settings(LIWAN_REPLICA_MAX_LAG_SECONDS=3600):
        tolerated = _get(other, DRAFT)
    with override_settings(LIWAN_REPLICA_MAX_LAG_SECONDS=0):
        too_far = _get(other, DRAFT)
    seen["others"] = {
        "tolerated_replica": tolerated["replica"],
        "tolerated_shows_old": "原来的措施。" in tolerated["page"],
        "too_far_replica": too_far["replica"],
        "too_far_shows_new": "刚刚改写的措施。" in too_far["page"],
    }
    # Within one request (here, one block), a read after a write goes to the primary.
    with override_settings(LIWAN_REPLICA_MAX_LAG_SECONDS=3600), replica_reads() as used:
        before = Unit.objects.filter(name="块内新建单位").exists()
        Unit.objects.create(name="块内新建单位")
        seen["block"] = {
            "used": used,
            "before": before,
            "after_write": Unit.objects.filter(name="块内新建单位").exists(),
        }
    _replay("resume")
    _caught_up()
    again = _get(client, DRAFT)
    seen["caught_up"] = {
        "replica": again["replica"],
        "shows": "刚刚改写的措施。" in again["page"],
    }
    # Cut off from the primary, the standby has replayed all it received: it must not pass for
    # level once the primary moves on.
    with connections[REPLICA].cursor() as cursor:
        cursor.execute("ALTER SYSTEM SET primary_conninfo = ''")
        cursor.execute("SELECT pg_reload_conf()")
        for _ in range(200):
            cursor.execute("SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'")
            if not cursor.fetchone()[0]:
                break
            time.sleep(0.05)
    Unit.objects.create(name="断开后新建单位")
    time.sleep(1.5)
    with override_settings(LIWAN_REPLICA_MAX_LAG_SECONDS=1):
        seen["cut_off"] = {"usable": replica_usable()}
    return seen


def down() -> dict[str, Any]:
    client = Client()
    client.force_login(factories.StaffUserFactory())
    if not RectificationItem.objects.exists():  # run on its own (the factories start afresh)
        factories.ItemFactory(deadline=datetime.date.today() + datetime.timedelta(days=30))
    draft = client.get(DRAFT)
    dashboard = client.get(reverse("dashboard:index"))
    return {"draft": draft.status_code, "dashboard": dashboard.status_code}


if __name__ == "__main__":
    setup_test_environment()
    scenario = {"reads": reads, "down": down}[sys.argv[1]]
    print(json.dumps(scenario(), ensure_ascii=False))
