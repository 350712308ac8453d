"""The working-day count as JSON, for the deadline field to show the date before saving."""

from __future__ import annotations

import datetime

from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views import View

from accounts.roles import is_evaluation_staff
from calendars.services import MAX_WORKING_DAYS, count_working_days, provisional_note
from liwan import clock


class WorkingDaysView(LoginRequiredMixin, UserPassesTestMixin, View):
    """GET ?days=30&from=2026-12-03 → {"date": "2027-01-15", "provisional": true, …}.

    Staff only: they are the ones who set deadlines. Counting may create a provisional year
    (``calendars.services.ensure_provisional_year``), which is why it is not open to everyone.
    """

    def test_func(self) -> bool:
        return is_evaluation_staff(self.request.user)

    def get(self, request: HttpRequest) -> JsonResponse:
        raw_days = request.GET.get("days", "").strip()
        raw_start = request.GET.get("from", "").strip()
        if not (raw_days.isascii() and raw_days.isdigit() and len(raw_days) <= 4):
            return _error(
                _("The number of working days must be between 1 and %(max)d.")
                % {"max": MAX_WORKING_DAYS}
            )
        try:
            start = datetime.date.fromisoformat(raw_start) if raw_start else clock.today()
        except ValueError:
            return _error(_("Enter a valid start date (YYYY-MM-DD)."))
        try:
            count = count_working_days(start=start, days=int(raw_days))
        except ValidationError as exc:
            return _error(" ".join(exc.messages))
        date = count.date.isoformat()
        summary = f"= {date}"
        if count.provisional:
            summary = _("= %(date)s (%(note)s)") % {"date": date, "note": provisional_note(count)}
        return JsonResponse(
            {
                "date": date,
                "start": count.start.isoformat(),
                "days": count.days,
                "provisional": count.provisional,
                "provisional_years": list(count.provisional_years),
                "holidays": [
                    {"date": h.date.isoformat(), "name": h.name} for h in count.provisional_holidays
                ],
                # The line the deadline field shows: "= 2027-01-15（暂定：…）".
                "summary": summary,
            }
        )


def _error(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)
