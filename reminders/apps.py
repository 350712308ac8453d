from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class RemindersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reminders"
    verbose_name = _("Reminder e-mails")

    def ready(self) -> None:
        # After this app's own permissions exist (auth's handler runs first for each sender).
        post_migrate.connect(
            grant_staff_permissions, sender=self, dispatch_uid="liwan-reminder-perms"
        )


def grant_staff_permissions(**kwargs: Any) -> None:
    """Evaluation staff see every reminder in the back-office and may resend failed ones (the
    action needs "change"; every field stays read-only). Idempotent."""
    from django.contrib.auth.models import Group, Permission

    from accounts.roles import Role

    group, _ = Group.objects.get_or_create(name=Role.EVALUATION_STAFF)
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="reminders",
            codename__in=["view_reminder", "change_reminder"],
        )
    )
