"""Signing out by visiting the URL: a page that asks, with a button that signs out."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import LogoutView
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


class SignOutView(LogoutView):
    """GET /accounts/logout/ (a bookmark, a typed address) shows a confirmation page whose
    button POSTs here; POST signs out as Django's view does. Signing out stays POST-only so
    that no link or image on another page can sign anyone out (CSRF)."""

    http_method_names = ["get", "post", "options"]
    confirm_template_name = "registration/logout_confirm.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return TemplateResponse(request, self.confirm_template_name)
