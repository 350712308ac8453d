"""A deadline typed either as a date or as "N working days (工作日) from a start date"."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from calendars.services import MAX_WORKING_DAYS, add_working_days
from liwan import clock


class DeadlineForm(forms.Form):
    """Mix into a form that sets a deadline. After ``is_valid()``, ``cleaned_data["deadline"]``
    is the date, however it was typed; ``deadline_from_working_days`` says which way it was.

    Both empty means "no date given"; what that means (no deadline, keep the current one) is
    the using form's business.
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
        help_text=_("Counts Chinese public holidays and make-up workdays (调休)."),
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
        self.deadline_from_working_days = False
        # The year whose calendar is missing when the count was refused for that reason.
        self.missing_calendar_year: int | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        days = cleaned.get("working_days")
        if not days:
            return cleaned
        if cleaned.get("deadline"):
            self.add_error(
                "working_days",
                ValidationError(
                    _("Enter either a date or a number of working days, not both."), code="both"
                ),
            )
            return cleaned
        start = cleaned.get("working_days_from") or clock.today()
        try:
            cleaned["deadline"] = add_working_days(start=start, days=days)
        except ValidationError as exc:
            if exc.code == "calendar_unknown":
                self.missing_calendar_year = exc.params["year"]
            self.add_error("working_days", exc)
        else:
            self.deadline_from_working_days = True
        return cleaned
