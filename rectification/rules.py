"""Who may do what to an item, in which state. The one place for the workflow's permissions.

Views ask :func:`permitted_actions` to decide which buttons to show; every service calls
:func:`require` before it changes anything, so a hidden button is also refused on the server.

    待整改 open ──measures/progress──▶ 整改中 in_progress ──submit──▶ 待销号 submitted
        ▲                                   ▲                            │       │
        │                                   └──────── return ────────────┘       │ close
        └──────────────── reopen ◀── 已销号 closed ◀──────────────────────────────┘
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import models

from accounts.roles import is_evaluation_staff, is_unit_member
from rectification.choices import ItemStatus

if TYPE_CHECKING:
    from accounts.models import User
    from rectification.models import RectificationItem


class Action(models.TextChoices):
    ASSIGN = "assign", "分配责任人和时限"
    MEASURES = "measures", "填写整改措施"
    PROGRESS = "progress", "报送整改进展"
    SUBMIT = "submit", "提交销号"
    RETURN = "return", "退回"
    CLOSE = "close", "销号"
    REOPEN = "reopen", "重新打开"
    REQUEST_EXTENSION = "request_extension", "申请延期"
    DECIDE_EXTENSION = "decide_extension", "审批延期"


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
            f"当前状态（{item.get_status_display()}）下，您无权执行「{action.label}」"
        )
