"""Choice sets of reminders, in a module of their own so the pure rules can use them."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Rule(models.TextChoices):
    """Why a reminder is sent. The schedule of each rule lives in ``reminders.rules``."""

    DUE_SOON = "due_soon", _("Deadline approaching")
    DUE_TODAY = "due_today", _("Due today")
    OVERDUE = "overdue", _("Overdue chase")
    ESCALATED = "escalated", _("Escalation")
    STALE = "stale", _("No progress for a long time")


# Rules that follow the deadline: an approved extension (a new deadline) replaces them.
DEADLINE_RULES = frozenset({Rule.DUE_SOON, Rule.DUE_TODAY, Rule.OVERDUE})


class RecipientRole(models.TextChoices):
    TO = "to", _("Recipient")
    CC = "cc", _("Copy")


class ReminderStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("reminder status", "Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not sent")


class SkipReason(models.TextChoices):
    """Why a planned reminder was not sent; shown in the back-office and on the item page."""

    ITEM_CLOSED = "item_closed", _("Item already closed")
    DEADLINE_MOVED = "deadline_moved", _("Deadline changed")
    SUPERSEDED = "superseded", _("Replaced by a newer reminder")
    NO_LONGER_DUE = "no_longer_due", _("No longer due")
    INACTIVE = "inactive", _("Recipient account disabled")
    NO_EMAIL = "no_email", _("Recipient has no e-mail address")
