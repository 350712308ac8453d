from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rectification import tallies
from rectification.choices import ItemStatus
from rectification.models import RectificationItem, StatusTally
from tests import factories

pytestmark = pytest.mark.django_db


def test_check_passes_when_the_counts_match_the_items(capsys):
    factories.ItemFactory()
    call_command("rebuild_tallies", "--check")
    assert "一致" in capsys.readouterr().out


def test_check_names_what_drifted_and_changes_nothing():
    item = factories.ItemFactory(status=ItemStatus.OPEN)
    RectificationItem.objects.filter(pk=item.pk).update(status=ItemStatus.SUBMITTED)
    with pytest.raises(CommandError) as failed:
        call_command("rebuild_tallies", "--check")
    assert "2 处计数与事项不符" in str(failed.value)
    assert f"单位#{item.unit_id} submitted：计数 0，实有 1" in str(failed.value)
    assert tallies.drift()  # only checked
    call_command("rebuild_tallies")  # leave the database as the suite expects it


def test_rebuilding_counts_every_item_again(capsys):
    factories.ItemFactory(status=ItemStatus.OPEN)
    factories.ItemFactory(status=ItemStatus.SUBMITTED)
    StatusTally.objects.update(items=99)
    call_command("rebuild_tallies")
    assert "已重新统计：2 行" in capsys.readouterr().out
    assert tallies.drift() == {}
    assert sorted(StatusTally.objects.values_list("items", flat=True)) == [1, 1]
