from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from tests import factories
from tests.services import CHROMIUM, redis_available, require

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(autouse=True)
def _require_services(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres"):
        require(
            connection.vendor == "postgresql",
            "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/liwan",
        )
    if request.node.get_closest_marker("redis"):
        require(redis_available(), "needs a Redis server at REDIS_URL (default 127.0.0.1:6379)")
    if request.node.get_closest_marker("browser"):
        require(bool(CHROMIUM), "needs Chromium (apt-get install chromium) for browser tests")


@pytest.fixture(autouse=True)
def _tallies_stay_exact(request: pytest.FixtureRequest):
    """After every test that used the database, the items per (year, unit, status) kept by the
    writers equal a live count: a writer that forgets them fails whichever test drives it."""
    uses_db = bool(request.node.get_closest_marker("django_db"))
    if not uses_db:
        # A test that reaches the database through a fixture: set it up inside this one, so
        # that it is still open when the check runs.
        for name in ("transactional_db", "db"):
            if name in request.fixturenames:
                request.getfixturevalue(name)
                uses_db = True
                break
    yield
    if uses_db:
        from rectification import tallies

        assert tallies.drift() == {}, "the status tallies drifted from the items"


@pytest.fixture
def liwan_2020(db):
    """The shipped 2020 table, imported as `make run` does."""
    from evaluations.importing import read_table
    from rectification.imports import import_evaluation_table

    path = FIXTURES / "liwan_2020.yaml"
    return import_evaluation_table(table=read_table(path.name, path.read_bytes()))


@pytest.fixture
def unit(db):
    return factories.UnitFactory()


@pytest.fixture
def staff_user(db):
    return factories.StaffUserFactory()


@pytest.fixture(autouse=True)
def _default_language():
    """A request through the locale middleware leaves its language active in the thread; every
    test starts from the site default so messages compare in Chinese."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
