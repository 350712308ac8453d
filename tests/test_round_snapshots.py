"""Stored computations of a large round (rectification.snapshots): queued once however many ask,
computed by the worker with its progress visible, shown until a newer one is ready, computed
again when out of date or superseded, failures recorded and not retried on every visit, lost
ones and old ones swept."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from liwan import clock
from rectification import snapshots
from rectification.choices import SnapshotKind, SnapshotStatus
from rectification.models import RoundSnapshot, SnapshotRow
from rectification.snapshots import Outcome, Row
from tests import factories

pytestmark = pytest.mark.django_db
KIND = SnapshotKind.REPEATS


@pytest.fixture
def staff():
    return factories.StaffUserFactory()


STATE: dict = {}


def compute(snapshot, progress):  # type: ignore[no-untyped-def]
    """A computation of three rows that reports its progress on the way."""
    STATE["calls"] += 1
    if STATE["fail"]:
        raise RuntimeError("the comparison broke")
    progress(2, 3)
    STATE["progress_seen"].append(
        RoundSnapshot.objects.values_list("status", "done", "total").get(pk=snapshot.pk)
    )
    return Outcome(
        summary={"pairs": 3},
        rows=[Row(item_id=10 + n, other_id=n, score=0.5, data={"n": n}) for n in range(3)],
    )


def changed_meanwhile(snapshot, progress):  # type: ignore[no-untyped-def]
    """``compute``, with a wording saved while it reads the round."""
    snapshots.supersede(kind=KIND, year=snapshot.year)
    return compute(snapshot, progress)


def given_up_meanwhile(snapshot, progress):  # type: ignore[no-untyped-def]
    """``compute``, slow enough for the page to take it for lost meanwhile."""
    RoundSnapshot.objects.filter(pk=snapshot.pk).update(status=SnapshotStatus.FAILED)
    return compute(snapshot, progress)


@pytest.fixture
def computer(monkeypatch):
    """``compute`` in place of the kind's own: ``calls`` counts its runs, ``progress_seen``
    holds what the snapshot said while it ran."""
    STATE.update(calls=0, progress_seen=[], fail=False)
    monkeypatch.setitem(snapshots.COMPUTERS, KIND, f"{__name__}.compute")
    return STATE


def test_the_first_visit_queues_one_computation_and_the_worker_stores_its_rows(
    staff, computer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        shown = snapshots.follow(kind=KIND, year=2024, user=staff)
    assert shown.snapshot is None
    assert shown.refreshing
    stored = RoundSnapshot.objects.get()
    assert stored.status == SnapshotStatus.DONE
    assert (stored.summary, stored.rows, stored.done, stored.total) == ({"pairs": 3}, 3, 3, 3)
    # Its progress was written where the page reads it while it ran.
    assert computer["progress_seen"] == [(SnapshotStatus.RUNNING, 2, 3)]
    assert list(snapshots.rows(stored).values_list("position", "item_id", "data")) == [
        (0, 10, {"n": 0}),
        (1, 11, {"n": 1}),
        (2, 12, {"n": 2}),
    ]
    again = snapshots.follow(kind=KIND, year=2024, user=staff)
    assert again.snapshot == stored
    assert again.pending is None
    assert computer["calls"] == 1


def test_many_visitors_before_the_worker_starts_queue_one_computation(staff, computer):
    first = snapshots.follow(kind=KIND, year=2024, user=staff)
    second = snapshots.follow(kind=KIND, year=2024, user=factories.StaffUserFactory())
    assert first.pending == second.pending
    assert RoundSnapshot.objects.count() == 1
    # A task delivered twice computes once.
    assert snapshots.run(first.pending.pk) is not None
    assert snapshots.run(first.pending.pk) is None
    assert computer["calls"] == 1


def test_an_old_result_stays_on_show_while_a_newer_one_is_computed_then_it_goes(
    settings, staff, computer
):
    settings.LIWAN_SNAPSHOT_FRESH_SECONDS = 600
    old = snapshots.run(snapshots.request(kind=KIND, year=2024, user=staff).pk)
    with time_machine.travel(clock.now() + datetime.timedelta(minutes=5)):
        assert snapshots.follow(kind=KIND, year=2024, user=staff).pending is None
    with time_machine.travel(clock.now() + datetime.timedelta(minutes=11)):
        shown = snapshots.follow(kind=KIND, year=2024, user=staff)
        assert shown.snapshot == old
        assert shown.pending is not None
        assert not shown.refreshing  # there is something to read meanwhile
        new = snapshots.run(shown.pending.pk)
    assert list(RoundSnapshot.objects.all()) == [new]
    assert SnapshotRow.objects.filter(snapshot_id=old.pk).count() == 0


def test_a_superseded_result_is_computed_again_and_only_its_own_years(staff, computer):
    this = snapshots.run(snapshots.request(kind=KIND, year=2024, user=staff).pk)
    other = snapshots.run(snapshots.request(kind=KIND, year=2023, user=staff).pk)
    publication = snapshots.run(
        snapshots.request(kind=SnapshotKind.PUBLICATION, year=2024, user=staff).pk
    )
    snapshots.supersede(kind=KIND, year=2024)
    assert RoundSnapshot.objects.filter(superseded=True).get() == this
    assert snapshots.follow(kind=KIND, year=2024, user=staff).pending is not None
    assert snapshots.follow(kind=KIND, year=2023, user=staff).pending is None
    snapshots.supersede(kind=KIND, year=2023, and_later=True)
    done = RoundSnapshot.objects.filter(status=SnapshotStatus.DONE)
    assert set(done.filter(superseded=True)) == {this, other}
    publication.refresh_from_db()
    assert not publication.superseded


def test_a_failure_is_recorded_and_not_retried_on_every_visit(settings, staff, computer):
    computer["fail"] = True
    failed = snapshots.run(snapshots.request(kind=KIND, year=2024, user=staff).pk)
    assert failed.status == SnapshotStatus.FAILED
    assert "the comparison broke" in failed.error
    assert not SnapshotRow.objects.exists()
    shown = snapshots.follow(kind=KIND, year=2024, user=staff)
    assert (shown.snapshot, shown.pending, shown.failed) == (None, None, failed)
    # Asked for explicitly, it is tried again; later, visiting tries again too.
    assert snapshots.request(kind=KIND, year=2024, user=staff).status == SnapshotStatus.QUEUED
    RoundSnapshot.objects.filter(status=SnapshotStatus.QUEUED).delete()
    with time_machine.travel(clock.now() + datetime.timedelta(minutes=11)):
        assert snapshots.follow(kind=KIND, year=2024, user=staff).pending is not None


def test_a_computation_no_worker_finished_is_failed_and_queued_again(staff, computer):
    lost = snapshots.request(kind=KIND, year=2024, user=staff)
    with time_machine.travel(clock.now() + datetime.timedelta(hours=2)):
        shown = snapshots.follow(kind=KIND, year=2024, user=staff)
    lost.refresh_from_db()
    assert lost.status == SnapshotStatus.FAILED
    assert shown.pending is not None and shown.pending != lost


def test_the_sweep_fails_lost_computations_and_forgets_week_old_results(staff, computer):
    old = snapshots.run(snapshots.request(kind=KIND, year=2023, user=staff).pk)
    lost = snapshots.request(kind=KIND, year=2024, user=staff)
    assert snapshots.expire(now=clock.now() + datetime.timedelta(hours=2)) == 0
    lost.refresh_from_db()
    assert lost.status == SnapshotStatus.FAILED
    assert snapshots.expire(now=clock.now() + datetime.timedelta(days=8)) == 2
    assert not RoundSnapshot.objects.exists()
    assert not SnapshotRow.objects.filter(snapshot_id=old.pk).exists()


def test_a_broker_that_refuses_the_task_fails_the_computation_at_once(
    staff, computer, monkeypatch, django_capture_on_commit_callbacks
):
    from rectification import tasks

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.compute_snapshot, "delay", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        snapshots.follow(kind=KIND, year=2024, user=staff)
    assert RoundSnapshot.objects.get().status == SnapshotStatus.FAILED


def test_a_round_is_stored_above_the_inline_limit(settings):
    settings.LIWAN_ROUND_INLINE_ITEMS = 1
    item = factories.ItemFactory()
    assert not snapshots.stored(item.round_year)
    factories.ItemFactory(
        recommendation__finding__result__round=item.recommendation.finding.result.round
    )
    assert snapshots.stored(item.round_year)


def test_a_change_during_a_computation_leaves_its_result_out_of_date(staff, computer):
    running = snapshots.request(kind=KIND, year=2024, user=staff)
    snapshots.COMPUTERS[KIND] = f"{__name__}.changed_meanwhile"
    done = snapshots.run(running.pk)
    assert done.status == SnapshotStatus.DONE and done.superseded
    assert snapshots.follow(kind=KIND, year=2024, user=staff).pending is not None


def test_a_computation_that_ends_after_it_was_taken_for_lost_keeps_nothing(staff, computer):
    taken = snapshots.request(kind=KIND, year=2024, user=staff)
    snapshots.COMPUTERS[KIND] = f"{__name__}.given_up_meanwhile"
    assert snapshots.run(taken.pk).status == SnapshotStatus.FAILED
    assert not SnapshotRow.objects.exists()


def test_a_running_computation_is_lost_an_hour_after_it_started_not_after_it_was_queued(
    staff, computer
):
    queued = snapshots.request(kind=KIND, year=2024, user=staff)
    with time_machine.travel(clock.now() + datetime.timedelta(minutes=50)):
        RoundSnapshot.objects.filter(pk=queued.pk).update(
            status=SnapshotStatus.RUNNING, started_at=clock.now()
        )
    with time_machine.travel(clock.now() + datetime.timedelta(minutes=70)):
        assert snapshots.follow(kind=KIND, year=2024, user=staff).pending == queued


def test_a_scope_of_hundreds_of_units_is_one_computation_at_a_time(staff, computer):
    scope = ",".join(str(pk) for pk in range(1000, 1600))
    first = snapshots.request(kind=KIND, year=2024, scope=scope, user=staff)
    again = snapshots.request(kind=KIND, year=2024, scope=scope, user=staff)
    assert first == again
    assert RoundSnapshot.objects.get().scope == scope
