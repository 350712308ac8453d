"""Working-day arithmetic (工作日) over the holiday table, and seeding that table.

A working day is Monday to Friday unless the table lists it as a holiday, or a Saturday or
Sunday that the table lists as a make-up workday (调休上班). Every year the counting passes
through must have a ``CalendarYear``. A year nobody has entered yet becomes *provisional* when a
count first needs it (``ensure_provisional_year``): its statutory days off computed from the
law, no 调休. The count says which provisional years and holidays it used
(``WorkingDayCount``), so a deadline can be marked 暂定 and re-checked once the State Council's
notice is entered (``confirm_year``). Beyond the years the law can sensibly stand in for a
notice, the count is refused with a message saying which year is missing.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from calendars import sources
from calendars.models import CalendarYear, DayKind, Holiday, YearStatus
from liwan import clock

# A deadline is months away, not years; the bound also keeps a typo from looping for long.
MAX_WORKING_DAYS = 750
# How far ahead of today a year may be made provisional. 750 working days are about three
# years; a count beyond that is a typo (2099), and the law may well have changed by then.
PROVISIONAL_YEARS_AHEAD = 3


@dataclass(frozen=True)
class CountedHoliday:
    """A provisional holiday the count skipped: a weekday it would otherwise have counted."""

    date: datetime.date
    name: str


@dataclass(frozen=True)
class WorkingDayCount:
    """The result of counting working days, with what it took on trust.

    ``provisional_years`` are the years of the counted days (after the start, up to ``date``)
    whose calendar is still provisional; ``provisional_holidays`` the weekdays of those years
    the count skipped as statutory holidays. Both empty: the date stands on confirmed
    calendars only.

    This is the hook for marking a deadline 暂定: whoever stores the deadline keeps
    ``provisional_years`` with it, and lists the deadline for re-checking when
    ``confirm_year`` (or ``provisional_changes``) reports changed dates in one of those years
    between the count's start and the deadline.
    """

    date: datetime.date
    start: datetime.date
    days: int
    provisional_years: tuple[int, ...] = ()
    provisional_holidays: tuple[CountedHoliday, ...] = ()

    @property
    def provisional(self) -> bool:
        return bool(self.provisional_years)


def add_working_days(*, start: datetime.date, days: int) -> datetime.date:
    """The date ``days`` working days after ``start`` (see ``count_working_days``)."""
    return count_working_days(start=start, days=days).date


def count_working_days(*, start: datetime.date, days: int) -> WorkingDayCount:
    """Count ``days`` working days after ``start``; ``start`` itself is not counted.

    "30 个工作日 from Monday 2020-09-28" is the 30th working day after that Monday. A year
    the count reaches without a calendar is made provisional when the law may stand in for it
    (``ensure_provisional_year``). Raises a ``ValidationError`` (code ``calendar_unknown``)
    when the count reaches a year without a calendar that may not be provisional, and (code
    ``days``) for a number of days outside 1…MAX_WORKING_DAYS.
    """
    if not 1 <= days <= MAX_WORKING_DAYS:
        raise ValidationError(
            _("The number of working days must be between 1 and %(max)d."),
            code="days",
            params={"max": MAX_WORKING_DAYS},
        )
    statuses = dict(CalendarYear.objects.values_list("year", "status"))
    special: dict[datetime.date, tuple[str, str]] = {}
    loaded_until = start
    used_provisional: set[int] = set()
    skipped: list[CountedHoliday] = []
    day, remaining = start, days
    while remaining:
        day += datetime.timedelta(days=1)
        if day.year not in statuses:
            calendar = ensure_provisional_year(year=day.year)
            if calendar is None:
                raise _calendar_unknown(year=day.year, days=days, start=start)
            statuses[day.year] = calendar.status
            loaded_until = day - datetime.timedelta(days=1)  # its days are new: read them
        if day > loaded_until:
            # One query per window; a window covers the rest of the count with room for the
            # longest holidays (eight days off around 国庆节), so one or two queries suffice.
            loaded_until = day + datetime.timedelta(days=remaining * 2 + 30)
            rows = Holiday.objects.filter(date__range=(day, loaded_until))
            for date, kind, name in rows.values_list("date", "kind", "name"):
                special[date] = (kind, name)
        provisional = statuses[day.year] == YearStatus.PROVISIONAL
        if provisional:
            used_provisional.add(day.year)
        kind, name = special.get(day, ("", ""))
        if _is_working_day(day, kind):
            remaining -= 1
        elif provisional and kind == DayKind.HOLIDAY and day.weekday() < 5:
            skipped.append(CountedHoliday(date=day, name=name))
    return WorkingDayCount(
        date=day,
        start=start,
        days=days,
        provisional_years=tuple(sorted(used_provisional)),
        provisional_holidays=tuple(skipped),
    )


def provisional_note(count: WorkingDayCount) -> str:
    """How a date counted on provisional calendars is marked wherever it is shown, e.g.
    "暂定：含 2027 年暂定节假日 元旦（2027-01-01）"."""
    years = "、".join(str(y) for y in count.provisional_years)
    if not count.provisional_holidays:
        return _("provisional: the calendar of %(years)s is provisional") % {"years": years}
    names: dict[str, list[str]] = {}
    for holiday in count.provisional_holidays:
        names.setdefault(holiday.name, []).append(holiday.date.isoformat())
    holidays = "、".join(f"{name}（{'、'.join(dates)}）" for name, dates in names.items())
    return _("provisional: includes the provisional holidays of %(years)s: %(holidays)s") % {
        "years": years,
        "holidays": holidays,
    }


def _calendar_unknown(*, year: int, days: int, start: datetime.date) -> ValidationError:
    return ValidationError(
        _(
            "The working-day calendar of %(year)s is not known yet, so %(days)s working "
            "days from %(start)s cannot be counted. Evaluation staff can add that year's "
            "holidays and make-up workdays in the back-office (Working-day calendar); "
            "until then, enter the deadline as a date."
        ),
        code="calendar_unknown",
        # The year is data too: the form offers a link to enter that year's calendar.
        params={"year": year, "days": days, "start": start.isoformat()},
    )


def _is_working_day(day: datetime.date, kind: str) -> bool:
    if kind == DayKind.WORKDAY:
        return True
    if kind == DayKind.HOLIDAY:
        return False
    return day.weekday() < 5


def may_be_provisional(year: int, *, today: datetime.date | None = None) -> bool:
    """Whether the law may stand in for ``year``'s missing notice: from the year the law in
    force took effect up to PROVISIONAL_YEARS_AHEAD years after today."""
    today = today or clock.today()
    return sources.STATUTORY_DAYS_SINCE <= year <= today.year + PROVISIONAL_YEARS_AHEAD


def ensure_provisional_year(*, year: int) -> CalendarYear | None:
    """The calendar of ``year``: the one in the table, whatever its status, or else a new
    provisional one holding the law's statutory days off. ``None`` when the year has no
    calendar and may not be provisional (``may_be_provisional``).

    Created on demand rather than seeded after migrate: a count in December needs next year
    whether or not anyone has deployed since January. Idempotent, and safe when two requests
    need the same year at once (the year is unique); an existing year is never changed.
    """
    existing = CalendarYear.objects.filter(year=year).first()
    if existing is not None or not may_be_provisional(year):
        return existing
    days = sources.statutory_days_off(year)
    try:
        with transaction.atomic():
            calendar = CalendarYear.objects.create(
                year=year,
                status=YearStatus.PROVISIONAL,
                source=sources.statutory_source(),
                provisional_since=timezone.now(),
            )
            Holiday.objects.bulk_create(
                Holiday(calendar=calendar, date=date, kind=DayKind.HOLIDAY, name=name)
                for date, name in days
            )
    except IntegrityError:
        # Another request created it between our read and our write: theirs stands.
        return CalendarYear.objects.get(year=year)
    return calendar


# --- confirming a year from the State Council's notice ------------------------------------------


@dataclass(frozen=True)
class NoticeDay:
    """One date of a notice: a day off (``DayKind.HOLIDAY``) or a make-up workday."""

    date: datetime.date
    kind: str
    name: str


@dataclass(frozen=True)
class CalendarChanges:
    """Dates whose working-day status differs between two versions of a calendar.

    ``now_off``: counted as working days before, days off now (the notice adds days off
    around a festival); ``now_working``: days off before, working days now (a 调休 make-up
    Saturday or Sunday, or a statutory day the new calendar does not give). A deadline counted
    over one of these dates on the old calendar is one working day off per date.
    """

    year: int
    was_provisional: bool
    now_off: tuple[datetime.date, ...] = ()
    now_working: tuple[datetime.date, ...] = ()

    @property
    def dates(self) -> tuple[datetime.date, ...]:
        return tuple(sorted(self.now_off + self.now_working))

    @property
    def first(self) -> datetime.date | None:
        return self.dates[0] if self.dates else None

    def __bool__(self) -> bool:
        return bool(self.now_off or self.now_working)


def _compare(
    *,
    year: int,
    was_provisional: bool,
    before: Iterable[tuple[datetime.date, str]],
    after: Iterable[tuple[datetime.date, str]],
) -> CalendarChanges:
    old_kinds, new_kinds = dict(before), dict(after)
    dates = sorted(old_kinds.keys() | new_kinds.keys())
    old = {d: _is_working_day(d, old_kinds.get(d, "")) for d in dates}
    new = {d: _is_working_day(d, new_kinds.get(d, "")) for d in dates}
    return CalendarChanges(
        year=year,
        was_provisional=was_provisional,
        now_off=tuple(d for d in dates if old[d] and not new[d]),
        now_working=tuple(d for d in dates if new[d] and not old[d]),
    )


def provisional_changes(*, year: int) -> CalendarChanges:
    """For a year confirmed after being provisional: the dates its provisional calendar
    counted differently from the calendar now in the table.

    The provisional calendar is recomputed from the law: a provisional year holds exactly the
    law's days (it is created so, and the back-office changes it only through
    ``confirm_year``). Empty for a year that is still provisional, and for a year that never
    was (seeded from the package, or entered from the notice straight away).
    """
    calendar = CalendarYear.objects.get(year=year)
    if calendar.is_provisional or calendar.provisional_since is None:
        return CalendarChanges(year=year, was_provisional=calendar.is_provisional)
    law = [(date, DayKind.HOLIDAY) for date, _name in sources.statutory_days_off(year)]
    table = Holiday.objects.filter(date__year=year).values_list("date", "kind")
    return _compare(year=year, was_provisional=True, before=law, after=table)


def _notice_checks(
    *, year: int, days: Sequence[NoticeDay], calendars: dict[int, CalendarYear]
) -> None:
    if not any(d.kind == DayKind.HOLIDAY and d.date.year == year for d in days):
        raise ValidationError(
            _("Enter the year's holidays (at least one) before saving it."), code="no_holidays"
        )
    missing = sorted({d.date.year for d in days} - {year} - calendars.keys())
    if missing:
        raise ValidationError(
            _(
                "The notice lists dates of %(years)s, which has no calendar yet; enter that "
                "year first or leave those dates out."
            ),
            code="neighbour_unknown",
            params={"years": "、".join(str(y) for y in missing)},
        )


def _notice_changes(
    *, year: int, days: Sequence[NoticeDay], calendar: CalendarYear | None
) -> CalendarChanges:
    outside = [d.date for d in days if d.date.year != year]
    # What was counted until now: the year's days (nothing for a year without a calendar:
    # every count into it was refused) and the neighbouring dates the notice rewrites.
    replaced = Q(date__in=outside) | (Q(calendar=calendar) if calendar is not None else Q())
    before = Holiday.objects.filter(replaced).values_list("date", "kind")
    after = [(d.date, d.kind) for d in days if calendar is not None or d.date.year != year]
    was_provisional = calendar is not None and calendar.is_provisional
    return _compare(year=year, was_provisional=was_provisional, before=before, after=after)


def notice_changes(*, year: int, days: Sequence[NoticeDay]) -> CalendarChanges:
    """What ``confirm_year`` would report, without writing anything (for the preview)."""
    years = {year} | {d.date.year for d in days}
    calendars = {c.year: c for c in CalendarYear.objects.filter(year__in=years)}
    _notice_checks(year=year, days=days, calendars=calendars)
    return _notice_changes(year=year, days=days, calendar=calendars.get(year))


@transaction.atomic
def confirm_year(*, year: int, days: Sequence[NoticeDay], source: str) -> CalendarChanges:
    """Replace the days of ``year`` (provisional, confirmed, or not in the table yet) with the
    notice's ``days`` and mark the year confirmed.

    A notice may list days of the year before (元旦 from 30 December, a make-up Sunday in
    December): they replace that date in that year's calendar, which must exist. Returns the
    dates whose working-day status changed, in any year, for the deadlines counted over them
    to be re-checked; no deadline is moved here.
    """
    years = {year} | {d.date.year for d in days}
    calendars = {c.year: c for c in CalendarYear.objects.select_for_update().filter(year__in=years)}
    _notice_checks(year=year, days=days, calendars=calendars)
    calendar = calendars.get(year)
    changes = _notice_changes(year=year, days=days, calendar=calendar)
    if calendar is None:
        calendar = calendars[year] = CalendarYear.objects.create(year=year)
    calendar.status = YearStatus.CONFIRMED
    calendar.source = source
    calendar.confirmed_at = timezone.now()
    calendar.save(update_fields=["status", "source", "confirmed_at"])
    outside = [d.date for d in days if d.date.year != year]
    Holiday.objects.filter(Q(calendar=calendar) | Q(date__in=outside)).delete()
    Holiday.objects.bulk_create(
        Holiday(calendar=calendars[d.date.year], date=d.date, kind=d.kind, name=d.name)
        for d in days
    )
    return changes


def known_years() -> list[int]:
    return sorted(CalendarYear.objects.values_list("year", flat=True))


@dataclass
class SeedReport:
    added: list[int] = field(default_factory=list)  # years written from the package
    kept: list[int] = field(default_factory=list)  # years already in the table, left alone
    # Provisional years the package now knows: staff confirm them (the notice form), so that
    # the deadlines counted on them are listed for re-checking.
    to_confirm: list[int] = field(default_factory=list)

    def summary(self) -> str:
        # Management commands speak Chinese only, like the importer.
        added = "、".join(str(y) for y in self.added) or "无"
        text = (
            f"新增日历年度 {len(self.added)} 个（{added}）；"
            f"已有的 {len(self.kept)} 个年度保持不变。"
        )
        if self.to_confirm:
            years = "、".join(str(y) for y in self.to_confirm)
            text += (
                f"{years} 年为暂定日历，软件包已有其放假安排：请在后台“工作日日历”中按国务院"
                "办公厅通知确认该年度。"
            )
        return text


@transaction.atomic
def seed_from_package() -> SeedReport:
    """Add every year the chinesecalendar package knows and the table does not.

    Years already in the table are never touched: staff may have corrected them, and a year
    they entered by hand before the package caught up stays theirs.
    """
    report = SeedReport()
    existing = dict(CalendarYear.objects.values_list("year", "status"))
    source = sources.package_source()
    for year, rows in sources.package_calendar().items():
        if year in existing:
            report.kept.append(year)
            if existing[year] == YearStatus.PROVISIONAL:
                report.to_confirm.append(year)
            continue
        calendar = CalendarYear.objects.create(year=year, source=source)
        Holiday.objects.bulk_create(
            Holiday(calendar=calendar, date=day, kind=kind, name=name) for day, kind, name in rows
        )
        report.added.append(year)
    return report


def working_days_after_each(
    starts: Iterable[datetime.date], *, days: int
) -> dict[datetime.date, datetime.date]:
    """``days`` working days after each of many start dates, reading the holiday table once
    (the reminder sweep asks this for every submission waiting for review).

    Unlike :func:`add_working_days` it never refuses: a sweep must not stop because next year's
    calendar is missing, so a year without one counts Monday to Friday, and the reminder may
    come a holiday's length early.
    """
    starts = sorted(set(starts))
    if not starts:
        return {}
    end = starts[-1] + datetime.timedelta(days=days * 2 + 30)
    special = dict(Holiday.objects.filter(date__range=(starts[0], end)).values_list("date", "kind"))
    result = {}
    for start in starts:
        day, remaining = start, days
        while remaining:
            day += datetime.timedelta(days=1)
            if _is_working_day(day, special.get(day, "")):
                remaining -= 1
        result[start] = day
    return result
