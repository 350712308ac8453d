"""Site-wide request handling: the real client address behind a proxy, the request context of
the security log, session lifetime (30 minutes idle, 12 hours at most), password age, and the
Chinese-first locale.

Django's SESSION_COOKIE_AGE gives one of the two session limits but not both, so the times are
kept in the session itself and checked on every request of a signed-in user that asks who the
user is.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import html
import ipaddress
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParser
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from liwan import clock
from liwan.logs import current_request


class TrustedProxyMiddleware:
    """Behind ``LIWAN_TRUSTED_PROXY_COUNT`` proxies, the client is the address the outermost of
    them saw: the Nth entry from the right of X-Forwarded-For (entries further left were sent by
    the client and prove nothing). The lockout, the audit trail and the logs all read
    REMOTE_ADDR, so it is corrected once, here, before any of them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = settings.LIWAN_TRUSTED_PROXY_COUNT
        if count > 0:
            hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
            hops = [h for h in hops if h]
            if len(hops) >= count:
                # A proxy that writes garbage: keep the socket's address.
                with contextlib.suppress(ValueError):
                    request.META["REMOTE_ADDR"] = str(ipaddress.ip_address(hops[-count]))
        return self.get_response(request)


class RawNameMultiPartParser(MultiPartParser):
    """Django's parser, remembering each uploaded file's name as the client sent it.

    Django strips directories and unprintable characters from an uploaded file's name (and
    drops a file called ".."), which keeps paths out of storage but also hides the attempt:
    ``../../etc/passwd.pdf`` would arrive as an innocent ``passwd.pdf``. The evidence check
    (``rectification.uploads``) wants to refuse such a file, with a message and a log line, so
    the original name is kept on the uploaded file as ``raw_name``.
    """

    _raw_name: str | None = None

    def sanitize_file_name(self, file_name: str) -> str | None:
        self._raw_name = file_name
        clean = super().sanitize_file_name(file_name)
        if clean is None and file_name:
            # Django would skip the file silently; keep it so that it is refused out loud.
            clean = "unnamed"
        return clean

    def handle_file_complete(self, old_field_name: str, counters: list[int]) -> None:
        before = {key: len(values) for key, values in self._files.lists()}
        super().handle_file_complete(old_field_name, counters)
        for key, values in self._files.lists():
            if len(values) > before.get(key, 0):
                values[-1].raw_name = html.unescape(self._raw_name or "")


def _parse_file_upload(request: HttpRequest, META: Any, post_data: Any) -> Any:
    # The body of HttpRequest.parse_file_upload, with the parser above.
    from django.utils.datastructures import ImmutableList

    request.upload_handlers = ImmutableList(
        request.upload_handlers,
        warning="You cannot alter upload handlers after the upload has been processed.",
    )
    parser = RawNameMultiPartParser(META, post_data, request.upload_handlers, request.encoding)
    return parser.parse()


class RequestContextMiddleware:
    """Makes the request being served known to the security log (``liwan.logs``), and parses
    uploads with :class:`RawNameMultiPartParser`. Placed before anything reads ``request.POST``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # HttpRequest looks the method up on the instance first, so this replaces it for this
        # request only.
        request.parse_file_upload = functools.partial(_parse_file_upload, request)  # type: ignore[method-assign]
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)


_STARTED = "liwan_session_started"
_SEEN = "liwan_session_seen"
# Writing the session on every request would cost a database write per page view; a minute's
# precision on the idle limit is plenty.
_TOUCH_EVERY_SECONDS = 60


class SessionTimeoutMiddleware:
    """Ends a session idle for ``LIWAN_SESSION_IDLE_SECONDS`` or older than
    ``LIWAN_SESSION_MAX_SECONDS``, when the request first asks who the user is.

    Checked lazily: a request that never looks at the user (``/healthz`` from a browser that
    carries a session cookie, a static file) costs no session or user query; every page that
    shows or checks anything of the user asks, and the check runs before the answer is used.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user  # lazy: nothing is read yet
        request.user = SimpleLazyObject(lambda: self._checked(request, user))
        return self.get_response(request)

    @staticmethod
    def _checked(request: HttpRequest, user: Any) -> Any:
        if not user.is_authenticated:
            return user
        now = clock.now().timestamp()
        started = request.session.get(_STARTED, now)
        seen = request.session.get(_SEEN, now)
        if (
            now - seen > settings.LIWAN_SESSION_IDLE_SECONDS
            or now - started > settings.LIWAN_SESSION_MAX_SECONDS
        ):
            # logout() reads and replaces request.user: give it the user, not this check.
            request.user = user
            logout(request)
            messages.info(request, _("Your session has expired. Please sign in again."))
            return request.user
        if _STARTED not in request.session:
            request.session[_STARTED] = now
        if now - seen >= _TOUCH_EVERY_SECONDS or _SEEN not in request.session:
            request.session[_SEEN] = now
        return user


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Chinese unless the user chose otherwise with the language switch.

    Django's LocaleMiddleware follows the browser's Accept-Language; on a government intranet
    many PCs run English-language browsers, and the ledger should still open in Chinese. Only
    the language cookie set by the switch (``set_language``) changes the language.
    """

    def process_request(self, request: HttpRequest) -> None:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        super().process_request(request)


class PasswordExpiryMiddleware:
    """With ``LIWAN_PASSWORD_MAX_AGE_DAYS`` set (off by default, see SECURITY.md), a user whose
    password is older than that is sent to the password change page until they change it."""

    ALLOWED = frozenset({"password_change", "password_change_done", "logout", "set_language"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        max_age = settings.LIWAN_PASSWORD_MAX_AGE_DAYS
        if max_age > 0 and request.user.is_authenticated and self._expired(request.user, max_age):
            try:
                name = resolve(request.path_info).url_name
            except Resolver404:
                name = None
            if name not in self.ALLOWED:
                messages.warning(
                    request,
                    _(
                        "Your password is more than %(days)d days old. Please choose a new "
                        "password to continue."
                    )
                    % {"days": max_age},
                )
                return redirect("password_change")
        return self.get_response(request)

    @staticmethod
    def _expired(user: Any, max_age: int) -> bool:
        changed = getattr(user, "password_changed_at", None) or user.date_joined
        return clock.now() - changed > datetime.timedelta(days=max_age)
