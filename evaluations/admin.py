"""Back-office for what the evaluation found. Staff correct data here; imports do the bulk."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import path
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from evaluations.admin_import import import_view
from evaluations.models import (
    EvaluationResult,
    EvaluationRound,
    Finding,
    FindingCategory,
    Project,
    Recommendation,
    Unit,
)
from evaluations.services import TextChange
from rectification import services as ledger
from rectification.choices import EventAction

TEXT_FIELDS = ("title", "body")


def _actor(request: HttpRequest) -> ledger.Actor:
    return ledger.Actor(user=request.user, ip=request.META.get("REMOTE_ADDR"))


def _text_change(form) -> TextChange | None:  # type: ignore[no-untyped-def]
    """What a saved form changed in a problem's or recommendation's text, for the item that
    answers it; None when its text is unchanged (or it answers no item yet)."""
    instance = form.instance
    changed = [f for f in TEXT_FIELDS if f in getattr(form, "changed_data", ())]
    if not changed or instance.pk is None or not isinstance(instance, Finding | Recommendation):
        return None
    part = "finding" if isinstance(instance, Finding) else "recommendation"
    recommendation = (
        instance if part == "recommendation" else getattr(instance, "recommendation", None)
    )
    if recommendation is None:
        return None
    return TextChange(
        recommendation_id=recommendation.pk,
        before={part: {f: form.initial.get(f, "") for f in TEXT_FIELDS}},
        after={part: {f: getattr(instance, f) for f in TEXT_FIELDS}},
    )


class LedgerOrderAdminMixin:
    """Years, numbers and texts edited here are copied onto the ledger's items, which sort and
    search by them (``rectification.services.sync_copies``); a changed problem or
    recommendation text is an event on the item that answers it. The one place the back-office
    of evaluation data reaches into the ledger: the items answer this text."""

    ledger_items_lookup: str

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:  # type: ignore[no-untyped-def]
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        forms = [form, *(inline for formset in formsets for inline in formset.forms)]
        changes = [c for c in map(_text_change, forms) if c is not None]
        if changes:
            ledger.record_evaluation_changes(
                changes=changes,
                actor=request.user,
                ip=request.META.get("REMOTE_ADDR"),
                note="在后台修改了评价内容",
                action=EventAction.EVALUATION_EDITED,
            )
        ledger.sync_copies(**{self.ledger_items_lookup: form.instance})


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "short_name", "email", "reviewer", "webhook_kind")
    list_select_related = ("reviewer",)
    search_fields = ("name", "short_name", "email")
    fieldsets = (
        (None, {"fields": ("name", "short_name", "email")}),
        (
            "评价局审核人",
            {
                "fields": ("reviewer",),
                "description": (
                    "审核本单位销号申请和延期申请的评价管理员；"
                    "不指定则由评价批次的审核人、再无则由全体评价管理员接收通知。"
                ),
            },
        ),
        (
            "群机器人（企业微信 / 粤政易 / 钉钉）",
            {
                "fields": ("webhook_kind", "webhook_url", "webhook_secret"),
                "description": "配置后，本单位的办理动态和每日提醒也会发送到该群。",
            },
        ),
    )

    def formfield_for_dbfield(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if db_field.name == "webhook_url":
            kwargs["assume_scheme"] = "https"  # a robot's address typed without its scheme
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if db_field.name == "reviewer":
            kwargs["queryset"] = _evaluation_staff()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def _evaluation_staff():  # type: ignore[no-untyped-def]
    """The people a reviewer may be: active evaluation staff."""
    return User.objects.filter(groups__name=Role.EVALUATION_STAFF, is_active=True).order_by(
        "full_name", "username"
    )


@admin.register(EvaluationRound)
class EvaluationRoundAdmin(LedgerOrderAdminMixin, admin.ModelAdmin):
    ledger_items_lookup = "recommendation__finding__result__round"
    list_display = ("year", "title", "evaluator", "issued_on", "reviewer")
    list_select_related = ("reviewer",)
    search_fields = ("title", "evaluator")
    change_list_template = "admin/evaluations/evaluationround/change_list.html"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if db_field.name == "reviewer":
            kwargs["queryset"] = _evaluation_staff()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_urls(self):  # type: ignore[no-untyped-def]
        own = [
            path(
                "import/",
                self.admin_site.admin_view(lambda request: import_view(self, request)),
                name="evaluations_evaluationround_import",
            )
        ]
        return own + super().get_urls()


@admin.register(Project)
class ProjectAdmin(LedgerOrderAdminMixin, admin.ModelAdmin):
    ledger_items_lookup = "recommendation__finding__result__project"
    list_display = ("name", "unit")
    list_filter = ("unit",)
    list_select_related = ("unit",)
    search_fields = ("name", "unit__name")
    autocomplete_fields = ("unit",)

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        old_unit = None
        if change and "unit" in form.changed_data:
            old_unit = Unit.objects.get(pk=form.initial["unit"])
        super().save_model(request, obj, form, change)
        if old_unit is not None:
            # The project was filed under the wrong unit: its ledger items move with it.
            ledger.move_project_items(project=obj, old_unit=old_unit, actor=_actor(request))


class FindingInline(admin.StackedInline):
    model = Finding
    extra = 0
    fields = ("number", "title", "body", "categories")
    show_change_link = True


@admin.register(EvaluationResult)
class EvaluationResultAdmin(LedgerOrderAdminMixin, admin.ModelAdmin):
    ledger_items_lookup = "recommendation__finding__result"
    list_display = (
        "seq",
        "project",
        "unit_name",
        "round",
        "budget",
        "spent",
        "completion_rate",
        "score",
        "grade",
    )
    list_filter = ("round", "grade", "project__unit")
    list_select_related = ("round", "project__unit")
    search_fields = ("project__name", "project__unit__name", "goal")
    autocomplete_fields = ("project",)
    inlines = [FindingInline]

    @admin.display(description="单位", ordering="project__unit__name")
    def unit_name(self, obj: EvaluationResult) -> str:
        return obj.project.unit.name


class RecommendationInline(admin.StackedInline):
    model = Recommendation
    extra = 0
    fields = ("title", "body")


@admin.register(FindingCategory)
class FindingCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "order", "finding_count", "description")
    list_editable = ("order",)
    search_fields = ("name", "description")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(finding_total=Count("findings"))

    @admin.display(description=_("Findings"), ordering="finding_total")
    def finding_count(self, obj: FindingCategory) -> int:
        return obj.finding_total  # type: ignore[attr-defined]


def _tag_action(category: FindingCategory) -> Callable[..., None]:
    def tag(modeladmin: FindingAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        findings = list(queryset)
        category.findings.add(*findings)  # adding an existing tag is a no-op
        modeladmin.message_user(
            request,
            ngettext(
                "Tagged %(n)d finding with “%(category)s”.",
                "Tagged %(n)d findings with “%(category)s”.",
                len(findings),
            )
            % {"n": len(findings), "category": category.name},
            messages.SUCCESS,
        )

    return tag


@admin.register(Finding)
class FindingAdmin(LedgerOrderAdminMixin, admin.ModelAdmin):
    ledger_items_lookup = "recommendation__finding"
    list_display = ("__str__", "project_name", "year", "category_names")
    list_filter = ("result__round", "categories", "result__project__unit")
    list_select_related = ("result__round", "result__project")
    search_fields = ("title", "body", "result__project__name")
    raw_id_fields = ("result",)
    filter_horizontal = ("categories",)
    inlines = [RecommendationInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("categories")

    def get_actions(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        # One "tag with …" action per category, so staff tag many findings at once.
        actions = super().get_actions(request)
        if not self.has_change_permission(request):
            return actions
        for category in FindingCategory.objects.order_by("order", "name"):
            name = f"tag_{category.pk}"
            description = gettext("Tag with “%(category)s”") % {"category": category.name}
            actions[name] = (_tag_action(category), name, description)
        return actions

    @admin.display(description=_("Problem categories"))
    def category_names(self, obj: Finding) -> str:
        return "、".join(category.name for category in obj.categories.all())

    @admin.display(description="项目", ordering="result__project__name")
    def project_name(self, obj: Finding) -> str:
        return obj.result.project.name

    @admin.display(description="年度", ordering="result__round__year")
    def year(self, obj: Finding) -> int:
        return obj.result.round.year


@admin.register(Recommendation)
class RecommendationAdmin(LedgerOrderAdminMixin, admin.ModelAdmin):
    ledger_items_lookup = "recommendation"
    list_display = ("__str__", "project_name")
    list_filter = ("finding__result__round", "finding__result__project__unit")
    list_select_related = ("finding__result__project",)
    search_fields = ("title", "body", "finding__title", "finding__result__project__name")
    raw_id_fields = ("finding",)

    @admin.display(description="项目", ordering="finding__result__project__name")
    def project_name(self, obj: Recommendation) -> str:
        return obj.finding.result.project.name
