"""Who may do what to an item, in which state. The one place for the workflow's permissions.

Views ask :func:`permitted_actions` to decide which buttons to show; every service calls
:func:`require` before it changes anything, so a hidden button is also refused on the server.
The workflow (docs/design.md has it drawn):

    待整改 ──plan accepted / progress──▶ 整改中 ──submit──▶ 待负责人确认 ──confirm──▶ 待销号
      ▲                                  ▲  ▲                │ (if the unit has it)       │
      │                                  │  └── head sends back                        初审 first
      │                                  └──────── return (退回) ◀── 待复核 ◀──── review
      │                                                               │ 复核 by another person
      └── reopen, or a relapse found by a follow-up check ◀── 已销号 ◀─┘
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import is_evaluation_staff, is_unit_head, is_unit_member
from rectification.choices import DeadlineConcern, DeadlineSource, ItemStatus

if TYPE_CHECKING:
    from accounts.models import User
    from rectification.models import RectificationItem


class Action(models.TextChoices):
    ASSIGN = "assign", gettext_lazy("Assign owner and deadline")
    PLAN = "plan", gettext_lazy("Submit the rectification plan")
    DECIDE_PLAN = "decide_plan", gettext_lazy("Decide on the plan")
    PROGRESS = "progress", gettext_lazy("Report progress")
    REPORT_MILESTONE = "report_milestone", gettext_lazy("Report a milestone done")
    DECIDE_MILESTONE = "decide_milestone", gettext_lazy("Decide on a milestone")
    SUBMIT = "submit", gettext_lazy("Submit for closure")
    HEAD_SIGNOFF = "head_signoff", gettext_lazy("Sign off as unit head")
    RETURN = "return", gettext_lazy("Return")
    FIRST_REVIEW = "first_review", gettext_lazy("First review")
    SECOND_REVIEW = "second_review", gettext_lazy("Second review and closure")
    REOPEN = "reopen", gettext_lazy("Reopen")
    REQUEST_EXTENSION = "request_extension", gettext_lazy("Request extension")
    DECIDE_EXTENSION = "decide_extension", gettext_lazy("Decide on the extension")
    SCHEDULE_FOLLOW_UP = "schedule_follow_up", gettext_lazy("Schedule a follow-up check")
    RECORD_FOLLOW_UP = "record_follow_up", gettext_lazy("Record a follow-up check")
    RECORD_SUPERVISION = "record_supervision", gettext_lazy("Record a supervision step")
    DECIDE_REPEAT = "decide_repeat", gettext_lazy("Rule on a likely repeat problem")


_RECTIFYING = frozenset(
    {
        Action.ASSIGN,
        Action.PLAN,
        Action.DECIDE_PLAN,
        Action.PROGRESS,
        Action.REPORT_MILESTONE,
        Action.DECIDE_MILESTONE,
        Action.REQUEST_EXTENSION,
        # Staff may close an item the unit never submitted, by decision (未整改), still
        # through both reviews.
        Action.FIRST_REVIEW,
    }
)
# State → actions that state allows, before asking who the user is.
_BY_STATE: dict[str, frozenset[Action]] = {
    ItemStatus.OPEN: _RECTIFYING,
    ItemStatus.IN_PROGRESS: _RECTIFYING | {Action.SUBMIT},
    ItemStatus.HEAD_REVIEW: frozenset({Action.ASSIGN, Action.HEAD_SIGNOFF}),
    ItemStatus.SUBMITTED: frozenset(
        {Action.ASSIGN, Action.RETURN, Action.FIRST_REVIEW, Action.DECIDE_MILESTONE}
    ),
    ItemStatus.SECOND_REVIEW: frozenset({Action.ASSIGN, Action.RETURN, Action.SECOND_REVIEW}),
    ItemStatus.CLOSED: frozenset(
        {Action.REOPEN, Action.SCHEDULE_FOLLOW_UP, Action.RECORD_FOLLOW_UP}
    ),
}
_UNIT_ACTIONS = frozenset(
    {
        Action.PLAN,
        Action.PROGRESS,
        Action.REPORT_MILESTONE,
        Action.SUBMIT,
        Action.REQUEST_EXTENSION,
    }
)
_HEAD_ACTIONS = frozenset({Action.HEAD_SIGNOFF})
_STAFF_ACTIONS = frozenset(
    {
        Action.ASSIGN,
        Action.DECIDE_PLAN,
        Action.DECIDE_MILESTONE,
        Action.RETURN,
        Action.FIRST_REVIEW,
        Action.SECOND_REVIEW,
        Action.REOPEN,
        Action.DECIDE_EXTENSION,
        Action.SCHEDULE_FOLLOW_UP,
        Action.RECORD_FOLLOW_UP,
    }
)


def permitted_actions(*, item: RectificationItem, user: User) -> frozenset[Action]:
    """Actions ``user`` may take on ``item`` right now (state and role; not the form's data).

    Decisions on a pending extension request, plan or milestone depend on that request rather
    than on the item's state, so they are offered to staff whenever the item is not closed; the
    service checks there is something to decide. The four-eyes rule: whoever made the first
    review (初审) may not make the second (复核).
    """
    allowed: set[Action] = set()
    by_state = _BY_STATE[item.status]
    member = is_unit_member(user) and user.unit_id == item.unit_id
    if member:
        allowed |= by_state & _UNIT_ACTIONS
        if is_unit_head(user):
            allowed |= by_state & _HEAD_ACTIONS
    if is_evaluation_staff(user):
        allowed |= by_state & _STAFF_ACTIONS
        if item.status != ItemStatus.CLOSED:
            allowed.add(Action.DECIDE_EXTENSION)
        # The ladder's steps (约谈, 通报, 问责, 领导批示) are the bureau's record of what
        # happened, in any state: accountability often follows a closure.
        allowed.add(Action.RECORD_SUPERVISION)
        # Whether a problem repeats an earlier round's is a fact about the finding, whatever
        # the item's state.
        allowed.add(Action.DECIDE_REPEAT)
        if item.first_reviewer_id == user.pk:
            allowed.discard(Action.SECOND_REVIEW)
    return frozenset(allowed)


def require(*, item: RectificationItem, user: User, action: Action) -> None:
    if action not in permitted_actions(item=item, user=user):
        raise PermissionDenied(
            _("You may not “%(action)s” while the item is “%(status)s”.")
            % {"action": action.label, "status": item.get_status_display()}
        )


def may_act_in_bulk(user: User) -> bool:
    """Bulk actions (批量分派, 批量安排回头看) touch many units' items at once: evaluation staff
    only."""
    return is_evaluation_staff(user)


def deadline_concerns(
    *,
    current: datetime.date | None,
    new: datetime.date | None,
    source: str,
    extension_pending: bool,
    is_overdue: bool,
) -> list[DeadlineConcern]:
    """Why moving an item's deadline from ``current`` to ``new`` needs a stated reason.

    ``source`` is where the current deadline came from; ``is_overdue`` is the item's state by
    ``overdue_q``. The item page and bulk assignment both ask this: a change with concerns is
    refused without a reason, and left out of a bulk assignment unless staff tick it.
    """
    if new == current:
        return []
    concerns = []
    if source == DeadlineSource.EXTENSION and current and (new is None or new < current):
        concerns.append(DeadlineConcern.SHORTENS_EXTENSION)
    if extension_pending:
        concerns.append(DeadlineConcern.EXTENSION_PENDING)
    if is_overdue and current and (new is None or new > current):
        concerns.append(DeadlineConcern.ENDS_OVERDUE)
    return concerns
