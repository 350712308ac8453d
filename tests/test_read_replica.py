"""Reads from a read replica, against a real streaming replica: a primary and a hot standby
started for this test (``tests/pg_cluster.py``), the application migrated onto the primary,
and the scenarios of ``tests/replica_probe.py`` played in a process configured with both.

The reports read from the standby; a person's own write is read back at once even while the
standby lags (its replay paused); others read the standby while it is within the allowed lag
and the primary beyond it; a read after a write in one request stays on the primary; a standby
cut off from the primary is not taken for level; with the standby down, every page still
answers from the primary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.pg_cluster import Pair, pg_bin, stop, streaming_pair

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    pg_bin() is None and not os.environ.get("CI"),
    reason="needs the PostgreSQL server binaries (initdb, pg_basebackup) to start a replica",
)


@pytest.fixture(scope="module")
def folder() -> Path:
    # Not under pytest's temporary folder: as root that is closed to the postgres account.
    return Path(tempfile.mkdtemp(prefix="liwan-replica-"))


@pytest.fixture(scope="module")
def pair(folder: Path):  # type: ignore[no-untyped-def]
    with streaming_pair(folder) as started:
        _run(started, "manage.py", "migrate", "--noinput", "-v0")
        yield started


def _run(pair: Pair, *command: str) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": pair.primary_url,
        "REPLICA_DATABASE_URL": pair.replica_url,
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _probe(pair: Pair, scenario: str) -> dict:  # type: ignore[type-arg]
    return json.loads(_run(pair, "-m", "tests.replica_probe", scenario).strip().splitlines()[-1])


def test_reports_read_from_the_replica_and_a_persons_writes_are_read_back_at_once(pair):
    seen = _probe(pair, "reads")
    # The draft and the dashboard read their data from the standby, the session and the user
    # from the primary.
    assert seen["draft"]["status"] == 200 and seen["draft"]["shows"]
    assert seen["draft"]["replica"] > 0
    assert seen["dashboard"]["status"] == 200 and seen["dashboard"]["replica"] > 0
    # The standby paused: the writer's next page reads the primary and shows the change.
    assert seen["write"] == {"status": 302, "cookie": True}
    assert seen["own_write"]["shows"]
    assert seen["own_write"]["replica"] == 0
    # Someone else reads the lagging standby while the lag is allowed (the old text), the
    # primary once it is not.
    assert seen["others"]["tolerated_replica"] > 0 and seen["others"]["tolerated_shows_old"]
    assert seen["others"]["too_far_replica"] == 0 and seen["others"]["too_far_shows_new"]
    # In one request, a read after a write goes to the primary.
    assert seen["block"] == {"used": True, "before": False, "after_write": True}
    # Replay resumed and caught up: the writer reads the standby again, with the change.
    assert seen["caught_up"]["replica"] > 0 and seen["caught_up"]["shows"]
    # Cut off from the primary while it writes on: too far behind, whatever it received.
    assert seen["cut_off"] == {"usable": False}


def test_with_the_replica_down_the_pages_answer_from_the_primary(pair, folder):
    stop(folder, "replica")
    assert _probe(pair, "down") == {"draft": 200, "dashboard": 200}
