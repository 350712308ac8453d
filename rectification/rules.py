"""Who may do what to an item, in which state. The one place for the workflow's permissions.

Views ask :func:`permitted_actions` to decide which buttons to show; every service calls
:func:`require` before it changes anything, so a hidden button is also refused on the server.

    待整改 open ──measures/progress──▶ 整改中 in_progress ──submit──▶ 待销号 submitted
        ▲                                   ▲                            │       │
        │                                   └──────── return ────────────┘       │ close
        └──────────────── reopen ◀── 已销号 closed ◀──────────────────────────────┘
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import is_evaluation_staff, is_unit_member
from rectification.choices import DeadlineConcern, DeadlineSource, ItemStatus

if TYPE_CHECKING:
    from accounts.models import User
    from rectification.models import RectificationItem


class Action(models.TextChoices):
    ASSIGN = "assign", gettext_lazy("Assign owner and deadline")
    MEASURES = "measures", gettext_lazy("Write rectification measures")
    PROGRESS = "progress", gettext_lazy("Report progress")
    SUBMIT = "submit", gettext_lazy("Submit for closure")
    RETURN = "return", gettext_lazy("Return")
    CLOSE = "close", gettext_lazy("Close the item")
    REOPEN = "reopen", gettext_lazy("Reopen")
    REQUEST_EXTENSION = "request_extension", gettext_lazy("Request extension")
    DECIDE_EXTENSION = "decide_extension", gettext_lazy("Decide on the extension")


# State → actions that state allows, before asking who the user is.
_BY_STATE: dict[str, frozenset[Action]] = {
    ItemStatus.OPEN: frozenset(
        {Action.ASSIGN, Action.MEASURES, Action.PROGRESS, Action.REQUEST_EXTENSION, Action.CLOSE}
    ),
    ItemStatus.IN_PROGRESS: frozenset(
        {
            Action.ASSIGN,
            Action.MEASURES,
            Action.PROGRESS,
            Action.SUBMIT,
            Action.REQUEST_EXTENSION,
            Action.CLOSE,
        }
    ),
    ItemStatus.SUBMITTED: frozenset({Action.ASSIGN, Action.RETURN, Action.CLOSE}),
    ItemStatus.CLOSED: frozenset({Action.REOPEN}),
}
_UNIT_ACTIONS = frozenset(
    {Action.MEASURES, Action.PROGRESS, Action.SUBMIT, Action.REQUEST_EXTENSION}
)
_STAFF_ACTIONS = frozenset(
    {Action.ASSIGN, Action.RETURN, Action.CLOSE, Action.REOPEN, Action.DECIDE_EXTENSION}
)


def permitted_actions(*, item: RectificationItem, user: User) -> frozenset[Action]:
    """Actions ``user`` may take on ``item`` right now (state and role; not the form's data).

    Extension decisions depend on a pending request rather than the item's state, so they are
    offered to staff whenever the item is not closed; the service checks for the request.
    """
    allowed: set[Action] = set()
    by_state = _BY_STATE[item.status]
    if is_unit_member(user) and user.unit_id == item.unit_id:
        allowed |= by_state & _UNIT_ACTIONS
    if is_evaluation_staff(user):
        allowed |= by_state & _STAFF_ACTIONS
        if item.status != ItemStatus.CLOSED:
            allowed.add(Action.DECIDE_EXTENSION)
    return frozenset(allowed)


def require(*, item: RectificationItem, user: User, action: Action) -> None:
    if action not in permitted_actions(item=item, user=user):
        raise PermissionDenied(
            _("You may not “%(action)s” while the item is “%(status)s”.")
            % {"action": action.label, "status": item.get_status_display()}
        )


def may_bulk_assign(user: User) -> bool:
    """Bulk assignment (批量分派) touches many units' items at once: evaluation staff only."""
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
