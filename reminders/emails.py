"""The daily digest: one e-mail per person with every item of theirs that needs attention."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from rectification.models import RectificationItem
from reminders.choices import RecipientRole, Rule
from reminders.links import item_url
from reminders.models import Reminder

# Why the person gets a line, strongest first: the order of reasons within one item.
_RULE_ORDER = [Rule.ESCALATED, Rule.OVERDUE, Rule.DUE_TODAY, Rule.DUE_SOON, Rule.STALE]


@dataclass(frozen=True)
class DigestEntry:
    item: RectificationItem
    reasons: tuple[str, ...]
    in_copy: bool
    escalation: bool
    url: str
    timing: str
    overdue: bool

    @property
    def unit(self) -> str:
        return self.item.unit.name

    @property
    def project(self) -> str:
        return self.item.recommendation.finding.result.project.name

    @property
    def year(self) -> int:
        return self.item.recommendation.finding.result.round.year

    @property
    def title(self) -> str:
        return self.item.recommendation.title


def timing(item: RectificationItem, today: datetime.date) -> str:
    """Days left or overdue, as the mail says it (``item`` carries ``is_overdue``)."""
    if item.deadline is None:
        return "未设定整改时限"
    if item.is_overdue:
        return f"已逾期 {(today - item.deadline).days} 天"
    days_left = (item.deadline - today).days
    if days_left == 0:
        return "今天到期"
    return f"还剩 {days_left} 天" if days_left > 0 else "已销号"


# Items listed in one e-mail; the digest counts and links to the others.
DIGEST_MAX_ITEMS = 200


def digest_entries(
    rows: Sequence[Reminder],
    items: Mapping[int, RectificationItem],
    *,
    today: datetime.date,
) -> list[DigestEntry]:
    """One entry per item (several rules may apply to it), most urgent first."""
    by_item: dict[int, list[Reminder]] = {}
    for row in rows:
        by_item.setdefault(row.item_id, []).append(row)
    entries = []
    for item_id, item_rows in by_item.items():
        item = items[item_id]
        rules = sorted({row.rule for row in item_rows}, key=_RULE_ORDER.index)
        entries.append(
            DigestEntry(
                item=item,
                reasons=tuple(str(Rule(rule).label) for rule in rules),
                in_copy=all(row.role == RecipientRole.CC for row in item_rows),
                escalation=Rule.ESCALATED in rules,
                url=item_url(item_id),
                timing=timing(item, today),
                overdue=bool(item.is_overdue),
            )
        )
    far = datetime.date.max
    entries.sort(key=lambda e: (not e.overdue, e.item.deadline or far, e.item.pk))
    return entries


def build_digest(
    *, recipient_name: str, email: str, entries: Sequence[DigestEntry], today: datetime.date
) -> EmailMultiAlternatives:
    context = {
        "name": recipient_name,
        "today": today,
        # A digest lists the most urgent items only: the first sweep after a year's import can
        # escalate tens of thousands at once, and a message of tens of MB is refused by mail
        # servers (a permanent failure). The rest are on the ledger, one click away.
        "entries": entries[:DIGEST_MAX_ITEMS],
        "more": max(0, len(entries) - DIGEST_MAX_ITEMS),
        "ledger_url": f"{settings.SITE_BASE_URL}{reverse('rectification:ledger')}",
        "total": len(entries),
        "overdue": sum(1 for e in entries if e.overdue),
        "escalations": sum(1 for e in entries if e.escalation),
        "site_url": settings.SITE_BASE_URL,
    }
    # A worker has no request to take a language from; the mail is in the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("emails/reminders/digest_subject.txt", context)
        body = render_to_string("emails/reminders/digest.txt", context)
        html = render_to_string("emails/reminders/digest.html", context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(html, "text/html")
    return message
