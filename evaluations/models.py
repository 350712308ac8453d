"""What the yearly performance evaluation found. Imported, then read by the ledger.

The natural keys here are the ones the importer matches on, so re-importing a corrected table
updates rows in place instead of duplicating them: unit by name, project by (unit, name),
result by (round, project), finding by (result, number).
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Grade(models.TextChoices):
    """National grading bands for third-party performance scores (see ``grade_for_score``)."""

    # The value is what the summary tables print (and what the database stores).
    EXCELLENT = "优", _("Excellent")
    GOOD = "良", _("Good")
    FAIR = "中", _("Fair")
    POOR = "差", _("Poor")


def grade_for_score(score: Decimal) -> Grade:
    """90–100 优, 80–90 良, 60–80 中, below 60 差; a boundary score takes the higher band."""
    if score >= 90:
        return Grade.EXCELLENT
    if score >= 80:
        return Grade.GOOD
    if score >= 60:
        return Grade.FAIR
    return Grade.POOR


class WebhookKind(models.TextChoices):
    """Group-chat robots a unit's notifications can be posted to (docs/design.md)."""

    WECOM = "wecom", _("WeCom / Yuezhengyi group robot")
    DINGTALK = "dingtalk", _("DingTalk group robot")


class Unit(models.Model):
    """An implementing unit (实施单位) funded by the district."""

    name = models.CharField(_("unit name"), max_length=100, unique=True)
    short_name = models.CharField(_("short name"), max_length=30, blank=True)
    # Where reminders go when a unit has no named owner; unit users get their own mail too.
    email = models.EmailField(_("notification e-mail"), blank=True)
    # The evaluation staff member who reviews this unit's submissions and extension requests
    # (falls back to the round's reviewer, then to all evaluation staff).
    reviewer = models.ForeignKey(
        "accounts.User",
        verbose_name=_("reviewer at the bureau"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviewed_units",
    )
    # Whether a submission for closure by the unit's staff goes to its head first (负责人确认).
    head_signoff = models.BooleanField(
        _("unit head signs off submissions"),
        default=True,
        help_text=_("A submission by the unit's staff goes to its head before the bureau."),
    )
    # A group-chat robot that receives the unit's notifications and reminders as well.
    webhook_kind = models.CharField(
        _("group robot"), max_length=10, choices=WebhookKind.choices, blank=True
    )
    webhook_url = models.URLField(_("group robot address"), max_length=500, blank=True)
    webhook_secret = models.CharField(
        _("group robot signing secret"),
        max_length=200,
        blank=True,
        help_text=_("DingTalk robots with signing enabled only."),
    )

    class Meta:
        verbose_name = _("implementing unit")
        verbose_name_plural = _("implementing units")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.short_name or self.name


class EvaluationRound(models.Model):
    """One year's batch of key performance evaluations (年度重点评价)."""

    year = models.PositiveSmallIntegerField(
        _("evaluation year"),
        unique=True,
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
    )
    title = models.CharField(_("title"), max_length=200)
    evaluator = models.CharField(_("evaluator"), max_length=100, blank=True)
    issued_on = models.DateField(_("issued on"), null=True, blank=True)
    # Reviews the round's submissions where a unit has no reviewer of its own.
    reviewer = models.ForeignKey(
        "accounts.User",
        verbose_name=_("reviewer at the bureau"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviewed_rounds",
    )

    class Meta:
        verbose_name = _("evaluation round")
        verbose_name_plural = _("evaluation rounds")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(year__gte=2000) & Q(year__lte=2100), name="round_year_plausible"
            )
        ]

    def __str__(self) -> str:
        return gettext("Year %(year)s") % {"year": self.year}


class Project(models.Model):
    """A fiscal-expenditure project of one unit; it may be evaluated in several years."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="projects"
    )
    name = models.CharField(_("project name"), max_length=200)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["unit__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "name"], name="project_unique_per_unit")
        ]

    def __str__(self) -> str:
        return self.name


class EvaluationResult(models.Model):
    """One row of a year's summary table: a project's goal, money and score in that round.

    The goal lives here rather than on ``Project`` because it is restated every year.
    """

    round = models.ForeignKey(
        EvaluationRound,
        verbose_name=_("evaluation round"),
        on_delete=models.PROTECT,
        related_name="results",
    )
    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="results"
    )
    seq = models.PositiveIntegerField(_("sequence number"))
    goal = models.TextField(_("performance goal"), blank=True)
    # Amounts in 万元 with two decimals, as printed in the summary table.
    budget = models.DecimalField(_("budget (10k yuan)"), max_digits=14, decimal_places=2)
    spent = models.DecimalField(_("spent (10k yuan)"), max_digits=14, decimal_places=2)
    # Percentage points: 99.97 means 99.97 %.
    completion_rate = models.DecimalField(
        _("budget completion rate (%)"), max_digits=7, decimal_places=2
    )
    score = models.DecimalField(
        _("score"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices)

    class Meta:
        verbose_name = _("evaluation result")
        verbose_name_plural = _("evaluation results")
        ordering = ["round", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["round", "project"], name="result_unique_per_round"),
            models.UniqueConstraint(fields=["round", "seq"], name="result_seq_unique_per_round"),
            models.CheckConstraint(
                condition=Q(score__gte=0) & Q(score__lte=100), name="result_score_0_100"
            ),
            models.CheckConstraint(
                condition=Q(budget__gte=0) & Q(spent__gte=0), name="result_amounts_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(completion_rate__gte=0), name="result_rate_not_negative"
            ),
            models.CheckConstraint(condition=Q(grade__in=Grade.values), name="result_grade_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.round} {self.project}"


class FindingCategory(models.Model):
    """A kind of weakness (问题类别) that recurs across units: 绩效目标与指标设置, 预算编制与执行…

    A small taxonomy that evaluation staff edit in the back-office; findings carry several.
    The dashboard counts findings per category across units (common-problem analysis).
    """

    name = models.CharField(_("category name"), max_length=50, unique=True)
    order = models.PositiveSmallIntegerField(_("display order"), default=0)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("problem category")
        verbose_name_plural = _("problem categories")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class Finding(models.Model):
    """A problem (问题) found by the evaluation, numbered （一）（二）… within its result."""

    result = models.ForeignKey(
        EvaluationResult,
        verbose_name=_("evaluation result"),
        on_delete=models.PROTECT,
        related_name="findings",
    )
    number = models.PositiveSmallIntegerField(
        _("sequence number"), validators=[MinValueValidator(1)]
    )
    title = models.CharField(_("finding title"), max_length=300)
    body = models.TextField(_("finding text"), blank=True)
    categories = models.ManyToManyField(
        FindingCategory,
        verbose_name=_("problem categories"),
        blank=True,
        related_name="findings",
    )

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["result", "number"]
        constraints = [
            models.UniqueConstraint(fields=["result", "number"], name="finding_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="finding_number_positive"),
        ]

    def __str__(self) -> str:
        return f"（{chinese_numeral(self.number)}）{self.title}"

    @property
    def full_text(self) -> str:
        return join_title_body(self.title, self.body)


class Recommendation(models.Model):
    """A recommendation (建议); recommendation （N） answers finding （N）, so it hangs off it."""

    finding = models.OneToOneField(
        Finding,
        verbose_name=_("corresponding finding"),
        on_delete=models.PROTECT,
        related_name="recommendation",
    )
    title = models.CharField(_("recommendation title"), max_length=300)
    body = models.TextField(_("recommendation text"), blank=True)

    class Meta:
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        ordering = ["finding"]

    def __str__(self) -> str:
        return f"（{chinese_numeral(self.finding.number)}）{self.title}"

    @property
    def full_text(self) -> str:
        return join_title_body(self.title, self.body)


def join_title_body(title: str, body: str) -> str:
    """Full text of a numbered item as the summary table prints it: title, then body."""
    return f"{title}\n{body}" if body else title


_DIGITS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (the numbering of findings, up to 99)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    text = ""
    if tens:
        text = ("" if tens == 1 else _DIGITS[tens]) + "十"
    if ones:
        text += _DIGITS[ones]
    return text


def parse_chinese_numeral(text: str) -> int | None:
    """Inverse of :func:`chinese_numeral`; ``None`` when ``text`` is not such a numeral."""
    if not text or any(ch not in _DIGITS + "十" for ch in text) or "零" in text:
        return None
    if "十" not in text:
        return _DIGITS.index(text) if len(text) == 1 else None
    tens_text, _sep, ones_text = text.partition("十")
    if "十" in ones_text or len(tens_text) > 1 or len(ones_text) > 1:
        return None
    tens = _DIGITS.index(tens_text) if tens_text else 1
    ones = _DIGITS.index(ones_text) if ones_text else 0
    return tens * 10 + ones
