"""Importing a summary table into the ledger: the evaluation data, then the items it brings.

One transaction, all or nothing: ``evaluations.services.write_evaluation_table`` writes what the
evaluation found, then every new recommendation becomes a ledger item (``services.open_items``)
and every changed text an event on the item that answers it. The back-office preview runs the
same import and rolls it back, so it shows exactly what confirming will do.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from evaluations.importing.records import ImportIssue, ImportRejected, ParsedTable
from evaluations.services import ImportReport, write_evaluation_table
from rectification import services, snapshots
from rectification.choices import SnapshotKind
from rectification.repeats import repeat_candidates

if TYPE_CHECKING:
    from accounts.models import User


class _DryRunRollback(Exception):
    pass


def import_evaluation_table(
    *,
    table: ParsedTable,
    deadline: datetime.date | None = None,
    actor: User | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Write ``table`` and open its new items; raise :class:`ImportRejected` (nothing written)
    if it cannot be. With ``dry_run`` the whole import runs and is rolled back (the preview)."""
    if table.issues:
        raise ImportRejected(table.issues)
    try:
        with transaction.atomic():
            report = _import(table, deadline=deadline, actor=actor, dry_run=dry_run)
            if dry_run:
                raise _DryRunRollback(report)
    except _DryRunRollback as rolled_back:
        report = rolled_back.args[0]
    except IntegrityError as exc:
        # Only a concurrent import of the same rows can get here; the caller may simply retry.
        raise ImportRejected(
            [
                ImportIssue(
                    f"文件「{table.source}」", "", f"数据库拒绝写入（可能有人同时在导入）：{exc}"
                )
            ]
        ) from exc
    return report


def _import(
    table: ParsedTable, *, deadline: datetime.date | None, actor: User | None, dry_run: bool
) -> ImportReport:
    written = write_evaluation_table(table=table, dry_run=dry_run)
    services.record_evaluation_changes(
        changes=written.changed_texts, actor=actor, note=f"重新导入 {table.source} 更新了评价内容"
    )
    # Renumbered projects and problems: the existing items' ledger order follows the table.
    services.sync_copies(recommendation__finding__result__round=written.round)
    # New items last: every writer locks the items it changes before the status tallies it
    # shifts (rectification.tallies), and an import that held a tally while it waited for an
    # item could deadlock with a person changing that item.
    items = services.open_items(
        items=[
            {"recommendation": recommendation, "unit": unit, "deadline": deadline}
            for recommendation, unit in written.new_recommendations
        ],
        actor=actor,
        note=f"由 {table.source} 导入生成",
    )
    written.report.items_created = len(items)
    # The stored results of a large round (rectification.snapshots) no longer hold its items;
    # the repeats of later rounds compare with them too.
    snapshots.supersede(kind=SnapshotKind.PUBLICATION, year=written.round.year)
    snapshots.supersede(kind=SnapshotKind.LEADERS_REPORT, year=written.round.year)
    snapshots.supersede(kind=SnapshotKind.REPEATS, year=written.round.year, and_later=True)
    written.report.likely_repeats = [
        (
            candidate.item.unit.name,
            candidate.item.recommendation.finding.title,
            candidate.earlier.recommendation.finding.title,
            candidate.earlier.round_year,
        )
        for candidate in repeat_candidates(year=written.round.year)
    ]
    return written.report
