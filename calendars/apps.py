from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CalendarsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "calendars"
    verbose_name = _("Working-day calendar")

    def ready(self) -> None:
        # After every migrate: `make run` and every fresh database count working days from the
        # start, and upgrading the chinesecalendar package adds its new years on the next
        # deploy. A handler rather than a data migration also re-seeds a test database that
        # a transactional test emptied.
        post_migrate.connect(seed_calendar, sender=self, dispatch_uid="liwan-seed-calendar")


def seed_calendar(**kwargs: Any) -> None:
    """post_migrate: add the years chinesecalendar knows and the table lacks (offline: the
    package ships its data). Years already in the table are never touched."""
    # migrate passes the migration state's apps; flush (the test runner's) passes none.
    if kwargs.get("apps") is not None:
        try:
            kwargs["apps"].get_model("calendars", "Holiday")
        except LookupError:
            return  # migrated back to before the table existed
    from calendars.services import seed_from_package

    seed_from_package()
