from django.contrib import admin

from rectification.admin import ReadOnlyAdmin
from results.models import BudgetDecision


@admin.register(BudgetDecision)
class BudgetDecisionAdmin(ReadOnlyAdmin):
    """The history of budget decisions, for reading: they are made on the budget sheet."""

    list_display = ("result", "advice", "proposed", "decided_by", "decided_at")
    list_select_related = ("result__round", "result__project", "decided_by")
    list_filter = ("advice", "result__round")
    search_fields = ("reason", "result__project__name")
