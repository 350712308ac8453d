"""The rectification ledger (整改台账): what is done about each recommendation.

State changes go through ``rectification.services``; these models hold data and database-level
guarantees only (no business logic in ``save()`` or signals).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from liwan import clock
from rectification.choices import (
    ClosureOutcome,
    EventAction,
    ExtensionStatus,
    ItemStatus,
    VerificationMethod,
)
from rectification.querysets import RectificationItemQuerySet


class RectificationItem(models.Model):
    """One ledger line: the rectification of one recommendation by its responsible unit.

    ``version`` is bumped by every write through the services; a form carries the version it was
    rendered with, so a second person saving over a stale page is detected (see services).
    Overdue is *not* stored: it is derived from ``deadline`` and ``status`` by
    ``RectificationItemQuerySet.overdue`` / ``with_overdue``.
    """

    recommendation = models.OneToOneField(
        "evaluations.Recommendation",
        verbose_name="整改建议",
        on_delete=models.PROTECT,
        related_name="item",
    )
    unit = models.ForeignKey(
        "evaluations.Unit",
        verbose_name="责任单位",
        on_delete=models.PROTECT,
        related_name="items",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="责任人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_items",
    )
    deadline = models.DateField("整改时限", null=True, blank=True)
    status = models.CharField(
        "整改状态", max_length=20, choices=ItemStatus.choices, default=ItemStatus.OPEN
    )
    measures = models.TextField("整改措施", blank=True)
    result = models.TextField("整改结果", blank=True)
    closure_outcome = models.CharField(
        "销号结论", max_length=20, choices=ClosureOutcome.choices, blank=True
    )
    verification_method = models.CharField(
        "核查方式", max_length=20, choices=VerificationMethod.choices, blank=True
    )
    verification_note = models.TextField("核查说明", blank=True)
    verified_by = models.CharField("核查人", max_length=50, blank=True)
    verified_on = models.DateField("核查日期", null=True, blank=True)
    closed_at = models.DateTimeField("销号时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="销号人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set when a long-overdue item has been escalated (督办) to evaluation staff.
    escalated_at = models.DateTimeField("督办时间", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = RectificationItemQuerySet.as_manager()

    class Meta:
        verbose_name = "整改事项"
        verbose_name_plural = "整改事项"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ItemStatus.values), name="item_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(closure_outcome="") | Q(closure_outcome__in=ClosureOutcome.values),
                name="item_outcome_valid",
            ),
            # A closed item always says how it ended; an open one never does.
            models.CheckConstraint(
                condition=(Q(status=ItemStatus.CLOSED) & ~Q(closure_outcome=""))
                | (~Q(status=ItemStatus.CLOSED) & Q(closure_outcome="")),
                name="item_outcome_iff_closed",
            ),
        ]
        indexes = [
            # The ledger list of one unit, and the overdue sweep (deadline < today, not closed).
            models.Index(fields=["unit", "status", "deadline"], name="item_unit_status_deadline"),
            models.Index(fields=["status", "deadline"], name="item_status_deadline"),
        ]

    def __str__(self) -> str:
        return f"整改事项 #{self.pk}"


class ProgressUpdate(models.Model):
    """A progress report (整改进展) written by the unit, with its evidence files."""

    item = models.ForeignKey(
        RectificationItem,
        verbose_name="整改事项",
        on_delete=models.PROTECT,
        related_name="progress",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="填报人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField("进展情况")
    created_at = models.DateTimeField("填报时间", auto_now_add=True)

    class Meta:
        verbose_name = "整改进展"
        verbose_name_plural = "整改进展"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["item", "-created_at"], name="progress_item_latest")]

    def __str__(self) -> str:
        return f"进展 #{self.pk}"


def evidence_upload_to(instance: Evidence, filename: str) -> str:
    # The stored name is ours (date + hash prefix); the user's file name is kept only as data.
    today = clock.today()
    return f"evidence/{today:%Y/%m}/{instance.sha256[:16]}-{filename}"


class Evidence(models.Model):
    """A supporting document (佐证材料). Served only through an access-checked view."""

    progress = models.ForeignKey(
        ProgressUpdate, verbose_name="整改进展", on_delete=models.PROTECT, related_name="evidence"
    )
    file = models.FileField("文件", upload_to=evidence_upload_to, max_length=300)
    original_name = models.CharField("文件名", max_length=200)
    size = models.PositiveBigIntegerField("大小（字节）")
    content_type = models.CharField("文件类型", max_length=100)
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "佐证材料"
        verbose_name_plural = "佐证材料"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


class ExtensionRequest(models.Model):
    """A unit's request for a later deadline (延期申请) and the staff decision on it."""

    item = models.ForeignKey(
        RectificationItem,
        verbose_name="整改事项",
        on_delete=models.PROTECT,
        related_name="extensions",
    )
    previous_deadline = models.DateField("原整改时限", null=True, blank=True)
    requested_deadline = models.DateField("申请延至")
    reason = models.TextField("延期理由")
    status = models.CharField(
        "审批状态", max_length=20, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="申请人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField("申请时间", auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)

    class Meta:
        verbose_name = "延期申请"
        verbose_name_plural = "延期申请"
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ExtensionStatus.values), name="extension_status_valid"
            ),
            # At most one request waits for a decision at a time.
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status=ExtensionStatus.PENDING),
                name="extension_one_pending_per_item",
            ),
        ]

    def __str__(self) -> str:
        return f"延期申请 #{self.pk}"


class EventQuerySet(models.QuerySet):
    # The audit trail is append-only: bulk updates and deletes are refused here, single-row ones
    # in Event.save()/delete(). (A database trigger can add the same guarantee on PostgreSQL.)
    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError("审计记录不可修改")

    def delete(self):  # type: ignore[no-untyped-def]
        raise PermissionError("审计记录不可删除")


class Event(models.Model):
    """The audit trail: one row per state-changing action. Never edited, never pruned."""

    item = models.ForeignKey(
        RectificationItem,
        verbose_name="整改事项",
        on_delete=models.PROTECT,
        related_name="events",
    )
    action = models.CharField("操作", max_length=30, choices=EventAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    before = models.JSONField("变更前", default=dict, blank=True)
    after = models.JSONField("变更后", default=dict, blank=True)
    note = models.TextField("说明", blank=True)
    ip = models.GenericIPAddressField("IP 地址", null=True, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = "操作记录"
        verbose_name_plural = "操作记录"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["item", "-created_at"], name="event_item_timeline")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} #{self.pk}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None and not self._state.adding:
            raise PermissionError("审计记录不可修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError("审计记录不可删除")
