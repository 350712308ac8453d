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
    PLAN_DUE = "plan_due", _("Plan due")
    PLAN_OVERDUE = "plan_overdue", _("Plan overdue")
    MILESTONE_DUE = "milestone_due", _("Milestone due")
    MILESTONE_OVERDUE = "milestone_late", _("Milestone overdue")
    FOLLOW_UP_DUE = "follow_up_due", _("Follow-up check due")
    NOBODY_TO_REMIND = "nobody", _("Unit has nobody to remind")
    ASSIGNED = "assigned", _("Assigned")
    RETURNED = "returned", _("Returned to the unit")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    EXTENSION_APPROVED = "extension_approved", _("Extension approved")
    EXTENSION_REJECTED = "extension_rejected", _("Extension rejected")
    SUBMITTED = "submitted", _("Submitted for closure")
    EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
    PLAN_SUBMITTED = "plan_submitted", _("Plan to accept")
    PLAN_DECIDED = "plan_decided", _("Decision on the plan")
    MILESTONE_REPORTED = "milestone_reported", _("Milestone to accept")
    MILESTONE_DECIDED = "milestone_decided", _("Decision on a milestone")
    HEAD_SIGNOFF = "head_signoff", _("Submission to sign off")
    HEAD_RETURNED = "head_returned", _("Sent back by the unit head")
    SECOND_REVIEW = "second_review", _("Second review to make")
    REVIEW_DECLINED = "review_declined", _("First review sent back")
    RELAPSED = "relapsed", _("Relapse found by a follow-up check")


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
        Rule.PLAN_SUBMITTED,
        Rule.PLAN_DECIDED,
        Rule.MILESTONE_REPORTED,
        Rule.MILESTONE_DECIDED,
        Rule.HEAD_SIGNOFF,
        Rule.HEAD_RETURNED,
        Rule.SECOND_REVIEW,
        Rule.REVIEW_DECLINED,
        Rule.RELAPSED,
    }
)
# Addressed to evaluation staff (the bureau); every other rule addresses the unit.
STAFF_RULES = frozenset(
    {
        Rule.ESCALATED,
        Rule.REVIEW_WAITING,
        Rule.NOBODY_TO_REMIND,
        Rule.FOLLOW_UP_DUE,
        Rule.SUBMITTED,
        Rule.EXTENSION_REQUESTED,
        Rule.PLAN_SUBMITTED,
        Rule.MILESTONE_REPORTED,
        Rule.SECOND_REVIEW,
        Rule.REVIEW_DECLINED,
    }
)
# Unit rules that go to the owner alone, without the head in copy.
OWNER_ONLY_RULES = frozenset({Rule.ASSIGNED, Rule.HEAD_RETURNED})


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
