from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("Accounts and roles")

    def ready(self) -> None:
        from accounts.permissions import sync_role_permissions

        # Reference data after migrate (docs/architecture.md lists every such handler): the
        # role groups and their permissions. No sender filter, on purpose: see
        # accounts.permissions for why this runs after every app's signal.
        post_migrate.connect(sync_role_permissions, dispatch_uid="liwan-role-perms")

        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from accounts.lockout import log_failure, log_lockout, log_success

        # Sign-ins in the security log (liwan.logs), beside django-axes' own records.
        user_locked_out.connect(log_lockout, dispatch_uid="liwan-log-lockout")
        user_login_failed.connect(log_failure, dispatch_uid="liwan-log-login-failed")
        user_logged_in.connect(log_success, dispatch_uid="liwan-log-login")

        from accounts.twofactor import connect_signals

        # Who must give a second factor, decided once per sign-in (accounts.twofactor).
        connect_signals()
