"""Back-office of the working-day calendar: evaluation staff add a year the package does not
know yet (from the State Council's notice) and correct a date if need be."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from calendars.models import CalendarYear, DayKind, Holiday


class DaysFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        year = self.instance.year
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        for data in kept:
            day = data.get("date")
            if day and year and day.year != year:
                raise ValidationError(
                    gettext("%(date)s is not in %(year)s.") % {"date": day, "year": year}
                )
        # Every year has public holidays; a year saved without any would count as known and
        # make deadlines in it ignore its holidays.
        if not any(data.get("kind") == DayKind.HOLIDAY for data in kept):
            raise ValidationError(
                gettext("Enter the year's holidays (at least one) before saving it.")
            )


class HolidayInline(admin.TabularInline):
    model = Holiday
    formset = DaysFormSet
    fields = ("date", "kind", "name")
    extra = 3


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ("year", "holiday_count", "workday_count", "source")
    search_fields = ("year", "source")
    inlines = [HolidayInline]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return (
            super()
            .get_queryset(request)
            .annotate(
                holidays=Count("days", filter=Q(days__kind=DayKind.HOLIDAY)),
                workdays=Count("days", filter=Q(days__kind=DayKind.WORKDAY)),
            )
        )

    @admin.display(description=_("Holidays (days off)"), ordering="holidays")
    def holiday_count(self, obj: CalendarYear) -> int:
        return obj.holidays  # type: ignore[attr-defined]

    @admin.display(description=_("Make-up workdays"), ordering="workdays")
    def workday_count(self, obj: CalendarYear) -> int:
        return obj.workdays  # type: ignore[attr-defined]


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "weekday", "kind", "name", "calendar")
    list_filter = ("kind", "calendar")
    list_select_related = ("calendar",)
    search_fields = ("name",)
    date_hierarchy = "date"

    @admin.display(description=_("Weekday"))
    def weekday(self, obj: Holiday) -> str:
        return date_format(obj.date, "l")
