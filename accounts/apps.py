from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("Accounts and roles")

    def ready(self) -> None:
        from accounts.permissions import sync_role_permissions

        # No sender filter: post_migrate fires per app in INSTALLED_APPS order, and the
        # permissions of apps after this one exist only once their own signal has run.
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
