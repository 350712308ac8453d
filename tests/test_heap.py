"""The web process's garbage collection (liwan/heap.py): the loaded application frozen, the
collector run between requests rather than in the middle of pages."""

from __future__ import annotations

import gc
import weakref
from types import SimpleNamespace

import pytest
from celery.signals import task_prerun
from django.core.signals import request_started

from liwan import heap
from liwan.celery import collect_between_tasks, freeze_heap

pytestmark = pytest.mark.django_db


class Node:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def restored():
    threshold = gc.get_threshold()
    yield
    request_started.disconnect(dispatch_uid="liwan.heap")
    task_prerun.disconnect(dispatch_uid="liwan.heap")
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.fixture
def settled(restored):
    heap.settle()
    gc.collect()


def _garbage(count: int) -> weakref.ref:
    nodes = [Node() for _ in range(count)]
    first = weakref.ref(nodes[0])
    del nodes
    return first


def test_settling_freezes_what_is_loaded_and_lets_a_page_allocate_without_collections(settled):
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == heap.YOUNG_OBJECTS
    left = _garbage(heap.FEW_OBJECTS * 2)
    assert left() is not None  # no collection while "a page" builds its objects


def test_the_previous_requests_garbage_is_freed_as_the_next_request_starts(settled, client):
    left = _garbage(heap.FEW_OBJECTS)

    client.get("/healthz")

    assert left() is None


def test_a_request_that_left_little_is_not_followed_by_a_collection(settled, client):
    left = _garbage(10)

    client.get("/healthz")

    assert left() is not None
    gc.collect()
    assert left() is None


def test_what_died_after_reaching_the_old_generation_is_freed_every_hundredth_time(settled, client):
    old = [Node() for _ in range(10)]
    gc.collect(1)  # survivors of a young collection move to the old generation
    left = weakref.ref(old[0])
    del old
    freed_after = None
    for request in range(1, heap.OLD_EVERY + 3):
        _garbage(heap.FEW_OBJECTS)
        client.get("/healthz")
        if left() is None:
            freed_after = request
            break

    # Not by the young collections before it, and not later than the hundredth.
    assert freed_after is not None
    assert heap.OLD_EVERY - 1 <= freed_after <= heap.OLD_EVERY + 1


def test_a_prefork_workers_parent_freezes_and_its_children_collect_between_tasks(restored):
    gc.unfreeze()
    freeze_heap(sender=SimpleNamespace(pool_cls="solo"))
    assert gc.get_freeze_count() == 0  # a worker without children is left alone

    freeze_heap(sender=SimpleNamespace(pool_cls="prefork"))
    assert gc.get_freeze_count() > 0
    collect_between_tasks()
    gc.collect()
    left = _garbage(heap.FEW_OBJECTS)

    task_prerun.send(sender=None, task_id="t", task=None, args=(), kwargs={})

    assert left() is None
    assert gc.get_threshold()[0] == heap.YOUNG_OBJECTS
