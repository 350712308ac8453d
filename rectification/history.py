"""The audit trail in words: what each event changed, for the item page, the back-office and
the notifications that tell people about it.

An event stores its before/after as data (ids, ISO dates, codes). ``describe`` turns one into
sentences — owner 张三 → 李四; 整改时限 2027-01-15 → 2027-02-28, reason …; the measures text;
the evidence names — so nobody needs to read raw JSON. Owner names are stored beside the ids
since deadline governance; older events carry ids only, which ``describe_all`` resolves in one
query for a whole page.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from accounts.models import User
from rectification.choices import (
    Agreement,
    ClosureOutcome,
    DeadlineConcern,
    DeadlineSource,
    EventAction,
    ItemStatus,
    RectificationType,
    SupervisionKind,
    VerificationMethod,
)
from rectification.models import Event


@dataclass(frozen=True)
class Described:
    """An event in words: ``changes`` are "what: before → after" lines, ``text`` a longer text
    the event carries (measures, a reason, a note), ``files`` evidence names."""

    changes: list[str] = field(default_factory=list)
    text: str = ""
    files: list[str] = field(default_factory=list)


def describe(event: Event, *, names: Mapping[int, str] | None = None) -> Described:
    """``event`` in words. ``names`` (user id → name) resolves owners of events that stored
    only ids; without it such an owner shows as "#id"."""
    before, after = event.before or {}, event.after or {}
    names = names or {}
    changes: list[str] = []
    text = event.note
    files: list[str] = []

    if "owner" in after or "owner" in before:
        old = _person(before.get("owner"), before.get("owner_name"), names)
        new = _person(after.get("owner"), after.get("owner_name"), names)
        if old != new:
            changes.append(_("Owner: %(old)s → %(new)s") % {"old": old, "new": new})
    # A change has both sides; a created or escalated event only states the deadline it had.
    if "deadline" in after and "deadline" in before and before["deadline"] != after["deadline"]:
        changes.append(
            _("Deadline: %(old)s → %(new)s")
            % {"old": _date(before.get("deadline")), "new": _date(after.get("deadline"))}
        )
        source = after.get("deadline_source")
        if source in DeadlineSource.values:
            changes.append(_("Set by: %(source)s") % {"source": DeadlineSource(source).label})
        concerns = [
            str(DeadlineConcern(c).label)
            for c in after.get("concerns", ())
            if c in DeadlineConcern.values
        ]
        if concerns:
            changes.append(_("Needed a reason: %(concerns)s") % {"concerns": "；".join(concerns)})
        reason = after.get("deadline_reason")
        if reason and reason != text:
            changes.append(_("Reason: %(reason)s") % {"reason": reason})
    if "status" in after and before.get("status") != after.get("status"):
        changes.append(
            _("Status: %(old)s → %(new)s")
            % {"old": _status(before.get("status")), "new": _status(after.get("status"))}
        )
    if event.action == EventAction.MEASURES:
        text = after.get("measures", "")
    elif event.action in (EventAction.PROGRESS, EventAction.MILESTONE_REPORTED):
        files = list(after.get("evidence", []))
        if "milestone" in after:
            changes.append(_("Milestone %(n)s") % {"n": after["milestone"]})
    elif event.action == EventAction.PLAN_SUBMITTED:
        text = after.get("measures", "")
        kind = after.get("type")
        if kind in RectificationType.values:
            changes.append(
                _("Plan version %(v)s: %(type)s")
                % {"v": after.get("version", ""), "type": RectificationType(kind).label}
            )
        agreement = after.get("agreement")
        if agreement in Agreement.values:
            changes.append(_("View of the finding: %(a)s") % {"a": Agreement(agreement).label})
        for milestone in after.get("milestones", []):
            changes.append(
                _("Milestone %(n)s: %(title)s, by %(date)s")
                % {
                    "n": milestone.get("number"),
                    "title": milestone.get("title", ""),
                    "date": _date(milestone.get("deadline")),
                }
            )
    elif event.action in (EventAction.PLAN_ACCEPTED, EventAction.PLAN_RETURNED):
        changes.append(_("Plan version %(v)s") % {"v": after.get("version", "")})
    elif event.action in (EventAction.MILESTONE_ACCEPTED, EventAction.MILESTONE_RETURNED):
        changes.append(
            _("Milestone %(n)s: %(title)s")
            % {"n": after.get("milestone", ""), "title": after.get("title", "")}
        )
    elif event.action == EventAction.FIRST_REVIEWED:
        outcome = after.get("outcome")
        if outcome in ClosureOutcome.values:
            changes.append(
                _("Proposed outcome: %(outcome)s") % {"outcome": ClosureOutcome(outcome).label}
            )
    elif event.action in (
        EventAction.FOLLOW_UP_SCHEDULED,
        EventAction.FOLLOW_UP_PASSED,
        EventAction.FOLLOW_UP_FAILED,
    ):
        changes.append(_("Check due on %(date)s") % {"date": _date(after.get("due_on"))})
    elif event.action == EventAction.SUPERVISION_RECORDED:
        kind = after.get("kind")
        if kind in SupervisionKind.values:
            changes.append(
                _("%(step)s on %(date)s, by %(person)s")
                % {
                    "step": SupervisionKind(kind).label,
                    "date": _date(after.get("date")),
                    "person": after.get("person", ""),
                }
            )
        if after.get("document"):
            changes.append(_("Document: %(number)s") % {"number": after["document"]})
    elif event.action in (EventAction.REPEAT_CONFIRMED, EventAction.REPEAT_DISMISSED):
        changes.append(
            _("Earlier problem: %(year)s, %(finding)s")
            % {"year": after.get("year", ""), "finding": after.get("finding", "")}
        )
    elif event.action == EventAction.SUBMITTED and after.get("result"):
        text = after["result"]
    elif event.action == EventAction.CLOSED:
        outcome = after.get("outcome")
        if outcome in ClosureOutcome.values:
            changes.append(_("Outcome: %(outcome)s") % {"outcome": ClosureOutcome(outcome).label})
        method = after.get("method")
        if method in VerificationMethod.values:
            changes.append(
                _("Verified by way of: %(method)s — %(who)s, %(date)s")
                % {
                    "method": VerificationMethod(method).label,
                    "who": after.get("verified_by", ""),
                    "date": _date(after.get("verified_on")),
                }
            )
    elif event.action == EventAction.EXTENSION_REQUESTED:
        requested = _date(after.get("requested_deadline"))
        changes.append(_("Asks for a new deadline: %(date)s") % {"date": requested})
    elif event.action == EventAction.UNIT_CHANGED:
        changes.append(
            _("Responsible unit: %(old)s → %(new)s")
            % {"old": before.get("unit", ""), "new": after.get("unit", "")}
        )
    elif event.action in (EventAction.IMPORTED_UPDATE, EventAction.EVALUATION_EDITED):
        for part, label in (("finding", _("Problem")), ("recommendation", _("Recommendation"))):
            old_text, new_text = before.get(part) or {}, after.get(part) or {}
            # The title, the body or both: only what changed, so no line reads "A → A".
            for key in ("title", "body"):
                if old_text.get(key, "") != new_text.get(key, ""):
                    changes.append(
                        _("%(what)s: %(old)s → %(new)s")
                        % {
                            "what": label,
                            "old": old_text.get(key, ""),
                            "new": new_text.get(key, ""),
                        }
                    )
    if after.get("relapse"):
        changes.append(_("Marked as a relapse"))
    if event.action == EventAction.CREATED and after.get("deadline"):
        changes.append(_("Deadline: %(date)s") % {"date": _date(after["deadline"])})
        source = after.get("deadline_source")
        if source in DeadlineSource.values:
            changes.append(_("Set by: %(source)s") % {"source": DeadlineSource(source).label})
    return Described(changes=changes, text=text, files=files)


def describe_all(events: Iterable[Event]) -> list[tuple[Event, Described]]:
    """Every event of a page in words, resolving stored owner ids in one query."""
    events = list(events)
    ids = {
        value
        for event in events
        for side in (event.before or {}, event.after or {})
        if not side.get("owner_name") and isinstance(value := side.get("owner"), int)
    }
    names = {user.pk: user.display_name for user in User.objects.filter(pk__in=ids)} if ids else {}
    return [(event, describe(event, names=names)) for event in events]


def _person(user_id: Any, name: Any, names: Mapping[int, str]) -> str:
    if not user_id:
        return _("nobody")
    return str(name or names.get(user_id) or f"#{user_id}")


def _date(value: Any) -> str:
    if not value:
        return _("none")
    try:
        return datetime.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        return str(value)


def _status(value: Any) -> str:
    return str(ItemStatus(value).label) if value in ItemStatus.values else str(value or "—")
