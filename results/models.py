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


class PublicWording(models.Model):
    """The wording of one item as the bureau publishes it (整改情况公开), kept apart from the
    ledger's own texts: the unit's measures may name people or carry numbers the public must
    not read, and editing them here changes nothing in the ledger.

    Staff confirm what the redaction check finds in the wording explicitly (a leader's name
    may be meant to stand); ``confirmed`` keeps those findings (``Flag.key``), so a finding
    nobody confirmed — typed in later, or a person's name the ledger learns afterwards —
    holds publishing back again."""

    item = models.OneToOneField(
        "rectification.RectificationItem",
        verbose_name=_("rectification item"),
        on_delete=models.PROTECT,
        related_name="public_wording",
    )
    problem = models.TextField(_("problem"))
    measures = models.TextField(_("measures"))
    document = models.CharField(_("document and date"), max_length=300, blank=True)
    confirmed = models.JSONField(_("confirmed findings"), default=list, blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("edited by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    edited_at = models.DateTimeField(_("edited at"), default=clock.now)

    class Meta:
        verbose_name = _("public wording")
        verbose_name_plural = _("public wordings")

    def __str__(self) -> str:
        return str(self.item)


class Publication(models.Model):
    """One published version of a round's rectification results. ``content`` is everything
    the public reads, frozen when published; the page, the Word file and the PDF are drawn
    from it, and ``sha256`` (of its canonical JSON) lets anyone show a copy is unaltered."""

    year = models.PositiveSmallIntegerField(_("year"))
    number = models.PositiveSmallIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    # The units published, empty for the whole round.
    units = models.ManyToManyField(
        "evaluations.Unit", verbose_name=_("units"), blank=True, related_name="+"
    )
    content = models.JSONField(_("content"))
    sha256 = models.CharField("SHA-256", max_length=64)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["year", "number"], name="publication_year_number")
        ]

    def __str__(self) -> str:
        return f"{self.title}（{self.number}）"
