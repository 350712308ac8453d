"""Choice sets of the ledger, in a module of their own so query helpers can use them too.

Values are stored in the database and never change; labels are English msgids translated by the
catalog (``locale/zh_Hans``), so the interface shows 待整改, 整改中 … in Chinese.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ItemStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    SUBMITTED = "submitted", _("Awaiting closure")
    CLOSED = "closed", _("Closed")


class ClosureOutcome(models.TextChoices):
    """How a closed item ended (cf. GAO's closed-implemented / closed-not-implemented)."""

    RECTIFIED = "rectified", _("Rectified")
    PARTLY = "partly", _("Partly rectified")
    NOT_RECTIFIED = "not_rectified", _("Not rectified")


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
