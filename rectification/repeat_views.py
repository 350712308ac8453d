"""The staff page of likely repeat problems (屡审屡犯) of a round: each candidate pair beside
the earlier problem, to confirm or dismiss. Thin: the pairs come from ``repeats``, the ruling
from ``services.decide_repeat``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from evaluations.models import EvaluationRound
from liwan.params import id_param, int_param
from rectification import services, snapshots
from rectification.bulk_views import BulkActionView
from rectification.choices import RepeatStatus, SnapshotKind
from rectification.models import RepeatLink
from rectification.repeats import candidates, repeat_pairs, stored_page
from rectification.selectors import items_visible_to

ROWS_PER_PAGE = 50


def _year(request: HttpRequest) -> tuple[int | None, list[int]]:
    """The round asked for (else the newest), among the rounds that have an earlier one; None
    while there is only one round."""
    years = list(EvaluationRound.objects.order_by("-year").values_list("year", flat=True))
    comparable = years[:-1]  # the oldest round has nothing to repeat
    if not comparable:
        return None, []
    asked = int_param(
        request.GET.get("year") or request.POST.get("year"), minimum=2000, maximum=2100
    )
    year = asked if asked in comparable else comparable[0]
    return year, comparable


class RepeatsView(BulkActionView):
    def get(self, request: HttpRequest) -> HttpResponse:
        year, years = _year(request)
        if year is None:
            return TemplateResponse(request, "rectification/repeats.html", {"year": None})
        shown = None
        if snapshots.stored(year):
            # A large round: the pairs the worker computed and stored, a page at a time.
            shown = snapshots.follow(kind=SnapshotKind.REPEATS, year=year, user=request.user)
            page = (
                stored_page(shown.snapshot, request.GET.get("page"), per_page=ROWS_PER_PAGE)
                if shown.snapshot is not None
                else None
            )
        else:
            page = Paginator(repeat_pairs(year=year), ROWS_PER_PAGE).get_page(
                request.GET.get("page")
            )
            # Only the page shown is read with its items.
            page.object_list = candidates(list(page.object_list), shown_only=True)
        confirmed = RepeatLink.objects.filter(
            item__round_year=year, status=RepeatStatus.CONFIRMED
        ).count()
        return TemplateResponse(
            request,
            "rectification/repeats.html",
            {"year": year, "years": years, "page": page, "confirmed": confirmed, "shown": shown},
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        year, _years = _year(request)
        if year is None:
            raise Http404
        if "recompute" in request.POST:
            snapshots.request(kind=SnapshotKind.REPEATS, year=year, user=request.user)
            messages.success(request, _("The repeat problems are being compared again."))
            return redirect(f"{reverse('rectification:repeats')}?year={year}")
        visible = items_visible_to(request.user).select_related("recommendation__finding")
        item = get_object_or_404(visible, pk=id_param(request.POST.get("item")) or 0)
        earlier = get_object_or_404(visible, pk=id_param(request.POST.get("earlier")) or 0)
        decision = request.POST.get("decision")
        if decision not in ("confirm", "dismiss"):
            messages.error(request, _("Please choose whether it is a repeat."))
            return redirect(f"{reverse('rectification:repeats')}?year={year}")
        try:
            services.decide_repeat(
                item=item,
                earlier=earlier,
                actor=services.Actor.from_request(request),
                confirm=decision == "confirm",
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("Confirmed as a repeat problem.")
                if decision == "confirm"
                else _("Marked as not a repeat."),
            )
        return redirect(f"{reverse('rectification:repeats')}?year={year}")
