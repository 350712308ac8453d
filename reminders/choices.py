"""Choice sets of reminders, in a module of their own so the pure rules can use them."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Rule(models.TextChoices):
    """Why a message is sent. Reminders follow dates (their schedule lives in
    ``reminders.rules``); notifications follow an event that hands the item to someone."""

    DUE_SOON = "due_soon", _("Deadline approaching")
    DUE_TODAY = "due_today", _("Due today")
    OVERDUE = "overdue", _("Overdue chase")
    ESCALATED = "escalated", _("Escalation")
    STALE = "stale", _("No progress for a long time")
    REVIEW_WAITING = "review_waiting", _("Submission waiting for review")
    NOBODY_TO_REMIND = "nobody", _("Unit has nobody to remind")
    ASSIGNED = "assigned", _("Assigned")
    RETURNED = "returned", _("Returned to the unit")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    EXTENSION_APPROVED = "extension_approved", _("Extension approved")
    EXTENSION_REJECTED = "extension_rejected", _("Extension rejected")
    SUBMITTED = "submitted", _("Submitted for closure")
    EXTENSION_REQUESTED = "extension_requested", _("Extension requested")


# Rules that follow the deadline: an approved extension (a new deadline) replaces them.
DEADLINE_RULES = frozenset({Rule.DUE_SOON, Rule.DUE_TODAY, Rule.OVERDUE})
# Messages about an event (an audit record): sent as soon as the sweep sees it, not chased.
NOTIFICATION_RULES = frozenset(
    {
        Rule.ASSIGNED,
        Rule.RETURNED,
        Rule.CLOSED,
        Rule.REOPENED,
        Rule.EXTENSION_APPROVED,
        Rule.EXTENSION_REJECTED,
        Rule.SUBMITTED,
        Rule.EXTENSION_REQUESTED,
    }
)
# Addressed to evaluation staff (the bureau); every other rule addresses the unit.
STAFF_RULES = frozenset(
    {
        Rule.ESCALATED,
        Rule.REVIEW_WAITING,
        Rule.NOBODY_TO_REMIND,
        Rule.SUBMITTED,
        Rule.EXTENSION_REQUESTED,
    }
)


class Channel(models.TextChoices):
    """How a message travels. A new channel (SMS, say) is a value here and a sender in
    ``reminders.channels``; planning and the claim-once pipeline stay as they are."""

    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Group robot")


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
    RECIPIENT_MOVED = "moved", _("Recipient no longer responsible for the item")
    NO_WEBHOOK = "no_webhook", _("Group robot no longer configured")
