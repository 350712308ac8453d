"""Choice sets of the ledger, in a module of their own so query helpers can use them too."""

from django.db import models


class ItemStatus(models.TextChoices):
    OPEN = "open", "待整改"
    IN_PROGRESS = "in_progress", "整改中"
    SUBMITTED = "submitted", "待销号"
    CLOSED = "closed", "已销号"


class ClosureOutcome(models.TextChoices):
    """How a closed item ended (cf. GAO's closed-implemented / closed-not-implemented)."""

    RECTIFIED = "rectified", "已整改"
    PARTLY = "partly", "部分整改"
    NOT_RECTIFIED = "not_rectified", "未整改"


class VerificationMethod(models.TextChoices):
    DOCUMENT_REVIEW = "document_review", "书面审核"
    SITE_CHECK = "site_check", "实地核查"
    SAMPLING = "sampling", "抽查"


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "已驳回"


class EventAction(models.TextChoices):
    CREATED = "created", "创建事项"
    IMPORTED_UPDATE = "import_updated", "导入更新"
    ASSIGNED = "assigned", "分配责任人/时限"
    MEASURES = "measures", "填写整改措施"
    PROGRESS = "progress", "报送整改进展"
    SUBMITTED = "submitted", "提交销号"
    RETURNED = "returned", "退回"
    CLOSED = "closed", "销号"
    REOPENED = "reopened", "重新打开"
    EXTENSION_REQUESTED = "extension_requested", "申请延期"
    EXTENSION_APPROVED = "extension_approved", "批准延期"
    EXTENSION_REJECTED = "extension_rejected", "驳回延期"
    ESCALATED = "escalated", "督办"
