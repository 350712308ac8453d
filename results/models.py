from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from liwan import clock
from results.choices import BudgetAdvice


class BudgetDecision(models.Model):
    """Staff's advice on a project's budget where it differs from the rule's, with the reason.

    Append-only: each override, and each return to the rule's advice (``advice`` empty), is a new
    row, so the rows of a result are its history and the newest one applies.
    """

    result = models.ForeignKey(
        "evaluations.EvaluationResult",
        verbose_name=_("evaluation result"),
        on_delete=models.PROTECT,
        related_name="budget_decisions",
    )
    # Empty: back to the rule's advice.
    advice = models.CharField(
        _("budget advice"), max_length=20, choices=BudgetAdvice.choices, blank=True
    )
    # What the rule proposed when staff decided, so the history reads "rule said X, staff Y".
    proposed = models.CharField(
        _("proposed by the rule"), max_length=20, choices=BudgetAdvice.choices
    )
    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("budget advice decision")
        verbose_name_plural = _("budget advice decisions")
        ordering = ["result", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(advice="") | Q(advice__in=BudgetAdvice.values),
                name="budget_decision_advice_valid",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="budget_decision_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.result} {self.get_advice_display() or '—'}"
