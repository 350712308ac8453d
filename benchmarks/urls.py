"""The application's URLs plus two minimal views the benchmarks compare every page with: the
framework's floor (no template, no database) reached anonymously, and the same behind sign-in."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def minimal(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("_bench/minimal", minimal, name="bench-minimal"),
    path("_bench/signed-in", login_required(minimal), name="bench-signed-in"),
    path("", include("liwan.urls")),
]
