"""Model permissions of the role groups, for the Django admin (the staff back-office).

Permissions only exist after ``migrate`` has created them, so they are granted from a
``post_migrate`` handler (idempotent) rather than in a data migration. Portal pages do not use
these: they ask ``accounts.roles`` and ``rectification.rules``.
"""

from __future__ import annotations

from typing import Any

from accounts.roles import Role

# (app label, model) → codename prefixes granted to evaluation staff in the back-office.
EVALUATION_STAFF_PERMISSIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("evaluations", "unit"): ("add", "change", "view"),
    ("evaluations", "evaluationround"): ("add", "change", "view"),
    # Projects, results, findings and recommendations come from imports (which also create the
    # ledger items and their events); the back-office corrects them but does not add them.
    ("evaluations", "project"): ("change", "view"),
    ("evaluations", "evaluationresult"): ("change", "view"),
    ("evaluations", "finding"): ("change", "view"),
    ("evaluations", "recommendation"): ("change", "view"),
    ("rectification", "rectificationitem"): ("change", "view"),
    ("rectification", "progressupdate"): ("view",),
    ("rectification", "evidence"): ("view",),
    ("rectification", "extensionrequest"): ("view",),
    ("rectification", "event"): ("view",),
    ("accounts", "user"): ("add", "change", "view"),
    # Staff put users into the role groups on the user page; the groups themselves (and their
    # permissions) are fixed by this module, so staff may look at them but not edit them.
    ("auth", "group"): ("view",),
    # Sign-in records (django-axes, under our proxies): staff read them and lift a lockout by
    # deleting its counter; nobody edits them.
    ("accounts", "signinlock"): ("view", "delete"),
    ("accounts", "signinfailure"): ("view",),
    ("accounts", "signin"): ("view",),
}


def sync_role_permissions(**kwargs: Any) -> None:
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=Role.EVALUATION_STAFF)
    wanted = []
    for (app_label, model), actions in EVALUATION_STAFF_PERMISSIONS.items():
        codenames = [f"{action}_{model}" for action in actions]
        wanted += list(
            Permission.objects.filter(
                content_type__app_label=app_label, codename__in=codenames
            ).values_list("pk", flat=True)
        )
    # set(), not add(): the table above is the whole truth, so a removed grant is revoked too.
    group.permissions.set(wanted)
