"""The one writer of budget decisions."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from evaluations.models import EvaluationResult
from rectification.services import Actor
from results.choices import BudgetAdvice
from results.models import BudgetDecision
from results.rules import may_decide_budget_advice
from results.selectors import budget_rows


def decide_budget_advice(
    *,
    result: EvaluationResult,
    actor: Actor,
    advice: str,
    reason: str,
    seen_decision: int,
    today: datetime.date,
) -> BudgetDecision:
    """Staff set the advice of one project (``advice``), or return it to the rule's (``""``),
    with the reason. ``seen_decision`` is the newest decision the form showed (0: none): if
    someone decided since, nothing is written and the form says so."""
    if not may_decide_budget_advice(actor.user):
        raise PermissionDenied(_("Only evaluation staff decide the budget advice."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Please give the reason for the decision."), code="reason")
    if advice and advice not in BudgetAdvice.values:
        raise ValidationError(_("Please choose the budget advice."), code="advice")
    with transaction.atomic():
        locked = EvaluationResult.objects.select_for_update().get(pk=result.pk)
        row = next(iter(budget_rows([locked], today=today)))
        newest = row.decision.pk if row.decision else 0
        if newest != seen_decision:
            raise ValidationError(
                _(
                    "Someone else decided on this project's budget advice meanwhile; "
                    "read the current advice and decide again."
                ),
                code="stale",
            )
        current = row.decision.advice if row.decision else ""
        if advice == current:
            raise ValidationError(
                _("That is already the advice in force; nothing to change.")
                if advice
                else _("The advice already follows the rule; nothing to change."),
                code="unchanged",
            )
        return BudgetDecision.objects.create(
            result=locked,
            advice=advice,
            proposed=row.proposed,
            reason=reason,
            decided_by=actor.user,
        )
