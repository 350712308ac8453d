from django.contrib import admin

from rectification.admin import ReadOnlyAdmin
from results.models import BudgetDecision, Publication, PublicWording


@admin.register(BudgetDecision)
class BudgetDecisionAdmin(ReadOnlyAdmin):
    """The history of budget decisions, for reading: they are made on the budget sheet."""

    list_display = ("result", "advice", "proposed", "decided_by", "decided_at")
    list_select_related = ("result__round", "result__project", "decided_by")
    list_filter = ("advice", "result__round")
    search_fields = ("reason", "result__project__name")


@admin.register(Publication)
class PublicationAdmin(ReadOnlyAdmin):
    """Published versions, for reading: they are published from the disclosure page."""

    list_display = ("title", "year", "number", "published_by", "published_at", "sha256")
    list_select_related = ("published_by",)
    list_filter = ("year",)


@admin.register(PublicWording)
class PublicWordingAdmin(ReadOnlyAdmin):
    list_display = ("item", "edited_by", "edited_at")
    list_select_related = (
        "item__unit",
        "item__recommendation__finding__result__project",
        "edited_by",
    )
    search_fields = ("problem", "measures", "document")
