"""Account pages of our own: the password reset that also lifts a sign-in lock, and the second
factor (accounts.twofactor) — sign-in code, enrolment and recovery codes."""

from __future__ import annotations

import logging
from typing import Any

from axes.utils import reset as reset_sign_in_failures
from django.contrib.auth import views as auth_views
from django.http import HttpResponse

from liwan.logs import security_event


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's "set a new password" page, which also lifts a sign-in lock of the account.

    The lockout page tells a locked-out user to reset their password; without this the account
    stayed locked for the rest of the cool-off although the reset had succeeded. The link in
    the e-mail proves control of the account's address, so every lock of that username (from
    any address) is lifted.
    """

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        username = form.user.get_username()
        if reset_sign_in_failures(username=username):
            security_event(
                "login_unlocked",
                request=self.request,
                level=logging.INFO,
                username=username,
                reason="password_reset",
            )
        return response
