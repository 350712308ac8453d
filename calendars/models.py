"""The working-day calendar (工作日): China's public holidays and make-up workdays (调休上班).

Saturdays and Sundays are days off and Monday to Friday are working days, except the dates
listed here: a *holiday* is a day off (国庆节 1–8 October, say, even when it falls on a
weekday) and a *make-up workday* is a weekend day worked in exchange (调休上班). The State
Council publishes each year's arrangement in the November or December before, so a year is only
known once it has a :class:`CalendarYear`. Until the notice appears, a year can be *provisional*
(暂定): its statutory days off computed from the law, without the notice's 调休 make-up days;
staff confirm it from the notice (``calendars.services.confirm_year``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday (day off)")
    WORKDAY = "workday", _("Make-up workday")


class YearStatus(models.TextChoices):
    # From the law only (《全国年节及纪念日放假办法》): the statutory days off, no 调休.
    PROVISIONAL = "provisional", _("Provisional (statutory days only)")
    # From the State Council's notice: every day off and every make-up workday.
    CONFIRMED = "confirmed", _("Confirmed (State Council notice)")


class CalendarYear(models.Model):
    """A year whose holidays and make-up workdays are all entered, so working days can be
    counted through it. Seeded from the chinesecalendar package; staff add later years. A
    provisional year is created by the count itself when it needs a year nobody entered."""

    year = models.PositiveSmallIntegerField(
        _("year"),
        unique=True,
        validators=[MinValueValidator(2000), MaxValueValidator(2100)],
        help_text=_(
            "Add a year only together with all its holidays and make-up workdays, as the State "
            "Council's notice on that year's public holidays lists them."
        ),
    )
    source = models.CharField(
        _("source"),
        max_length=200,
        blank=True,
        help_text=_("Where the dates come from, e.g. the number of the State Council's notice."),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=YearStatus.choices, default=YearStatus.CONFIRMED
    )
    # Set when the year is created provisional and kept once it is confirmed: since when
    # deadlines may have been counted on the law's days alone (None: never provisional).
    provisional_since = models.DateTimeField(_("provisional since"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                condition=Q(year__gte=2000) & Q(year__lte=2100), name="calendar_year_plausible"
            ),
            models.CheckConstraint(
                condition=Q(status__in=YearStatus.values), name="calendar_year_status_valid"
            ),
        ]

    def __str__(self) -> str:
        if self.is_provisional:
            return gettext("Calendar %(year)s (provisional)") % {"year": self.year}
        return gettext("Calendar %(year)s") % {"year": self.year}

    @property
    def is_provisional(self) -> bool:
        return self.status == YearStatus.PROVISIONAL


class Holiday(models.Model):
    """One exception to the Monday-to-Friday week: a day off, or a weekend day worked."""

    calendar = models.ForeignKey(
        CalendarYear,
        verbose_name=_("calendar year"),
        on_delete=models.CASCADE,
        related_name="days",
    )
    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=50, help_text=_("e.g. 国庆节, 春节"))

    class Meta:
        verbose_name = _("holiday or make-up workday")
        verbose_name_plural = _("holidays and make-up workdays")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=DayKind.values), name="holiday_kind_valid")
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}（{self.get_kind_display()}）"

    def clean(self) -> None:
        # The calendar year says which years are complete; a date filed under another year
        # would make a year look known while its own dates are missing.
        try:
            calendar = self.calendar
        except CalendarYear.DoesNotExist:
            return  # the form reports the missing year itself
        if self.date and self.date.year != calendar.year:
            raise ValidationError(
                {
                    "date": gettext("This date is not in %(year)s.") % {"year": calendar.year},
                },
                code="wrong_year",
            )
