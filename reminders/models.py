"""The outbox: one row per message to send — a reminder or a notification, by e-mail or to a
unit's group robot.

- A reminder is keyed by (item, recipient, rule, period): the idempotency key of the chase.
- A notification is keyed by (event, recipient): one message per audit record that hands the
  item to someone (returned, closed, submitted…).
- A group-robot row has a unit instead of a recipient, keyed the same two ways.

The database is the source of truth (docs/design.md, "Reminders"): the sweep plans rows, claims
them with a conditional UPDATE, sends one message per person (or unit) and records the outcome
here. Celery only triggers sweeps; it never carries a message itself.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from reminders.choices import Channel, RecipientRole, ReminderStatus, Rule, SkipReason


class Reminder(models.Model):
    # No index of its own: ``reminder_item_list`` (item, newest first) and the idempotency key
    # begin with the item and serve every lookup by item. The first day's planning inserts
    # ≈ 90,000 rows at a city, and each index is written for each of them.
    item = models.ForeignKey(
        "rectification.RectificationItem",
        verbose_name=_("rectification item"),
        on_delete=models.PROTECT,
        related_name="reminders",
        db_index=False,
    )
    # PROTECT: a person who was reminded stays on record; deactivate accounts, never delete them.
    # Empty for a group-robot message, which goes to ``unit``. No index of its own:
    # ``reminder_sent_per_day`` begins with the recipient.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Recipient"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reminders",
        db_index=False,
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )
    unit = models.ForeignKey(
        "evaluations.Unit",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The audit record a notification tells about; empty for a reminder.
    event = models.ForeignKey(
        "rectification.Event",
        verbose_name=_("about"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The address planned for, then the one actually used: the account's address may change later.
    email = models.EmailField(_("e-mail"), blank=True)
    role = models.CharField(_("recipient role"), max_length=5, choices=RecipientRole.choices)
    rule = models.CharField(_("rule"), max_length=20, choices=Rule.choices)
    # The day this occurrence of the rule began (e.g. deadline − 7, or the first day of an
    # overdue week). With ``rule`` it names the occurrence, so a sweep that runs twice, late or
    # concurrently plans it once.
    period = models.DateField(_("period"))
    # The deadline the reminder was planned against; a different deadline at sending time means
    # an extension moved the schedule and the reminder is dropped.
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    status = models.CharField(
        pgettext_lazy("reminder", "status"),
        max_length=10,
        choices=ReminderStatus.choices,
        default=ReminderStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    # Which sweep holds the row while it is "sending"; the sweep reads back exactly its rows.
    claim_token = models.UUIDField(_("claim token"), null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    skip_reason = models.CharField(
        _("reason not sent"), max_length=20, choices=SkipReason.choices, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reminder e-mail")
        verbose_name_plural = _("reminder e-mail")
        ordering = ["-created_at", "-id"]
        constraints = [
            # The idempotency keys. The first's index also serves the item page.
            models.UniqueConstraint(
                fields=["item", "recipient", "rule", "period"],
                condition=Q(event__isnull=True, channel=Channel.EMAIL),
                name="reminder_once_per_period",
            ),
            models.UniqueConstraint(
                fields=["event", "recipient"],
                condition=Q(event__isnull=False, channel=Channel.EMAIL),
                name="notification_once_per_event",
            ),
            models.UniqueConstraint(
                fields=["item", "unit", "rule", "period"],
                condition=Q(event__isnull=True, channel=Channel.WEBHOOK),
                name="robot_reminder_once_per_period",
            ),
            models.UniqueConstraint(
                fields=["event", "unit"],
                condition=Q(event__isnull=False, channel=Channel.WEBHOOK),
                name="robot_notification_once_per_event",
            ),
            # An e-mail goes to a person, a robot message to a unit.
            models.CheckConstraint(
                condition=Q(channel=Channel.EMAIL, recipient__isnull=False)
                | Q(channel=Channel.WEBHOOK, unit__isnull=False, recipient__isnull=True),
                name="reminder_addressed",
            ),
            models.CheckConstraint(
                condition=Q(status__in=ReminderStatus.values), name="reminder_status_valid"
            ),
            models.CheckConstraint(condition=Q(rule__in=Rule.values), name="reminder_rule_valid"),
            models.CheckConstraint(
                condition=Q(role__in=RecipientRole.values), name="reminder_role_valid"
            ),
            # A skipped row always says why; no other row has a reason.
            models.CheckConstraint(
                condition=(Q(status=ReminderStatus.SKIPPED) & ~Q(skip_reason=""))
                | (~Q(status=ReminderStatus.SKIPPED) & Q(skip_reason="")),
                name="reminder_skip_reason_iff_skipped",
            ),
        ]
        indexes = [
            # send_due_digests: "pending and due now", and the lease check on "sending".
            models.Index(fields=["status", "next_attempt_at"], name="reminder_claim_queue"),
            # send_due_digests: "did this person already get today's digest?"
            models.Index(fields=["recipient", "sent_at"], name="reminder_sent_per_day"),
            # The item page's list of an item's messages, newest first.
            models.Index(fields=["item", "-created_at"], name="reminder_item_list"),
        ]

    def __str__(self) -> str:
        # The item page lists reminders by their str(): when, why, to whom, and what came of it.
        # (reminders_for_item() selects the recipient, so this costs no query there.)
        when = self.sent_at or self.created_at
        stamp = f"{timezone.localtime(when):%Y-%m-%d %H:%M} " if when else ""
        copy = gettext("(copy)") if self.role == RecipientRole.CC else ""
        outcome = self.get_status_display()
        if self.skip_reason:
            outcome += f"：{self.get_skip_reason_display()}"
        to = self.recipient if self.recipient_id else f"{self.unit}（{self.get_channel_display()}）"
        return f"{stamp}{self.get_rule_display()} → {to}{copy} · {outcome}"
