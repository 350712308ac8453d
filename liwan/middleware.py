"""Session lifetime rules: 30 minutes idle, 12 hours at most (LIWAN_SESSION_* settings).

Django's SESSION_COOKIE_AGE gives one of the two limits but not both, so the times are kept in
the session itself and checked on every request of a signed-in user.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils.translation import gettext as _

from liwan import clock

_STARTED = "liwan_session_started"
_SEEN = "liwan_session_seen"
# Writing the session on every request would cost a database write per page view; a minute's
# precision on the idle limit is plenty.
_TOUCH_EVERY_SECONDS = 60


class SessionTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = clock.now().timestamp()
            started = request.session.get(_STARTED, now)
            seen = request.session.get(_SEEN, now)
            if (
                now - seen > settings.LIWAN_SESSION_IDLE_SECONDS
                or now - started > settings.LIWAN_SESSION_MAX_SECONDS
            ):
                logout(request)
                messages.info(request, _("Your session has expired. Please sign in again."))
            else:
                if _STARTED not in request.session:
                    request.session[_STARTED] = now
                if now - seen >= _TOUCH_EVERY_SECONDS or _SEEN not in request.session:
                    request.session[_SEEN] = now
        return self.get_response(request)


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Chinese unless the user chose otherwise with the language switch.

    Django's LocaleMiddleware follows the browser's Accept-Language; on a government intranet
    many PCs run English-language browsers, and the ledger should still open in Chinese. Only
    the language cookie set by the switch (``set_language``) changes the language.
    """

    def process_request(self, request: HttpRequest) -> None:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)
