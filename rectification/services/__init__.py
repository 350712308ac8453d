"""Every change to a ledger item: one function per workflow transition, and the one writer of
items and of the audit trail.

A transition checks the actor may do it now (``rules.require``), checks the data, locks the row
and detects a stale form (``expected_version``), makes the change, bumps ``version`` and writes
exactly one :class:`~rectification.models.Event`. The modules:

- ``core``: actors, the row lock, the writer of items (``open_items``) and events
  (``record_event``, ``record_events``, ``record_evaluation_changes``, ``escalate_overdue``).
- ``deadlines``: owner and deadline (``assign``; ``_move_deadline``, the one change of a
  deadline), extension requests and their decisions.
- ``work``: the unit's side — plan, progress, milestones, submission, the head's sign-off.
- ``review``: the bureau's side — return, first and second review, reopening, follow-up checks.

Callers use the package: ``from rectification import services; services.assign(...)``.
"""

from rectification.services.core import (
    Actor,
    EventRecord,
    StaleItemError,
    escalate_overdue,
    move_project_items,
    open_items,
    record_evaluation_changes,
    record_event,
    record_events,
    sync_copies,
)
from rectification.services.deadlines import (
    assign,
    concerns_about,
    decide_extension,
    is_overdue_now,
    request_extension,
)
from rectification.services.review import (
    PlannedFollowUp,
    decide_repeat,
    first_review,
    plan_follow_ups,
    record_follow_up,
    record_supervision,
    record_unit_instruction,
    reopen,
    return_item,
    schedule_follow_up,
    schedule_follow_ups,
    second_review,
)
from rectification.services.work import (
    PlannedMilestone,
    add_progress,
    decide_milestone,
    decide_plan,
    head_signoff,
    plan_due_for,
    report_milestone,
    submit,
    submit_plan,
)

__all__ = [
    "Actor",
    "EventRecord",
    "PlannedFollowUp",
    "PlannedMilestone",
    "StaleItemError",
    "add_progress",
    "assign",
    "concerns_about",
    "decide_extension",
    "decide_milestone",
    "decide_plan",
    "decide_repeat",
    "escalate_overdue",
    "first_review",
    "head_signoff",
    "is_overdue_now",
    "move_project_items",
    "open_items",
    "plan_due_for",
    "plan_follow_ups",
    "record_evaluation_changes",
    "record_event",
    "record_events",
    "record_follow_up",
    "record_supervision",
    "record_unit_instruction",
    "reopen",
    "report_milestone",
    "request_extension",
    "return_item",
    "schedule_follow_up",
    "schedule_follow_ups",
    "second_review",
    "submit",
    "submit_plan",
    "sync_copies",
]
