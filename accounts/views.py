"""Account pages of our own: signing out from a typed address, the password reset that also
lifts a sign-in lock, and the second factor (accounts.twofactor) — sign-in code, enrolment and
recovery codes."""

from __future__ import annotations

import logging
from base64 import b32encode
from typing import Any

import django_otp
import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as reset_sign_in_failures
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, user_login_failed
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LogoutView
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import twofactor
from accounts.lockout import lockout_response
from accounts.models import User
from liwan.logs import security_event


class SignOutView(LogoutView):
    """GET /accounts/logout/ (a bookmark, a typed address) shows a confirmation page whose
    button POSTs here; POST signs out as Django's view does. Signing out stays POST-only so
    that no link or image on another page can sign anyone out (CSRF)."""

    http_method_names = ["get", "post", "options"]
    confirm_template_name = "registration/logout_confirm.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return TemplateResponse(request, self.confirm_template_name)


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


# --- the second factor ---------------------------------------------------------------------------


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
        help_text=_("The six digits your authenticator app shows, or one of your recovery codes."),
    )

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split()).lower()


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _lock_out(request: HttpRequest, user: Any) -> HttpResponse:
    """End the half-signed-in session and show the lockout page (axes' own response)."""
    logout(request)
    return lockout_response(request, credentials={"username": user.get_username()})


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The code asked after the password: an authenticator's code or a recovery code."""
    user = request.user
    if user.is_verified() or twofactor.requirement(user) != twofactor.VERIFY:
        return redirect(_next(request))
    credentials = {"username": user.get_username()}
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if AxesProxyHandler.is_locked(request, credentials):
            return _lock_out(request, user)
        if form.is_valid():
            code = form.cleaned_data["code"]
            devices = twofactor.candidate_devices(user, code)
            waiting = [d for d in devices if not d.verify_is_allowed()[0]]
            if devices and len(waiting) == len(devices):
                form.add_error(
                    "code",
                    _("Too many wrong codes. Wait a moment, then try again."),
                )
                return render(request, "registration/two_factor_verify.html", {"form": form})
            verified = next(
                (d for d in devices if django_otp.verify_token(user, d.persistent_id, code)),
                None,
            )
            if verified is not None:
                django_otp.login(request, verified)
                request.session[twofactor.SESSION_KEY] = twofactor.VERIFY
                AxesProxyHandler.reset_attempts(
                    ip_address=request.axes_ip_address, username=user.get_username()
                )
                recovery = isinstance(verified, StaticDevice)
                security_event(
                    "otp_recovery_code_used" if recovery else "otp_verified",
                    request=request,
                    level=logging.WARNING if recovery else logging.INFO,
                )
                if recovery:
                    left = verified.token_set.count()
                    messages.warning(
                        request,
                        _("You signed in with a recovery code; %(left)d are left. Each works once.")
                        % {"left": left},
                    )
                return redirect(_next(request))
            security_event("otp_failed", request=request)
            # Counted like a wrong password: five in a row lock this username from this
            # address (django-axes), and end the session.
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            if getattr(request, "axes_locked_out", False):
                return _lock_out(request, user)
            form.add_error("code", _("The code is not correct. Please try again."))
    return render(
        request, "registration/two_factor_verify.html", {"form": form, "next": _next(request)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrolment: show the secret (QR code and text), confirm with a first code, then show the
    recovery codes once."""
    user = request.user
    if not twofactor.applies_to(user):
        raise PermissionDenied
    if twofactor.confirmed_totp(user) is not None:
        # Already set up: a second authenticator is added by staff resetting the first.
        return redirect("two_factor_verify" if not user.is_verified() else _next(request))
    device = twofactor.pending_totp(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not device.verify_is_allowed()[0]:
            form.add_error("code", _("Too many wrong codes. Wait a moment, then try again."))
        elif device.verify_token(form.cleaned_data["code"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = twofactor.new_recovery_codes(user)
            django_otp.login(request, device)
            request.session[twofactor.SESSION_KEY] = twofactor.VERIFY
            security_event("otp_enrolled", request=request, level=logging.INFO)
            return render(
                request,
                "registration/two_factor_recovery_codes.html",
                {"codes": codes, "next": _next(request)},
            )
        else:
            security_event("otp_failed", request=request, step="enrolment")
            form.add_error("code", _("The code is not correct. Please try again."))
    secret = b32encode(device.bin_key).decode()
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "config_url": device.config_url,
            "qr": segno.make(device.config_url, error="m").svg_data_uri(scale=4),
            "next": _next(request),
        },
    )


# --- the person's own settings -------------------------------------------------------------------


class NotificationSettingsForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["notify_mode"]
        widgets = {"notify_mode": forms.RadioSelect}


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    """How this person hears that an item is in their court: at once, or in one daily e-mail."""
    form = NotificationSettingsForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Notification settings saved."))
        return redirect("profile")
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/profile.html", {"form": form}, status=status)
