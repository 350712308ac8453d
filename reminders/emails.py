"""What a message says: the e-mail digest (one per person per sweep, every item of theirs that
needs attention, with what just happened to it) and the group robot's text."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from rectification.history import describe
from rectification.models import Event, RectificationItem
from reminders.choices import RecipientRole, Rule
from reminders.links import item_url
from reminders.models import Reminder

# Why the person gets a line, strongest first: the order of reasons within one item.
# The order of the reasons in a digest entry: what changed first, then what is due. Every rule
# has its place (tests/test_reminder_emails.py holds it so).
_RULE_ORDER = [
    Rule.RETURNED,
    Rule.HEAD_RETURNED,
    Rule.REVIEW_DECLINED,
    Rule.RELAPSED,
    Rule.REOPENED,
    Rule.EXTENSION_REJECTED,
    Rule.EXTENSION_APPROVED,
    Rule.PLAN_DECIDED,
    Rule.MILESTONE_DECIDED,
    Rule.CLOSED,
    Rule.ASSIGNED,
    Rule.HEAD_SIGNOFF,
    Rule.SUBMITTED,
    Rule.SECOND_REVIEW,
    Rule.PLAN_SUBMITTED,
    Rule.MILESTONE_REPORTED,
    Rule.EXTENSION_REQUESTED,
    Rule.ESCALATED,
    Rule.NOBODY_TO_REMIND,
    Rule.REVIEW_WAITING,
    Rule.OVERDUE,
    Rule.PLAN_OVERDUE,
    Rule.MILESTONE_OVERDUE,
    Rule.DUE_TODAY,
    Rule.DUE_SOON,
    Rule.PLAN_DUE,
    Rule.MILESTONE_DUE,
    Rule.FOLLOW_UP_DUE,
    Rule.STALE,
]


@dataclass(frozen=True)
class DigestEntry:
    item: RectificationItem
    reasons: tuple[str, ...]
    in_copy: bool
    escalation: bool
    url: str
    timing: str
    overdue: bool
    # What just happened to the item (the notifications' events), in words.
    news: tuple[str, ...] = ()
    # The date a plan, milestone or follow-up reminder is about, when it is not the deadline.
    dates: tuple[str, ...] = ()

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


def _day(value: datetime.date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _until(due: datetime.date, today: datetime.date) -> str:
    days = (due - today).days
    if days < 0:
        return f"已逾期 {-days} 天"
    return "今天到期" if days == 0 else f"还剩 {days} 天"


def reminder_dates(item: RectificationItem, rules: set[str], today: datetime.date) -> list[str]:
    """The dates the plan, milestone and follow-up reminders are about: the item's deadline
    alone would mislead (a plan due in 3 days on an item due in 6 months). ``item`` carries
    ``next_milestone`` and ``follow_up_due`` (``selectors.annotate_for_rules``)."""
    lines = []
    if rules & {Rule.PLAN_DUE, Rule.PLAN_OVERDUE} and item.plan_due:
        lines.append(f"整改方案提交期限：{_day(item.plan_due)}（{_until(item.plan_due, today)}）")
    milestone = getattr(item, "next_milestone", None)
    if rules & {Rule.MILESTONE_DUE, Rule.MILESTONE_OVERDUE} and milestone:
        lines.append(f"下一整改节点完成期限：{_day(milestone)}（{_until(milestone, today)}）")
    follow_up = getattr(item, "follow_up_due", None)
    if Rule.FOLLOW_UP_DUE in rules and follow_up:
        lines.append(f"回头看日期：{_day(follow_up)}")
    return lines


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
    # The reasons and news lines are translated text too; they must be in the site's language
    # like the templates, even when the sweep runs inside a request in another language
    # (the back-office's "重新发送" with Celery in eager mode).
    with translation.override(settings.LANGUAGE_CODE):
        return _entries(rows, items, today=today)


def _entries(
    rows: Sequence[Reminder],
    items: Mapping[int, RectificationItem],
    *,
    today: datetime.date,
) -> list[DigestEntry]:
    by_item: dict[int, list[Reminder]] = {}
    for row in rows:
        by_item.setdefault(row.item_id, []).append(row)
    entries = []
    for item_id, item_rows in by_item.items():
        item = items[item_id]
        rules = sorted({row.rule for row in item_rows}, key=_RULE_ORDER.index)
        events = sorted({row.event for row in item_rows if row.event_id}, key=lambda e: e.pk)
        entries.append(
            DigestEntry(
                item=item,
                reasons=tuple(str(Rule(rule).label) for rule in rules),
                in_copy=all(row.role == RecipientRole.CC for row in item_rows),
                escalation=Rule.ESCALATED in rules,
                url=item_url(item_id),
                timing=timing(item, today),
                overdue=bool(item.is_overdue),
                news=tuple(line for event in events for line in news_lines(event)),
                dates=tuple(reminder_dates(item, set(rules), today)),
            )
        )
    far = datetime.date.max
    entries.sort(key=lambda e: (not e.overdue, e.item.deadline or far, e.item.pk))
    return entries


def news_lines(event: Event) -> list[str]:
    """An event as a notification tells it: who did what when, what changed, the reason."""
    described = describe(event)
    when = timezone.localtime(event.created_at)
    who = event.actor.display_name if event.actor_id else "系统"
    lines = [f"{when:%m月%d日 %H:%M} {who}：{event.get_action_display()}"]
    lines += described.changes
    if described.text:
        text = " ".join(described.text.split())
        lines.append(text if len(text) <= 200 else text[:200] + "…")
    return lines


def build_digest(
    *,
    recipient_name: str,
    email: str,
    entries: Sequence[DigestEntry],
    today: datetime.date,
    for_staff: bool = False,
) -> EmailMultiAlternatives:
    """One e-mail; ``for_staff``: the recipient is at the bureau, so the wording asks them to
    review and supervise rather than to rectify."""
    context = {
        "name": recipient_name,
        "today": today,
        "for_staff": for_staff,
        "news": sum(1 for e in entries if e.news),
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


def robot_text(*, unit_name: str, entries: Sequence[DigestEntry], today: datetime.date) -> str:
    """The group robot's message for one unit: short lines, a link per item, within the
    robot's size limit (the rest are counted, with a link to the ledger)."""
    from reminders.channels import ROBOT_MAX_BYTES

    head = f"【整改台账】{unit_name}（{today:%Y年%m月%d日}）"
    tail = f"登录系统查看全部：{settings.SITE_BASE_URL}{reverse('rectification:ledger')}"
    lines = [head]
    shown = 0
    for number, entry in enumerate(entries, start=1):
        block = [
            f"{number}. 【{'、'.join(entry.reasons)}】{entry.project}：{entry.title}",
            f"   整改时限：{entry.item.deadline or '未设定'}（{entry.timing}）",
            *(f"   {line}" for line in entry.dates),
            *(f"   {line}" for line in entry.news),
            f"   {entry.url}",
        ]
        candidate = "\n".join([*lines, *block, tail])
        if len(candidate.encode("utf-8")) > ROBOT_MAX_BYTES and shown:
            break
        lines += block
        shown += 1
    if shown < len(entries):
        lines.append(f"……另有 {len(entries) - shown} 项")
    lines.append(tail)
    return "\n".join(lines)
