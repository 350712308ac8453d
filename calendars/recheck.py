"""Which deadlines to re-check after a provisional year is confirmed.

Until an item records how its deadline was computed (``WorkingDayCount.provisional_years``,
see ``calendars.services``), the ledger cannot tell a deadline counted in working days over
the provisional calendar from one typed as a date. This lists every deadline that *may* have
been: an open item whose deadline was set (assigned) while the year was provisional and falls
on or after the first date that changed. That is a superset of the affected ones, for staff to
look through; nothing is moved.
"""

from __future__ import annotations

import datetime

from django.db.models import QuerySet

from calendars.services import CalendarChanges


def deadlines_to_recheck(*, changes: CalendarChanges, since: datetime.datetime) -> QuerySet:
    """Open items whose deadline may have been counted over ``changes`` (see above).

    ``since``: when the year became provisional (``CalendarYear.provisional_since``).
    """
    # The ledger's models, imported here: the calendar is a lower layer that the ledger uses,
    # and only this question looks back up.
    from rectification.choices import EventAction, ItemStatus
    from rectification.models import RectificationItem

    if not changes.was_provisional or changes.first is None:
        return RectificationItem.objects.none()
    return (
        RectificationItem.objects.exclude(status=ItemStatus.CLOSED)
        .filter(
            deadline__gte=changes.first,
            events__action=EventAction.ASSIGNED,
            events__created_at__gte=since,
        )
        .distinct()
        .select_related("unit", "owner")
        .order_by("deadline", "pk")
    )
