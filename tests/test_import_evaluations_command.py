from __future__ import annotations

import pytest
from django.core.management import call_command

from evaluations.models import EvaluationResult, Finding, Recommendation
from rectification.models import RectificationItem
from tests.conftest import FIXTURES

pytestmark = pytest.mark.django_db


def test_it_imports_the_2020_fixture_into_22_items():
    call_command("import_evaluations", str(FIXTURES / "liwan_2020.yaml"))
    assert EvaluationResult.objects.count() == 10
    assert Finding.objects.count() == 22
    assert Recommendation.objects.count() == 22
    assert RectificationItem.objects.count() == 22
