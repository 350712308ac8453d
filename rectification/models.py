"""The rectification ledger (整改台账): what is done about each recommendation.

State changes go through ``rectification.services``; these models hold data and database-level
guarantees only (no business logic in ``save()`` or signals).
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import MD5
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from liwan import clock
from rectification.choices import (
    RESTARTING_ACTIONS,
    Agreement,
    ClosureOutcome,
    DeadlineSource,
    EventAction,
    ExportKind,
    ExportStatus,
    ExtensionStatus,
    FollowUpStatus,
    ItemStatus,
    MilestoneStatus,
    PlanStatus,
    RectificationType,
    RepeatStatus,
    SnapshotKind,
    SnapshotStatus,
    SupervisionKind,
    VerificationMethod,
)
from rectification.querysets import RectificationItemQuerySet, unassigned_q


class RectificationItem(models.Model):
    """One ledger line: the rectification of one recommendation by its responsible unit.

    ``version`` is bumped by every write through the services; a form carries the version it was
    rendered with, so a second person saving over a stale page is detected (see services).
    Overdue is *not* stored: it is derived from ``deadline`` and ``status`` by
    ``RectificationItemQuerySet.overdue`` / ``with_overdue``.
    """

    recommendation = models.OneToOneField(
        "evaluations.Recommendation",
        verbose_name=_("rectification recommendation"),
        on_delete=models.PROTECT,
        related_name="item",
    )
    unit = models.ForeignKey(
        "evaluations.Unit",
        verbose_name=_("responsible unit"),
        on_delete=models.PROTECT,
        related_name="items",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_items",
    )
    # The current deadline and the one first set (整改时限): an approved extension moves the
    # first, never the second. Both change only in ``services._move_deadline``.
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    original_deadline = models.DateField(_("original deadline"), null=True, blank=True)
    deadline_source = models.CharField(
        _("deadline set by"), max_length=12, choices=DeadlineSource.choices, blank=True
    )
    deadline_reason = models.TextField(_("reason for the deadline"), blank=True)
    extensions_approved = models.PositiveSmallIntegerField(_("extensions approved"), default=0)
    # A deadline typed as "N working days from a date": what was counted, and whether a
    # provisional calendar year (暂定, the law's days without the notice) was counted over.
    # Confirming that year lists the deadlines it moves (the ledger's "recheck" filter).
    deadline_working_days = models.PositiveSmallIntegerField(
        _("working days counted"), null=True, blank=True
    )
    deadline_counted_from = models.DateField(_("counted from"), null=True, blank=True)
    deadline_provisional = models.BooleanField(
        _("counted over a provisional calendar"), default=False
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ItemStatus.choices, default=ItemStatus.OPEN
    )
    # 整改类型, from the accepted plan (the unit proposes it, staff confirm it by accepting).
    rectification_type = models.CharField(
        _("rectification type"), max_length=10, choices=RectificationType.choices, blank=True
    )
    # The plan (整改方案) is due this many days after the item was first assigned.
    plan_due = models.DateField(_("plan due"), null=True, blank=True)
    # The accepted plan's measures (整改措施).
    measures = models.TextField(_("rectification measures"), blank=True)
    result = models.TextField(_("rectification result"), blank=True)
    closure_outcome = models.CharField(
        _("closure outcome"), max_length=20, choices=ClosureOutcome.choices, blank=True
    )
    verification_method = models.CharField(
        _("verification method"), max_length=20, choices=VerificationMethod.choices, blank=True
    )
    verification_note = models.TextField(_("verification note"), blank=True)
    verified_by = models.CharField(_("verified by"), max_length=50, blank=True)
    verified_on = models.DateField(_("verified on"), null=True, blank=True)
    # The first review (初审): who proposed which outcome; a second, different reviewer (复核)
    # confirms it and closes (the four-eyes rule, rules.permitted_actions).
    proposed_outcome = models.CharField(
        _("proposed outcome"), max_length=20, choices=ClosureOutcome.choices, blank=True
    )
    first_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("first reviewer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    first_reviewed_at = models.DateTimeField(_("first reviewed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # When the unit last submitted for closure: how long the bureau has kept it waiting.
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    # The last return (退回) to the unit, shown on the item until the unit submits again.
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("returned by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    return_reason = models.TextField(_("reason for returning"), blank=True)
    # Reopened because a follow-up check (回头看) found the problem back: a relapse.
    relapsed_at = models.DateTimeField(_("relapsed at"), null=True, blank=True)
    # Set when a long-overdue item has been escalated (督办) to evaluation staff.
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Copies of the round's year, the result's sequence number and the problem's number: the
    # ledger's order, indexed. Written when the item is created and kept in sync by
    # ``sync_from_evaluation``, both from ``querysets.evaluation_copies``; never edited by hand.
    round_year = models.PositiveSmallIntegerField(_("year"), default=0, editable=False)
    result_seq = models.PositiveIntegerField(_("sequence number"), default=0, editable=False)
    finding_number = models.PositiveSmallIntegerField(
        _("problem number"), default=0, editable=False
    )
    # The project name, problem and recommendation texts in one column, for the keyword
    # search (trigram-indexed on PostgreSQL; see ``sync_from_evaluation``).
    search_text = models.TextField(_("search text"), blank=True, default="", editable=False)

    objects = RectificationItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("rectification item")
        verbose_name_plural = _("rectification items")
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
            models.CheckConstraint(
                condition=Q(deadline_source="") | Q(deadline_source__in=DeadlineSource.values),
                name="item_deadline_source_valid",
            ),
            models.CheckConstraint(
                condition=Q(rectification_type="")
                | Q(rectification_type__in=RectificationType.values),
                name="item_type_valid",
            ),
            # Only an item waiting for its second review carries a proposed outcome.
            models.CheckConstraint(
                condition=(Q(status=ItemStatus.SECOND_REVIEW) & ~Q(proposed_outcome=""))
                | (~Q(status=ItemStatus.SECOND_REVIEW) & Q(proposed_outcome="")),
                name="item_proposal_iff_second_review",
            ),
            # Only an item handed back to its unit (整改中) carries a return.
            models.CheckConstraint(
                condition=Q(returned_at__isnull=True) | Q(status=ItemStatus.IN_PROGRESS),
                name="item_returned_only_in_progress",
            ),
        ]
        indexes = [
            # The ledger list of one unit, and the overdue sweep (deadline < today, not closed).
            models.Index(fields=["unit", "status", "deadline"], name="item_unit_status_deadline"),
            models.Index(fields=["status", "deadline"], name="item_status_deadline"),
            # Counts per status and overdue of one year, from the index alone.
            models.Index(
                fields=["round_year", "status", "deadline"], name="item_year_status_deadline"
            ),
            # Completion per rectification type of one year, from the index alone.
            models.Index(
                fields=["round_year", "rectification_type", "status", "deadline"],
                name="item_year_type_status",
            ),
            # The dashboard's per-unit and per-project figures of a year, from the index alone.
            models.Index(
                fields=["round_year", "unit", "result_seq", "status", "deadline"],
                name="item_year_unit_result",
            ),
            # The review queues (提交待初审, 待复核) oldest submission first, the first of them
            # read from the index alone; the first reviewer is carried so that a second
            # reviewer's queue skips their own first reviews without reading the rows.
            models.Index(
                fields=[
                    "status",
                    "submitted_at",
                    "-round_year",
                    "result_seq",
                    "finding_number",
                    "id",
                ],
                include=["first_reviewer"],
                name="item_review_queue",
            ),
            # Items waiting for assignment (``unassigned_q``), counted per status and deadline.
            models.Index(
                fields=["status", "deadline"], condition=unassigned_q(), name="item_unassigned"
            ),
            # The ledger's default order (newest year, then table order) for the first and the
            # deep pages of the whole city without a sort.
            models.Index(
                F("round_year").desc(),
                "result_seq",
                "finding_number",
                "id",
                name="item_ledger_order",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Item #%(pk)s") % {"pk": self.pk}


class ProgressUpdate(models.Model):
    """A progress report (整改进展) written by the unit, with its evidence files."""

    item = models.ForeignKey(
        RectificationItem,
        verbose_name=_("rectification item"),
        on_delete=models.PROTECT,
        related_name="progress",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("progress"))
    # Progress towards one milestone of a staged rectification (分阶段整改), if it is.
    milestone = models.ForeignKey(
        "Milestone",
        verbose_name=_("milestone"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="progress",
    )
    # Stamped by liwan.clock (not auto_now_add), so demo history can be written at its moment.
    created_at = models.DateTimeField(_("reported at"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["item", "-created_at"], name="progress_item_latest")]

    def __str__(self) -> str:
        return gettext("Progress report #%(pk)s") % {"pk": self.pk}


def evidence_upload_to(instance: Evidence, filename: str) -> str:
    # The stored path is ours (month folder + hash prefix, so names never collide); the user's
    # base name is appended only to keep files recognisable for operators.
    today = clock.today()
    return f"evidence/{today:%Y/%m}/{instance.sha256[:16]}-{filename}"


class Evidence(models.Model):
    """A supporting document (佐证材料). Served only through an access-checked view."""

    progress = models.ForeignKey(
        ProgressUpdate,
        verbose_name=_("progress report"),
        on_delete=models.PROTECT,
        related_name="evidence",
    )
    file = models.FileField(_("file"), upload_to=evidence_upload_to, max_length=300)
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("file type"), max_length=100)
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("supporting evidence")
        verbose_name_plural = _("supporting evidence")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name


class ExtensionRequest(models.Model):
    """A unit's request for a later deadline (延期申请) and the staff decision on it."""

    item = models.ForeignKey(
        RectificationItem,
        verbose_name=_("rectification item"),
        on_delete=models.PROTECT,
        related_name="extensions",
    )
    previous_deadline = models.DateField(_("previous deadline"), null=True, blank=True)
    requested_deadline = models.DateField(_("requested deadline"))
    reason = models.TextField(_("reason for the extension"))
    status = models.CharField(
        _("decision status"),
        max_length=20,
        choices=ExtensionStatus.choices,
        default=ExtensionStatus.PENDING,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"), default=clock.now, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("comment on the decision"), blank=True)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
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
        return gettext("Extension request #%(pk)s") % {"pk": self.pk}


class RectificationPlan(models.Model):
    """A unit's plan (整改方案) for one item, in versions: the unit submits, staff accept or
    return it; an accepted plan's revision needs accepting again, and the older one stays as
    history. Accepting copies its type, measures and milestones onto the item."""

    item = models.ForeignKey(
        RectificationItem,
        verbose_name=_("rectification item"),
        on_delete=models.PROTECT,
        related_name="plans",
    )
    version = models.PositiveSmallIntegerField(_("version"))
    status = models.CharField(
        _("plan status"), max_length=12, choices=PlanStatus.choices, default=PlanStatus.SUBMITTED
    )
    rectification_type = models.CharField(
        _("rectification type"), max_length=10, choices=RectificationType.choices
    )
    measures = models.TextField(_("rectification measures"))
    # 持续整改: the timetable and the measures year by year.
    roadmap = models.TextField(_("roadmap (yearly measures)"), blank=True)
    agreement = models.CharField(
        _("agreement with the finding"), max_length=10, choices=Agreement.choices
    )
    agreement_reason = models.TextField(_("reason"), blank=True)
    # 分阶段整改: the milestones as planned, [{"number", "title", "deadline", "evidence"}].
    milestones = models.JSONField(_("milestones"), default=list, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=clock.now, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("comment on the decision"), blank=True)

    class Meta:
        verbose_name = _("rectification plan")
        verbose_name_plural = _("rectification plans")
        ordering = ["item", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["item", "version"], name="plan_version_unique"),
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status=PlanStatus.SUBMITTED),
                name="plan_one_awaiting_per_item",
            ),
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status=PlanStatus.ACCEPTED),
                name="plan_one_accepted_per_item",
            ),
            models.CheckConstraint(
                condition=Q(status__in=PlanStatus.values), name="plan_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return gettext("Plan v%(version)s of item #%(item)s") % {
            "version": self.version,
            "item": self.item_id,
        }


class Milestone(models.Model):
    """A stage of a staged rectification (分阶段整改): tracked like a small item, with its own
    deadline, progress and evidence, done once staff accept it."""

    item = models.ForeignKey(
        RectificationItem,
        verbose_name=_("rectification item"),
        on_delete=models.PROTECT,
        related_name="milestones",
    )
    number = models.PositiveSmallIntegerField(_("number"))
    title = models.CharField(_("milestone"), max_length=200)
    deadline = models.DateField(_("deadline"))
    evidence_expected = models.CharField(_("evidence expected"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=MilestoneStatus.choices, default=MilestoneStatus.OPEN
    )
    reported_at = models.DateTimeField(_("reported done at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("comment on the decision"), blank=True)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["item", "number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="milestone_number_unique"),
            models.CheckConstraint(
                condition=Q(status__in=MilestoneStatus.values), name="milestone_status_valid"
            ),
        ]
        indexes = [
            # Reminders: the open milestones by deadline.
            models.Index(fields=["status", "deadline"], name="milestone_status_deadline"),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"


class FollowUp(models.Model):
    """A re-check of a closed item (回头看): scheduled by staff, then recorded as holding or as
    a relapse — which reopens the item."""

    item = models.ForeignKey(
        RectificationItem,
        verbose_name=_("rectification item"),
        on_delete=models.PROTECT,
        related_name="follow_ups",
    )
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=10, choices=FollowUpStatus.choices, default=FollowUpStatus.SCHEDULED
    )
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("scheduled by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    scheduled_at = models.DateTimeField(_("scheduled at"), default=clock.now, editable=False)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    finding = models.TextField(_("what the check found"), blank=True)

    class Meta:
        verbose_name = _("follow-up check")
        verbose_name_plural = _("follow-up checks")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status=FollowUpStatus.SCHEDULED),
                name="follow_up_one_scheduled_per_item",
            ),
            models.CheckConstraint(
                condition=Q(status__in=FollowUpStatus.values), name="follow_up_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="follow_up_due")]

    def __str__(self) -> str:
        return gettext("Follow-up check of item #%(item)s on %(date)s") % {
            "item": self.item_id,
            "date": self.due_on,
        }


class EventQuerySet(models.QuerySet):
    # The audit trail is append-only: bulk updates and deletes are refused here, single-row ones
    # in Event.save()/delete(); on PostgreSQL a trigger (migration 0002) refuses them in SQL too.
    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError("Audit records cannot be changed")

    def delete(self):  # type: ignore[no-untyped-def]
        raise PermissionError("Audit records cannot be deleted")


class Event(models.Model):
    """The audit trail: one row per state-changing action. Never edited, never pruned."""

    item = models.ForeignKey(
        RectificationItem,
        verbose_name=_("rectification item"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    action = models.CharField(_("action"), max_length=30, choices=EventAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("performed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), default=clock.now, editable=False, db_index=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["item", "-created_at"], name="event_item_timeline"),
            # An item's latest record that restarts the unit's work, for every open item of a
            # city at each reminder sweep: one probe each, not a walk through the item's other
            # records (candidates 1.9 → 0.8 s at 53,000 open items).
            models.Index(
                F("item"),
                F("created_at").desc(),
                F("id").desc(),
                condition=Q(action__in=RESTARTING_ACTIONS),
                name="event_item_restart",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} #{self.pk}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None and not self._state.adding:
            raise PermissionError("Audit records cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError("Audit records cannot be deleted")


class SupervisionRecord(models.Model):
    """A step of the escalation ladder taken on an item (督办): an interview of the unit head
    (约谈), a circular (通报), accountability (问责) or a leader's instruction (领导批示).

    Written only by ``services.record_supervision``, with one event; never edited."""

    item = models.ForeignKey(
        RectificationItem,
        verbose_name=_("rectification item"),
        on_delete=models.PROTECT,
        related_name="supervision",
    )
    kind = models.CharField(_("step"), max_length=20, choices=SupervisionKind.choices)
    happened_on = models.DateField(_("date"))
    # Who held the interview, issued the circular or gave the instruction.
    person = models.CharField(_("by whom"), max_length=100)
    document = models.CharField(_("document number"), max_length=200, blank=True)
    text = models.TextField(_("content"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("supervision record")
        verbose_name_plural = _("supervision records")
        ordering = ["-happened_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=SupervisionKind.values), name="supervision_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.happened_on}"


class RepeatLink(models.Model):
    """Staff's ruling that an item repeats (or does not repeat) a problem an earlier round found
    at the same unit (屡审屡犯). Written only by ``services.decide_repeat``, with one event on
    the later item; the pair is decided once."""

    item = models.ForeignKey(
        RectificationItem,
        verbose_name=_("rectification item"),
        on_delete=models.PROTECT,
        related_name="repeat_links",
    )
    earlier = models.ForeignKey(
        RectificationItem,
        verbose_name=_("earlier item"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(_("ruling"), max_length=20, choices=RepeatStatus.choices)
    similarity = models.FloatField(_("text similarity"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("repeat problem link")
        verbose_name_plural = _("repeat problem links")
        constraints = [
            models.UniqueConstraint(fields=["item", "earlier"], name="repeat_link_once"),
            models.CheckConstraint(
                condition=Q(status__in=RepeatStatus.values), name="repeat_link_status_valid"
            ),
            models.CheckConstraint(condition=~Q(item=F("earlier")), name="repeat_link_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} ← {self.earlier_id} {self.get_status_display()}"


# How long a page waiting for the worker reloads itself.
REFRESH_FOR = datetime.timedelta(minutes=15)


class WorkerProgress:
    """How far a piece of the worker's work is, as its page shows it: a model with ``status``
    (its ``IN_PROGRESS`` values while waiting or under way), ``done``, ``total`` and
    ``created_at``."""

    IN_PROGRESS: tuple[str, ...]
    status: str
    done: int
    total: int
    created_at: datetime.datetime

    @property
    def in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS

    @property
    def percent(self) -> int:
        return min(100, self.done * 100 // self.total) if self.total else 0

    @property
    def refreshing(self) -> bool:
        """Whether its page reloads itself: while in progress, for a quarter of an hour at
        most (work no worker takes is marked failed by a sweep; the tab need not poll)."""
        return self.in_progress and clock.now() - self.created_at < REFRESH_FOR

    @classmethod
    def claim(cls, pk: Any) -> bool:
        """Take queued work for this worker: whether it was still waiting. One conditional
        UPDATE, so a task delivered twice (or a second worker) runs it once."""
        queued, running = cls.IN_PROGRESS
        waiting = cls.objects.filter(pk=pk, status=queued)  # type: ignore[attr-defined]
        return bool(waiting.update(status=running, started_at=clock.now()))


class ExportJob(WorkerProgress, models.Model):
    """A large export written by the worker (``rectification.export_jobs``): who asked, for
    what (its kind and query string — the ledger's filters, a closure list's unit and year —
    as at ``today``), how far it is, and the file, kept until ``expires_at``. The id is random:
    the page and the file are also checked against the requester."""

    IN_PROGRESS = (ExportStatus.QUEUED, ExportStatus.RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=ExportKind.choices, default=ExportKind.LEDGER
    )
    format = models.CharField(_("format"), max_length=4)
    query = models.TextField(_("filter"), blank=True)
    filename = models.CharField(_("file name"), max_length=255)
    today = models.DateField(_("as of"))
    # The primary's WAL position after the requester's last write (liwan.replica): a file read
    # from a standby holds their own changes.
    written_at = models.CharField(max_length=40, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    total = models.PositiveIntegerField(_("rows in all"), default=0)
    done = models.PositiveIntegerField(_("rows written"), default=0)
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=clock.now, editable=False)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("kept until"), null=True, blank=True)

    class Meta:
        verbose_name = _("ledger export")
        verbose_name_plural = _("ledger exports")
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="export_user_recent")]

    def __str__(self) -> str:
        return self.filename


class StatusTally(models.Model):
    """How many items of one round year and unit are in one status: the ledger's counts per
    status read these few rows instead of counting the items (``rectification.tallies`` keeps
    them, in the transaction that changes the items; nothing else writes them)."""

    round_year = models.PositiveSmallIntegerField(_("year"))
    unit = models.ForeignKey(
        "evaluations.Unit", verbose_name=_("unit"), on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(_("status"), max_length=20, choices=ItemStatus.choices)
    items = models.IntegerField(_("items"), default=0)

    class Meta:
        verbose_name = _("items per status")
        verbose_name_plural = _("items per status")
        constraints = [
            models.UniqueConstraint(
                fields=["round_year", "unit", "status"], name="status_tally_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.round_year} {self.unit_id} {self.status}: {self.items}"


class RoundSnapshot(WorkerProgress, models.Model):
    """A computation over a whole round, stored so its page reads a page of rows instead of
    computing the round on every request (``rectification.snapshots``): the likely repeats of
    a year, a publication draft, the report to leaders; or a one-off job over a large round
    (publishing it). The newest finished one of a ``(kind, scope)`` is shown; a
    newer one is computed by the worker when it is older than its kind allows or something
    it depends on changed (``superseded``)."""

    IN_PROGRESS = (SnapshotStatus.QUEUED, SnapshotStatus.RUNNING)

    kind = models.CharField(_("kind"), max_length=20, choices=SnapshotKind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    # What else it was computed for, as text (the units of a publication, say); "" for all.
    # A city's hundreds of units make a long text: unbounded, and unique by its MD5 below.
    scope = models.TextField(_("scope"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=SnapshotStatus.choices, default=SnapshotStatus.QUEUED
    )
    superseded = models.BooleanField(_("out of date"), default=False)
    # What the page shows beside the rows: totals, a content hash …
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    total = models.PositiveIntegerField(_("items in all"), default=0)
    done = models.PositiveIntegerField(_("items done"), default=0)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=clock.now, editable=False)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("stored computation")
        verbose_name_plural = _("stored computations")
        indexes = [models.Index(fields=["kind", "year", "-created_at"], name="snapshot_newest")]
        constraints = [
            # Two people opening the page at once queue one computation, not two.
            models.UniqueConstraint(
                "kind",
                "year",
                MD5("scope"),
                condition=Q(status__in=[SnapshotStatus.QUEUED, SnapshotStatus.RUNNING]),
                name="snapshot_one_in_progress",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.year} {self.scope}".strip()


class SnapshotRow(models.Model):
    """One row of a stored computation, in the order its page shows them. The items are
    referred to by id without a constraint: a row is read back with its items (one query per
    page) and outlives nothing — the snapshot is replaced, not updated."""

    snapshot = models.ForeignKey(RoundSnapshot, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    item_id = models.BigIntegerField()
    other_id = models.BigIntegerField(null=True)
    score = models.FloatField(null=True)
    # A row that needs attention (a redaction finding): listed apart, from a partial index.
    flagged = models.BooleanField(default=False)
    data = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "position"], name="snapshot_row_position")
        ]
        indexes = [
            models.Index(
                fields=["snapshot", "position"],
                condition=Q(flagged=True),
                name="snapshot_row_flagged",
            ),
            # The rows of given items (the repeat pairs ruled since the snapshot was taken).
            models.Index(fields=["snapshot", "item_id"], name="snapshot_row_item"),
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id}#{self.position}"
