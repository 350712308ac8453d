"""The second factor (TOTP, django-otp) for evaluation staff and every back-office user.

Who is asked: a user with a confirmed authenticator is always asked for a code after the
password (they chose it); with ``LIWAN_REQUIRE_2FA`` on (the default when DEBUG is off) every
evaluation staff member and every ``is_staff`` or superuser account must also enrol before
anything else. Unit users and oversight readers are never asked unless they enrolled.

How: the password sign-in is unchanged (django-axes still counts it); the session is then
"signed in, not verified" and :class:`SecondFactorMiddleware` sends every request of such a
session to the code page (or to enrolment) — the back-office too, so /admin/ is never reached
without a verified session. A right code marks the session verified (``django_otp.login``).

Guessing: each device throttles itself (django-otp: after n wrong codes the next try waits
2^(n-1) seconds), and every wrong code also counts as a failed sign-in for django-axes, so
five wrong codes lock the username from that address like five wrong passwords would, and end
the half-signed-in session.

What the middleware decides is kept in the session at sign-in, so a page costs no device query
for the users who are never asked.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import user_logged_in
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.roles import is_evaluation_staff

SESSION_KEY = "liwan_second_factor"
VERIFY = "verify"  # has an authenticator: enter a code
ENROL = "enrol"  # must set one up first
NONE = "none"  # never asked
RECOVERY_CODES = 10
TOTP_NAME = "身份验证器"
RECOVERY_NAME = "恢复码"


def applies_to(user: Any) -> bool:
    """Whose accounts the policy covers: evaluation staff and every back-office account."""
    return bool(user.is_staff or user.is_superuser or is_evaluation_staff(user))


def requirement(user: Any) -> str:
    if any(True for _ in devices_for_user(user, confirmed=True)):
        return VERIFY
    if settings.LIWAN_REQUIRE_2FA and applies_to(user):
        return ENROL
    return NONE


def remember_requirement(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """Receiver of ``user_logged_in``: decide once per sign-in who must do what."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = requirement(user)


class SecondFactorMiddleware:
    """Sends a signed-in but unverified session to the code page or to enrolment.

    After django-otp's OTPMiddleware (which tells whether the session is verified). Only the
    pages needed to finish signing in (or to leave) are open to such a session.
    """

    OPEN = ("two_factor_verify", "two_factor_setup", "logout", "login", "healthz", "set_language")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        redirect = self._redirect(request)
        return redirect if redirect is not None else self.get_response(request)

    def _redirect(self, request: HttpRequest) -> HttpResponse | None:
        # The pages open to anyone first: they need neither the session nor the user, so a
        # health probe or a static file costs no query.
        if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return None
        if request.path in _open_paths(self.OPEN):
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        state = request.session.get(SESSION_KEY)
        if state is None:  # a session from before this was installed
            state = request.session[SESSION_KEY] = requirement(user)
        if state == NONE or user.is_verified():
            return None
        target = reverse("two_factor_verify" if state == VERIFY else "two_factor_setup")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)


@functools.cache
def _open_paths(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(reverse(name) for name in names)


def confirmed_totp(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_totp(user: Any) -> TOTPDevice:
    """The authenticator being set up (unconfirmed), created on first use; a reload shows the
    same secret, so a user who scanned it already is not confused."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def new_recovery_codes(user: Any) -> list[str]:
    """Replaces the user's recovery codes with ``RECOVERY_CODES`` new ones (each works once)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def candidate_devices(user: Any, code: str) -> list[Any]:
    """The devices a code is checked against: six digits are an authenticator's code, anything
    else a recovery code (so a mistyped code counts against one device only)."""
    if code.isdigit() and len(code) in (6, 8):
        return list(TOTPDevice.objects.filter(user=user, confirmed=True))
    return list(StaticDevice.objects.filter(user=user, confirmed=True))


def connect_signals() -> None:
    user_logged_in.connect(remember_requirement, dispatch_uid="liwan-second-factor")
