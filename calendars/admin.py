"""Back-office of the working-day calendar: evaluation staff add a year the package does not
know yet, or confirm a provisional one, from the State Council's notice (pasted, previewed,
then saved), and correct a date if need be."""

from __future__ import annotations

import hashlib

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from calendars.forms import CalendarNoticeForm
from calendars.models import CalendarYear, DayKind, Holiday, YearStatus
from calendars.notice import weekday_name
from calendars.services import confirm_year
from liwan import clock


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

    # A provisional year holds exactly the law's days: it changes only by being confirmed from
    # the notice (the notice page), which lists the dates that changed for re-checking.
    @staticmethod
    def _provisional(obj: CalendarYear | None) -> bool:
        return obj is not None and obj.is_provisional

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return super().has_add_permission(request, obj) and not self._provisional(obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return super().has_change_permission(request, obj) and not self._provisional(obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return super().has_delete_permission(request, obj) and not self._provisional(obj)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ("year", "status", "holiday_count", "workday_count", "source")
    list_filter = ("status",)
    search_fields = ("year", "source")
    readonly_fields = ("status", "provisional_since", "confirmed_at")
    inlines = [HolidayInline]

    def get_urls(self):  # type: ignore[no-untyped-def]
        own = [
            path(
                "notice/",
                self.admin_site.admin_view(self.notice_view),
                name="calendars_calendaryear_notice",
            )
        ]
        return own + super().get_urls()

    def notice_view(self, request: HttpRequest) -> HttpResponse:
        """Paste the notice → preview what will be stored and what changes → confirm."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Enter or confirm a year from the State Council's notice"),
            "step": "form",
        }
        if request.method != "POST":
            form = CalendarNoticeForm(initial={"year": _year_to_offer(request.GET.get("year"))})
            year = form.initial["year"]
        else:
            form = CalendarNoticeForm(request.POST)
            year = None
        if form.is_valid():
            data = form.cleaned_data
            year = data["year"]
            digest = _digest(data)
            if "confirm" in request.POST and request.POST.get("digest") == digest:
                changes = confirm_year(year=year, days=data["notice"].days, source=data["source"])
                messages.success(
                    request, gettext("The calendar of %(year)s is confirmed.") % {"year": year}
                )
                # The deadlines counted over the changed dates are the ledger's to list (its
                # "recheck" filter); the page links there.
                context.update(step="done", changes=changes)
            else:
                # Saving needs the digest of exactly what was previewed: a text edited after
                # the preview is previewed again, never saved unseen.
                context.update(step="preview", rows=_preview_rows(data["notice"].days))
                context.update(warnings=data["notice"].warnings, changes=data["changes"])
                context["digest"] = digest
        current = CalendarYear.objects.filter(year=year).first() if year else None
        context.update(form=form, year=year, current=current)
        return TemplateResponse(request, "admin/calendars/calendaryear/notice.html", context)

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


def _digest(data: dict) -> str:
    text = "\n".join((str(data["year"]), data["source"], data["text"]))
    return hashlib.sha256(text.encode()).hexdigest()


def _year_to_offer(asked: str | None) -> int:
    """The year the form starts with: the one asked for, else the first provisional year, else
    next year."""
    if asked and asked.isascii() and asked.isdigit() and len(asked) == 4:
        return int(asked)
    provisional = (
        CalendarYear.objects.filter(status=YearStatus.PROVISIONAL)
        .order_by("year")
        .values_list("year", flat=True)
        .first()
    )
    return provisional or clock.today().year + 1


def _preview_rows(days):  # type: ignore[no-untyped-def]
    return [
        {
            "date": day.date,
            "weekday": weekday_name(day.date),
            "kind": DayKind(day.kind).label,
            "workday": day.kind == DayKind.WORKDAY,
            "name": day.name,
        }
        for day in days
    ]
