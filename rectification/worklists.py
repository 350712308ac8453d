"""我的待办: what waits for this person, the first page after signing in.

Every section is a ledger list with fixed parameters (``selectors.ledger``), so its count is the
count of the list its link opens — the same contract as the dashboard's figures. Units see what
is their move (returned, measures to write, deadlines close or passed); evaluation staff see
what is the bureau's (submissions to review, extension requests to decide, items nobody owns,
units nobody can be reminded at).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import UNIT_ROLES, is_evaluation_staff, is_unit_head, is_unit_member
from evaluations.models import Unit
from rectification.choices import ItemStatus
from rectification.links import ledger_url
from rectification.models import RectificationItem
from rectification.pagination import rows_of
from rectification.selectors import items_visible_to, ledger_rows, ledgers

# Items listed per section; the link opens the whole list.
SHOWN = 8
# Days ahead that count as "due soon" on a unit's worklist.
DUE_SOON_DAYS = 14
# The menu's count is read from the cache for this long (it is on every page).
COUNT_SECONDS = 60


@dataclass
class Section:
    key: str
    title: str
    count: int
    link: str
    items: list[RectificationItem] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)


def _sections(user: User, today: datetime.date) -> list[tuple[str, Any, dict[str, Any]]]:
    """(key, title, ledger parameters) of the sections this person's role has."""
    if is_unit_member(user):
        soon = today + datetime.timedelta(days=DUE_SOON_DAYS)
        head = (
            [
                (
                    "head",
                    _("Submissions to sign off as unit head"),
                    {"status": ItemStatus.HEAD_REVIEW},
                )
            ]
            if is_unit_head(user)
            else []
        )
        return [
            *head,
            ("returned", _("Returned to you"), {"returned": "yes"}),
            ("plan", _("Plans to write or revise"), {"waiting": "plan"}),
            ("milestone", _("Milestones due within 14 days or overdue"), {"waiting": "milestone"}),
            (
                "due_soon",
                _("Due within 14 days"),
                {
                    "waiting": "rectifying",
                    "deadline_after": today,
                    "deadline_before": soon,
                    "sort": "deadline",
                },
            ),
            ("overdue", _("Overdue"), {"waiting": "rectifying", "overdue": "yes"}),
        ]
    if is_evaluation_staff(user):
        return [
            (
                "review",
                _("Submissions waiting for the first review (oldest first)"),
                {"status": ItemStatus.SUBMITTED, "sort": "submitted"},
            ),
            (
                "second_review",
                _("Proposed closures waiting for your second review"),
                {"waiting": "second_review", "sort": "submitted"},
            ),
            ("plans", _("Plans to accept"), {"waiting": "plan_review"}),
            ("milestones", _("Milestones to accept"), {"waiting": "milestone_review"}),
            ("extensions", _("Extension requests to decide"), {"waiting": "extension"}),
            ("follow_ups", _("Follow-up checks due (回头看)"), {"waiting": "follow_up"}),
            ("unassigned", _("Items without owner or deadline"), {"waiting": "assignment"}),
        ]
    return []


def worklist(*, user: User, today: datetime.date) -> list[Section]:
    """The sections of ``user``'s worklist, each with its first items and its count."""
    sections = []
    firsts: dict[str, list[int]] = {}
    listed = _sections(user, today)
    found_lists = ledgers(viewer=user, params=[params for _, _, params in listed], today=today)
    for (key, title, params), found in zip(listed, found_lists, strict=True):
        # The first ids from the bare item table, then their rows (as the ledger's pages):
        # sorting the rows with their joins and subqueries cost 3–6 times as much.
        firsts[key] = list(found.items.values_list("pk", flat=True)[:SHOWN])
        # A section shorter than a full one is counted by its ids: most are empty or nearly,
        # and each count cost a query (≈ 1 ms of compiling and a round trip).
        count = len(firsts[key]) if len(firsts[key]) < SHOWN else found.total
        sections.append(Section(key=key, title=str(title), count=count, link=ledger_url(**params)))
    # Every section's rows in one query: each took as long to plan as to read (≈ 8 ms).
    every = list(dict.fromkeys(pk for ids in firsts.values() for pk in ids))
    visible = ledger_rows(items_visible_to(user), today=today).select_related("returned_by")
    rows = {row.pk: row for row in rows_of(visible, every)}
    for section in sections:
        section.items = [rows[pk] for pk in firsts[section.key] if pk in rows]
    for item in rows.values():
        # How long a submission has waited for the bureau, in days.
        if item.submitted_at:
            item.waiting_days = (today - timezone.localdate(item.submitted_at)).days  # type: ignore[attr-defined]
    if is_evaluation_staff(user):
        units = unreachable_units()
        sections.append(
            Section(
                key="unreachable",
                title=str(_("Units with open items and no account: nobody can be reminded")),
                count=len(units),
                link="",
                units=units,
            )
        )
    return sections


def worklist_count(*, user: User, today: datetime.date) -> int:
    """How many things wait for ``user`` (the menu's badge), cached briefly per person."""
    if not user.is_authenticated:
        return 0
    key = f"liwan:worklist-count:{user.pk}:{today.isoformat()}"
    count = cache.get(key)
    if count is None:
        count = sum(
            found.counts["total"]
            for found in ledgers(
                viewer=user, params=[params for _, _, params in _sections(user, today)], today=today
            )
        )
        if is_evaluation_staff(user):
            count += len(unreachable_units())
        cache.set(key, count, COUNT_SECONDS)
    return count


def unreachable_units() -> list[Unit]:
    """Units with open items and no active account of a unit role: no reminder reaches them
    (unless a group robot is configured), so the bureau must act."""
    members = User.objects.filter(
        unit=OuterRef("pk"), is_active=True, groups__name__in=list(UNIT_ROLES)
    )
    open_items = RectificationItem.objects.filter(unit=OuterRef("pk")).filter(
        ~Q(status=ItemStatus.CLOSED)
    )
    return list(
        Unit.objects.filter(Exists(open_items))
        .exclude(Exists(members))
        .filter(webhook_url="")
        .order_by("name")
    )
