"""Choice sets of the ledger, in a module of their own so query helpers can use them too.

Values are stored in the database and never change; labels are English msgids translated by the
catalog (``locale/zh_Hans``), so the interface shows 待整改, 整改中 … in Chinese.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WarningLevel(models.TextChoices):
    """The supervision colour of an item not closed (三色预警): red when overdue, yellow when its
    deadline is within ``LIWAN_WARNING_YELLOW_DAYS``, green otherwise; an item without a
    deadline, or closed, has none (``querysets.warning_q``)."""

    RED = "red", _("Red (overdue)")
    YELLOW = "yellow", _("Yellow (due soon)")
    GREEN = "green", _("Green (on track)")


class SupervisionKind(models.TextChoices):
    """The steps of the escalation ladder past the colours and the 督办单, recorded on an item."""

    INTERVIEW = "interview", _("Interview of the unit head (约谈)")
    CIRCULAR = "circular", _("Circular (通报)")
    ACCOUNTABILITY = "accountability", _("Accountability (问责)")
    INSTRUCTION = "instruction", _("Leader's instruction (领导批示)")


class RepeatStatus(models.TextChoices):
    """Staff's ruling on a likely repeat problem (屡审屡犯) found by ``repeats``."""

    CONFIRMED = "confirmed", _("Repeat problem")
    DISMISSED = "dismissed", _("Not a repeat")


class ItemStatus(models.TextChoices):
    """Where an item is in the workflow (docs/design.md has the diagram). The order is the
    workflow's: lists and counts show the statuses in it."""

    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    # Submitted by the unit's staff, waiting for the unit head's sign-off (负责人确认).
    HEAD_REVIEW = "head_review", _("Awaiting the unit head")
    # At the bureau, waiting for the first review (初审).
    SUBMITTED = "submitted", _("Awaiting closure")
    # Ruled on by a first reviewer, waiting for a second one (复核) to confirm and close.
    SECOND_REVIEW = "second_review", _("Awaiting second review")
    CLOSED = "closed", _("Closed")


# At the bureau: the unit has handed the item over and waits for the reviews, so it is not
# chased then (the bureau's reviewers are, instead).
AT_THE_BUREAU = (ItemStatus.SUBMITTED, ItemStatus.SECOND_REVIEW)


class ClosureOutcome(models.TextChoices):
    """How a closed item ended (cf. GAO's closed-implemented / closed-not-implemented)."""

    RECTIFIED = "rectified", _("Rectified")
    # 持续整改（阶段性完成）: closed for this round, followed up by its roadmap.
    ONGOING = "ongoing", _("Ongoing (stage completed)")
    NOT_RECTIFIED = "not_rectified", _("Not rectified")
    # 不予整改: the unit disagrees or the recommendation no longer applies; needs a written
    # justification and the second reviewer's explicit consent.
    NOT_APPLICABLE = "not_applicable", _("Not to be rectified")
    # Kept for items closed before the two-level review; no longer offered.
    PARTLY = "partly", _("Partly rectified")


# The outcomes a first reviewer may propose.
REVIEW_OUTCOMES = (
    ClosureOutcome.RECTIFIED,
    ClosureOutcome.ONGOING,
    ClosureOutcome.NOT_RECTIFIED,
    ClosureOutcome.NOT_APPLICABLE,
)


class RectificationType(models.TextChoices):
    """整改类型, after the 2021 opinion on a long-term mechanism for rectifying audit findings."""

    IMMEDIATE = "immediate", _("Fix at once")  # 立行立改
    STAGED = "staged", _("Fix in stages")  # 分阶段整改: milestones with their own deadlines
    ONGOING = "ongoing", _("Ongoing")  # 持续整改: a roadmap with yearly measures


class Agreement(models.TextChoices):
    """The unit's view of the finding, stated with its plan."""

    AGREE = "agree", _("Agree")
    PARTLY = "partly", _("Partly agree")
    DISAGREE = "disagree", _("Disagree")


class PlanStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting acceptance")
    ACCEPTED = "accepted", _("Accepted")
    RETURNED = "returned", _("Returned")
    # An accepted plan that a later accepted revision replaced (kept as history).
    SUPERSEDED = "superseded", _("Replaced by a revision")


class MilestoneStatus(models.TextChoices):
    OPEN = "open", _("Open")
    SUBMITTED = "submitted", _("Reported done")
    ACCEPTED = "accepted", _("Accepted")


class FollowUpStatus(models.TextChoices):
    """A re-check after closure (回头看)."""

    SCHEDULED = "scheduled", _("Scheduled")
    PASSED = "passed", _("Holds")
    FAILED = "failed", _("Relapsed")


class VerificationMethod(models.TextChoices):
    DOCUMENT_REVIEW = "document_review", _("Document review")
    SITE_CHECK = "site_check", _("On-site check")
    SAMPLING = "sampling", _("Spot check")


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class EventAction(models.TextChoices):
    CREATED = "created", _("Item created")
    IMPORTED_UPDATE = "import_updated", _("Updated by import")
    ASSIGNED = "assigned", _("Owner/deadline assigned")
    MEASURES = "measures", _("Measures written")
    PROGRESS = "progress", _("Progress reported")
    SUBMITTED = "submitted", _("Submitted for closure")
    RETURNED = "returned", _("Returned")
    CLOSED = "closed", _("Item closed")
    REOPENED = "reopened", _("Reopened")
    EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
    EXTENSION_APPROVED = "extension_approved", _("Extension approved")
    EXTENSION_REJECTED = "extension_rejected", _("Extension rejected")
    ESCALATED = "escalated", _("Escalated")
    EVALUATION_EDITED = "evaluation_edited", _("Evaluation text edited in the back-office")
    UNIT_CHANGED = "unit_changed", _("Responsible unit changed")
    PLAN_SUBMITTED = "plan_submitted", _("Plan submitted")
    PLAN_ACCEPTED = "plan_accepted", _("Plan accepted")
    PLAN_RETURNED = "plan_returned", _("Plan returned")
    MILESTONE_REPORTED = "milestone_reported", _("Milestone reported done")
    MILESTONE_ACCEPTED = "milestone_accepted", _("Milestone accepted")
    MILESTONE_RETURNED = "milestone_returned", _("Milestone returned")
    HEAD_CONFIRMED = "head_confirmed", _("Confirmed by the unit head")
    HEAD_RETURNED = "head_returned", _("Sent back by the unit head")
    FIRST_REVIEWED = "first_reviewed", _("First review")
    SECOND_REVIEW_DECLINED = "second_declined", _("Second review sent it back")
    FOLLOW_UP_SCHEDULED = "follow_up_scheduled", _("Follow-up check scheduled")
    FOLLOW_UP_PASSED = "follow_up_passed", _("Follow-up check: holds")
    FOLLOW_UP_FAILED = "follow_up_failed", _("Follow-up check: relapsed")
    SUPERVISION_RECORDED = "supervision", _("Supervision step recorded")
    REPEAT_CONFIRMED = "repeat_confirmed", _("Confirmed as a repeat problem")
    REPEAT_DISMISSED = "repeat_dismissed", _("Not a repeat problem")


# The records that restart a unit's work on an item — measures written, a plan accepted, the
# item returned by the bureau or by the unit's head: reminders count its quiet days from the
# latest of them (``reminders.selectors``), read through a partial index made for them.
RESTARTING_ACTIONS = (
    EventAction.MEASURES,
    EventAction.PLAN_ACCEPTED,
    EventAction.RETURNED,
    EventAction.HEAD_RETURNED,
)


class DeadlineSource(models.TextChoices):
    """Where the current deadline came from; every change of it records one."""

    IMPORT = "import", _("Set by the import")
    ASSIGNMENT = "assignment", _("Set by evaluation staff")
    BULK_ASSIGNMENT = "bulk", _("Set by bulk assignment")
    EXTENSION = "extension", _("Extension approved")
    REOPENING = "reopening", _("Set on reopening")


class DeadlineConcern(models.TextChoices):
    """Why a deadline change needs a stated reason (and a tick in the bulk preview)."""

    SHORTENS_EXTENSION = "shortens_extension", _("It shortens an approved extension")
    EXTENSION_PENDING = "extension_pending", _("An extension request awaits a decision")
    ENDS_OVERDUE = "ends_overdue", _("The item is overdue; a later deadline ends that")


class ExportKind(models.TextChoices):
    """What a background export writes (``rectification.export_jobs.WRITERS``)."""

    LEDGER = "ledger", _("Ledger export")
    CLOSURE_LIST = "closure_list", _("Closure list (Word)")


class ExportStatus(models.TextChoices):
    """Where a background export is (``export_jobs``)."""

    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Being written")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Deleted after its time")


class SnapshotKind(models.TextChoices):
    """What a stored computation over a whole round holds (``rectification.snapshots``)."""

    REPEATS = "repeats", _("Likely repeat problems")
    PUBLICATION = "publication", _("Publication draft")
    LEADERS_REPORT = "leaders_report", _("Report to leaders")
    # Not a result shown again but a one-off job: publishing a large round (its outcome is the
    # publication, or the reason it was refused).
    PUBLISHING = "publishing", _("Publishing")


class SnapshotStatus(models.TextChoices):
    """Where a stored computation is."""

    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Being computed")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
