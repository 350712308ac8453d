"""Back-office views of the ledger for evaluation staff.

Workflow state is changed only through ``rectification.services`` (which check the rules and
write the audit trail), so here items are read-only except for owner and deadline, whose change
goes through ``services.assign``. Events, progress, evidence, plans, milestones and follow-up
checks are read-only records.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from liwan import clock
from rectification import services
from rectification.history import Described, describe_all
from rectification.models import (
    Event,
    Evidence,
    ExtensionRequest,
    FollowUp,
    Milestone,
    ProgressUpdate,
    RectificationItem,
    RectificationPlan,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that are written by the workflow and never edited by hand."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


class OverdueFilter(admin.SimpleListFilter):
    title = "是否逾期"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):  # type: ignore[no-untyped-def]
        return [("yes", "已逾期"), ("no", "未逾期")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.overdue(clock.today())
        if self.value() == "no":
            return queryset.not_overdue(clock.today())
        return queryset


class ItemAssignForm(forms.ModelForm):
    """Owner and deadline, plus the version of the item the page was rendered with.

    ``services.assign`` compares that version with the row's under lock, so a save over a page
    that someone else changed meanwhile is refused instead of silently overwriting their change.
    """

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    change_reason = forms.CharField(
        label="调整时限的原因",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="记入操作记录；缩短已批准的延期、有待审批的延期申请或为已逾期事项延后时限时必填。",
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["expected_version"].initial = self.instance.version


@admin.register(RectificationItem)
class RectificationItemAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "year",
        "unit",
        "project",
        "recommendation_title",
        "owner",
        "deadline",
        "status",
        "overdue",
    )
    list_filter = (
        "status",
        OverdueFilter,
        "recommendation__finding__result__round",
        "closure_outcome",
        "unit",
    )
    list_select_related = (
        "unit",
        "owner",
        "recommendation__finding__result__round",
        "recommendation__finding__result__project",
    )
    search_fields = (
        "recommendation__title",
        "recommendation__body",
        "recommendation__finding__title",
        "recommendation__finding__body",
        "recommendation__finding__result__project__name",
        "unit__name",
        "measures",
    )
    date_hierarchy = "deadline"
    fields = (
        "recommendation",
        "unit",
        "owner",
        "deadline",
        "change_reason",
        "original_deadline",
        "deadline_source",
        "deadline_reason",
        "extensions_approved",
        "status",
        "returned_at",
        "returned_by",
        "return_reason",
        "measures",
        "result",
        "closure_outcome",
        "verification_method",
        "verified_by",
        "verified_on",
        "verification_note",
        "closed_at",
        "closed_by",
        "escalated_at",
        "version",
        "expected_version",
    )
    readonly_fields = tuple(
        f for f in fields if f not in {"owner", "deadline", "change_reason", "expected_version"}
    )
    form = ItemAssignForm
    autocomplete_fields = ("owner",)
    change_list_template = "admin/rectification/rectificationitem/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).with_overdue(clock.today())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # items are created by importing a summary table

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False  # the ledger keeps every item; close it instead

    @admin.display(description="年度", ordering="round_year")
    def year(self, obj: RectificationItem) -> int:
        return obj.recommendation.finding.result.round.year

    @admin.display(description="项目", ordering="recommendation__finding__result__project__name")
    def project(self, obj: RectificationItem) -> str:
        return obj.recommendation.finding.result.project.name

    @admin.display(description="整改建议")
    def recommendation_title(self, obj: RectificationItem) -> str:
        return obj.recommendation.title

    @admin.display(description="逾期", ordering="is_overdue")
    def overdue(self, obj: RectificationItem) -> str:
        # Text rather than Django's boolean icons: a green tick for "overdue" reads as "fine".
        return format_html("<strong>{}</strong>", "逾期") if obj.is_overdue else ""

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        # ``obj`` already carries the form's owner and deadline but is never saved here: the
        # service writes the change, its Event and the version bump, or refuses all of it.
        if not {"owner", "deadline"} & set(form.changed_data):
            return
        try:
            services.assign(
                item=RectificationItem.objects.get(pk=obj.pk),
                actor=services.Actor.from_request(request),
                owner=form.cleaned_data["owner"],
                deadline=form.cleaned_data["deadline"],
                reason=form.cleaned_data["change_reason"],
                expected_version=form.cleaned_data["expected_version"],
            )
        except (ValidationError, PermissionDenied) as exc:
            obj._assign_refused = "；".join(getattr(exc, "messages", None) or [str(exc)])

    def log_change(self, request, obj, message):  # type: ignore[no-untyped-def]
        if getattr(obj, "_assign_refused", None):
            return None  # nothing changed, so no "changed" entry in the admin history
        return super().log_change(request, obj, message)

    def response_change(self, request: HttpRequest, obj: RectificationItem) -> HttpResponse:
        refused = getattr(obj, "_assign_refused", None)
        if refused:
            # Back to the page (reloaded with the current values) with the reason, instead of
            # the admin's "changed successfully" message.
            messages.error(request, refused)
            return HttpResponseRedirect(request.get_full_path())
        return super().response_change(request, obj)

    def changelist_view(self, request, extra_context=None):  # type: ignore[no-untyped-def]
        extra_context = extra_context or {}
        extra_context["export_url"] = reverse("rectification:export")
        return super().changelist_view(request, extra_context)


class EvidenceInline(admin.TabularInline):
    model = Evidence
    extra = 0
    fields = ("original_name", "size", "content_type", "sha256", "uploaded_by", "created_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(ReadOnlyAdmin):
    list_display = ("id", "item", "author", "created_at")
    list_select_related = ("item", "author")
    list_filter = ("item__unit",)
    search_fields = ("note", "item__unit__name")
    inlines = [EvidenceInline]


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ("original_name", "size", "content_type", "uploaded_by", "created_at")
    list_select_related = ("uploaded_by",)
    list_filter = ("content_type", "progress__item__unit")
    search_fields = ("original_name", "sha256")


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "item",
        "previous_deadline",
        "requested_deadline",
        "status",
        "requested_at",
    )
    list_select_related = ("item",)
    list_filter = ("status", "item__unit")
    search_fields = ("reason", "decision_note", "item__unit__name")


@admin.register(RectificationPlan)
class RectificationPlanAdmin(ReadOnlyAdmin):
    list_display = ("id", "item", "version", "rectification_type", "status", "submitted_at")
    list_select_related = ("item",)
    list_filter = ("status", "rectification_type", "agreement", "item__unit")
    search_fields = ("measures", "roadmap", "agreement_reason", "item__unit__name")


@admin.register(Milestone)
class MilestoneAdmin(ReadOnlyAdmin):
    list_display = ("id", "item", "number", "title", "deadline", "status")
    list_select_related = ("item",)
    list_filter = ("status", "item__unit")
    search_fields = ("title", "item__unit__name")


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ("id", "item", "due_on", "status", "checked_at")
    list_select_related = ("item",)
    list_filter = ("status", "item__unit")
    search_fields = ("finding", "item__unit__name")


class EventChangeList(ChangeList):
    """The page's events in words (``history.describe_all``): the owners of old events, which
    stored ids only, are named in one query for the whole page."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        self.result_list = list(self.result_list)
        for event, described in describe_all(self.result_list):
            event.described = described  # type: ignore[attr-defined]


def _in_words(described: Described, *, text_limit: int | None = None) -> str:
    lines = list(described.changes)
    if described.files:
        lines.append("佐证材料：" + "、".join(described.files))
    if described.text:
        text = described.text
        lines.append(Truncator(text).chars(text_limit) if text_limit else text)
    return format_html_join("", "<div>{}</div>", ((line,) for line in lines))


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "action", "item_link", "actor", "changes", "ip")
    list_select_related = ("item", "actor")
    list_filter = ("action", "item__unit")
    search_fields = ("note", "actor__username", "actor__full_name")
    date_hierarchy = "created_at"
    # What changed, in the words of the item page, above the raw record.
    fields = (
        "item",
        "action",
        "actor",
        "created_at",
        "changes_in_full",
        "note",
        "before",
        "after",
        "ip",
    )
    readonly_fields = ("created_at", "changes_in_full")

    def get_changelist(self, request: HttpRequest, **kwargs):  # type: ignore[no-untyped-def]
        return EventChangeList

    @admin.display(description="变更内容")
    def changes(self, obj: Event) -> str:
        described = getattr(obj, "described", None) or describe_all([obj])[0][1]
        return _in_words(described, text_limit=120)

    @admin.display(description="变更内容")
    def changes_in_full(self, obj: Event) -> str:
        return _in_words(describe_all([obj])[0][1])

    @admin.display(description="整改事项")
    def item_link(self, obj: Event) -> str:
        url = reverse("admin:rectification_rectificationitem_change", args=[obj.item_id])
        return format_html('<a href="{}">#{}</a>', url, obj.item_id)
