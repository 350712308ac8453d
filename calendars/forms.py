"""A deadline typed either as a date or as "N working days (工作日) from a start date"; and
the back-office form that enters a year from the State Council's notice."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from calendars.notice import parse_notice
from calendars.services import (
    MAX_WORKING_DAYS,
    WorkingDayCount,
    count_working_days,
    notice_changes,
    provisional_note,
)
from liwan import clock


class DeadlineForm(forms.Form):
    """Mix into a form that sets a deadline. After ``is_valid()``, ``cleaned_data["deadline"]``
    is the date, however it was typed; ``deadline_from_working_days`` says which way it was,
    and ``working_day_count`` carries the count (with its provisional years, if any).

    Both empty means "no date given"; what that means (no deadline, keep the current one) is
    the using form's business. The date field may be pre-filled with the current deadline: a
    number of working days typed while that date is left as it was replaces it, so nobody has
    to clear the date first; a date *changed* together with working days is refused.
    """

    deadline = forms.DateField(
        label=_("Deadline"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    working_days = forms.IntegerField(
        label=_("or: number of working days"),
        required=False,
        min_value=1,
        max_value=MAX_WORKING_DAYS,
        help_text=_(
            "Counts Chinese public holidays and make-up workdays (调休); replaces the date "
            "above when filled in."
        ),
    )
    working_days_from = forms.DateField(
        label=_("counted from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Today if left empty; the start day itself is not counted."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["working_days_from"].widget.attrs["placeholder"] = clock.today().isoformat()
        # static/js/deadline.js shows the date a number of working days gives while it is typed.
        self.fields["working_days"].widget.attrs["data-working-days-url"] = reverse(
            "calendars:working-days"
        )
        self.deadline_from_working_days = False
        self.working_day_count: WorkingDayCount | None = None
        # The year whose calendar is missing when the count was refused for that reason.
        self.missing_calendar_year: int | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        days = cleaned.get("working_days")
        if not days:
            return cleaned
        if cleaned.get("deadline") and "deadline" in self.changed_data:
            self.add_error(
                "working_days",
                ValidationError(
                    _("Enter either a date or a number of working days, not both."), code="both"
                ),
            )
            return cleaned
        start = cleaned.get("working_days_from") or clock.today()
        try:
            count = count_working_days(start=start, days=days)
        except ValidationError as exc:
            if exc.code == "calendar_unknown":
                self.missing_calendar_year = exc.params["year"]
            self.add_error("working_days", exc)
        else:
            cleaned["deadline"] = count.date
            self.deadline_from_working_days = True
            self.working_day_count = count
        return cleaned

    @property
    def provisional_note(self) -> str:
        """ "（暂定：…）" when the counted deadline rests on a provisional calendar, else ""."""
        count = self.working_day_count
        return provisional_note(count) if count is not None and count.provisional else ""


class CalendarNoticeForm(forms.Form):
    """A year's days off and make-up workdays, pasted from the State Council's notice."""

    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    source = forms.CharField(
        label=_("Source"),
        max_length=200,
        help_text=_("The notice's title or number, e.g. 国办发明电〔2026〕7号."),
        widget=forms.TextInput(attrs={"size": 60}),
    )
    text = forms.CharField(
        label=_("Dates of the notice"),
        widget=forms.Textarea(attrs={"rows": 10, "cols": 90}),
        max_length=5000,
        help_text=_(
            "Paste the notice's lines, one festival per line, e.g. "
            "“春节：2月6日至13日放假调休，共8天。2月14日（星期日）、2月20日（星期六）上班。”, "
            "or one date or range per line: “2027-02-06 至 2027-02-13 春节”, "
            "“2027-02-14 春节 上班”."
        ),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        year, text = cleaned.get("year"), cleaned.get("text")
        if year is None or not text:
            return cleaned
        notice = parse_notice(text, year=year)
        if notice.errors:
            raise ValidationError(notice.errors)
        cleaned["notice"] = notice
        # Raises for a notice without a holiday in the year or with dates of a year that has
        # no calendar; otherwise what confirming will change.
        cleaned["changes"] = notice_changes(year=year, days=notice.days)
        return cleaned
