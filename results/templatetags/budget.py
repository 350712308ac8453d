from django import template

from results.choices import BudgetAdvice

register = template.Library()

# Bootstrap colours of each advice: green to fund, amber to cut, red to hold back, blue to wait.
_BADGE = {
    BudgetAdvice.SUPPORT: "text-bg-success",
    BudgetAdvice.REDUCE: "text-bg-warning",
    BudgetAdvice.DEFER: "text-bg-danger",
    BudgetAdvice.AFTER_RECTIFICATION: "text-bg-info",
}


@register.filter
def advice_badge(advice: str) -> str:
    return _BADGE.get(advice, "text-bg-secondary")  # type: ignore[call-overload]
