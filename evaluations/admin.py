"""Back-office for what the evaluation found. Staff correct data here; imports do the bulk."""

from django.contrib import admin
from django.urls import path

from evaluations.admin_import import import_view
from evaluations.models import (
    EvaluationResult,
    EvaluationRound,
    Finding,
    Project,
    Recommendation,
    Unit,
)


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "short_name", "email")
    search_fields = ("name", "short_name", "email")


@admin.register(EvaluationRound)
class EvaluationRoundAdmin(admin.ModelAdmin):
    list_display = ("year", "title", "evaluator", "issued_on")
    search_fields = ("title", "evaluator")
    change_list_template = "admin/evaluations/evaluationround/change_list.html"

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
class ProjectAdmin(admin.ModelAdmin):
    list_display = ("name", "unit")
    list_filter = ("unit",)
    list_select_related = ("unit",)
    search_fields = ("name", "unit__name")
    autocomplete_fields = ("unit",)


class FindingInline(admin.StackedInline):
    model = Finding
    extra = 0
    fields = ("number", "title", "body")
    show_change_link = True


@admin.register(EvaluationResult)
class EvaluationResultAdmin(admin.ModelAdmin):
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


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ("__str__", "project_name", "year")
    list_filter = ("result__round", "result__project__unit")
    list_select_related = ("result__round", "result__project")
    search_fields = ("title", "body", "result__project__name")
    raw_id_fields = ("result",)
    inlines = [RecommendationInline]

    @admin.display(description="项目", ordering="result__project__name")
    def project_name(self, obj: Finding) -> str:
        return obj.result.project.name

    @admin.display(description="年度", ordering="result__round__year")
    def year(self, obj: Finding) -> int:
        return obj.result.round.year


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin):
    list_display = ("__str__", "project_name")
    list_filter = ("finding__result__round", "finding__result__project__unit")
    list_select_related = ("finding__result__project",)
    search_fields = ("title", "body", "finding__title", "finding__result__project__name")
    raw_id_fields = ("finding",)

    @admin.display(description="项目", ordering="finding__result__project__name")
    def project_name(self, obj: Recommendation) -> str:
        return obj.finding.result.project.name
