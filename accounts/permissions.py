"""The model permissions of every role, in one table, and the one function that applies it.

Portal pages never look at these: they ask ``accounts.roles`` (who someone is) and
``rectification.rules`` (what they may do to an item). Model permissions matter only in the
Django admin, the back-office of evaluation staff, and this table is the whole truth about them:
``sync_role_permissions`` gives each role group exactly what it lists, revoking anything else.

Permissions only exist once ``migrate`` has created them, so the table is applied after migrate
(``post_migrate``) rather than in a data migration. Django sends ``post_migrate`` once per app, in
the order of ``INSTALLED_APPS``, and creates that app's permissions just before; the handler runs
for every one of those signals and always sets the whole table, so the last run sees every
app's permissions whatever the order of the apps — an app added after ours cannot leave a role
short of a permission (``tests/test_role_permissions.py`` migrates with such an app).
"""

from __future__ import annotations

from typing import Any

from accounts.roles import Role, ensure_role_groups

# (app label, model) → the actions (add / change / delete / view) granted on it.
ModelGrants = dict[tuple[str, str], tuple[str, ...]]

_EVALUATION_STAFF: ModelGrants = {
    # What the evaluation found. Projects, results, findings and recommendations come from
    # imports (which also open the ledger items and write their events); the back-office
    # corrects them but does not add them.
    ("evaluations", "unit"): ("add", "change", "view"),
    ("evaluations", "evaluationround"): ("add", "change", "view"),
    ("evaluations", "project"): ("change", "view"),
    ("evaluations", "evaluationresult"): ("change", "view"),
    ("evaluations", "finding"): ("change", "view"),
    ("evaluations", "recommendation"): ("change", "view"),
    # The taxonomy of problem categories is the office's own: staff edit it freely.
    ("evaluations", "findingcategory"): ("add", "change", "delete", "view"),
    # The ledger: owner and deadline are edited through the services; the rest is read-only.
    ("rectification", "rectificationitem"): ("change", "view"),
    ("rectification", "progressupdate"): ("view",),
    ("rectification", "evidence"): ("view",),
    ("rectification", "extensionrequest"): ("view",),
    ("rectification", "event"): ("view",),
    ("rectification", "rectificationplan"): ("view",),
    ("rectification", "milestone"): ("view",),
    ("rectification", "followup"): ("view",),
    # Budget decisions are made on the budget sheet (results.services); the back-office reads.
    ("results", "budgetdecision"): ("view",),
    # Likewise the public disclosure: wording and versions are written on its pages.
    ("results", "publication"): ("view",),
    ("results", "publicwording"): ("view",),
    # The working-day calendar: staff enter a year from the State Council's notice.
    ("calendars", "calendaryear"): ("add", "change", "delete", "view"),
    ("calendars", "holiday"): ("add", "change", "delete", "view"),
    # Reminders: read every one; "change" is what the "resend" action needs (every field of a
    # reminder stays read-only in its admin).
    ("reminders", "reminder"): ("change", "view"),
    # Accounts. Staff put users into the role groups on the user page; the groups and their
    # permissions are fixed by this module, so staff may look at them but not edit them.
    ("accounts", "user"): ("add", "change", "view"),
    ("auth", "group"): ("view",),
    # Sign-in records (django-axes, under our proxies): staff read them and lift a lockout by
    # deleting its counter; nobody edits them.
    ("accounts", "signinlock"): ("view", "delete"),
    ("accounts", "signinfailure"): ("view",),
    ("accounts", "signin"): ("view",),
}

# Every role, including those with no back-office at all: their rows say so explicitly, and
# applying the table takes from them anything granted by hand.
ROLE_PERMISSIONS: dict[Role, ModelGrants] = {
    Role.EVALUATION_STAFF: _EVALUATION_STAFF,
    Role.UNIT_STAFF: {},
    Role.UNIT_HEAD: {},
    Role.OVERSIGHT: {},
}


def sync_role_permissions(**kwargs: Any) -> None:
    """Give every role group exactly the permissions of ``ROLE_PERMISSIONS`` (idempotent).

    Connected to ``post_migrate`` without a sender (see the module docstring). Grants whose
    permission does not exist yet — an app whose own signal has not come — are simply left out
    of this run and given by a later one.
    """
    from django.contrib.auth.models import Permission

    groups = ensure_role_groups()
    wanted_codenames = {
        (app_label, f"{action}_{model}")
        for grants in ROLE_PERMISSIONS.values()
        for (app_label, model), actions in grants.items()
        for action in actions
    }
    existing = {
        (app_label, codename): pk
        for pk, app_label, codename in Permission.objects.filter(
            codename__in={codename for _, codename in wanted_codenames}
        ).values_list("pk", "content_type__app_label", "codename")
    }
    for role, grants in ROLE_PERMISSIONS.items():
        wanted = [
            existing[(app_label, f"{action}_{model}")]
            for (app_label, model), actions in grants.items()
            for action in actions
            if (app_label, f"{action}_{model}") in existing
        ]
        # set(), not add(): the table is the whole truth, so a grant removed from it is revoked.
        groups[role].permissions.set(wanted)
