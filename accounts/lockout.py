"""What a locked-out sign-in sees, and the log line it leaves (django-axes calls these).

django-axes counts failed sign-ins per username *and* client address (settings, security block)
and, at the limit, hands the response to :func:`lockout_response`: the sign-in page again, with
a message that says what happened and for how long, and HTTP 429. The admin's sign-in page is
protected by the same backend and gets the same page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from liwan.logs import security_event


def cooloff_minutes() -> int:
    return max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))


def lockout_message() -> str:
    return _(
        "Too many failed sign-in attempts for this account from your network. Signing in "
        "is blocked for %(minutes)d minutes. If you have forgotten your password, use "
        "“Forgot your password?” or ask the evaluation office."
    ) % {"minutes": cooloff_minutes()}


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    response = TemplateResponse(
        request,
        "registration/login.html",
        {
            "form": form,
            "next": request.POST.get("next", request.GET.get("next", "")),
            "lockout_message": lockout_message(),
        },
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    response.render()
    return response


def log_lockout(sender: Any, request: HttpRequest, username: str, **kwargs: Any) -> None:
    """Receiver of axes' ``user_locked_out`` signal: one line in the security log."""
    security_event("login_locked_out", request=request, username=username or "")


def log_failure(sender: Any, credentials: dict[str, Any], request: Any = None, **_: Any) -> None:
    """Receiver of Django's ``user_login_failed``: every failed sign-in in the log too (django-axes
    keeps them in the database; the log is what a central log collector sees)."""
    security_event("login_failed", request=request, username=str(credentials.get("username", "")))


def log_success(sender: Any, request: HttpRequest, user: Any, **_: Any) -> None:
    security_event("login_succeeded", request=request, level=logging.INFO)
