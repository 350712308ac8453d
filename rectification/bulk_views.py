"""Bulk actions, evaluation staff only: assignment (批量分派: select → choose → preview →
confirm) and follow-up checks (批量安排回头看: select → preview → confirm).

The selection is either the rows ticked on the ledger (``?items=1&items=2``) or the ledger's
filters (``?year=2020&unit=3&status=open``), always within ``items_visible_to``. It travels in
the query string of every step, so the page never stores anything between requests; the preview
carries the version of each item it showed, and confirming refuses if the selection or any item
changed since (``rectification.bulk``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from liwan import clock
from liwan.params import id_params
from rectification import bulk, selectors, services
from rectification.filters import LedgerFilter
from rectification.forms import BulkAssignForm, BulkFollowUpForm
from rectification.models import RectificationItem
from rectification.rules import may_act_in_bulk

# Ledger filters that select items; sorting and paging do not.
_NOT_CRITERIA = {"sort", "page"}


@dataclass
class Selection:
    items: list[RectificationItem] = field(default_factory=list)
    total: int = 0
    # (label, value) pairs saying how the items were chosen, for the page to repeat.
    criteria: list[tuple[str, str]] = field(default_factory=list)
    query: str = ""  # the selection as a query string, carried through every step
    ledger_query: str = ""  # where to go back to afterwards
    too_many: bool = False


def _select(request: HttpRequest) -> tuple[Selection | None, LedgerFilter]:
    """The items the query string selects, or ``None`` when it selects nothing yet."""
    ticked = id_params(request.GET.getlist("items"))
    # Ticked rows are chosen by id alone; the ledger's filters select otherwise. Either way
    # the items come from the one ledger query, within what the user may see.
    ledger = selectors.ledger(
        viewer=request.user, params=None if ticked else request.GET, today=clock.today()
    )
    filterset = ledger.filterset
    if ticked:
        items = ledger.items.filter(pk__in=ticked)
        query = QueryDict(mutable=True)
        query.setlist("items", [str(pk) for pk in sorted(ticked)])
        selection = Selection(
            criteria=[(_("Ticked on the ledger"), str(len(ticked)))],
            query=query.urlencode(),
        )
    elif filterset.is_bound and ledger.valid:
        criteria = _criteria(filterset)
        if not criteria:
            return None, filterset
        items = ledger.items
        query = request.GET.copy()
        for name in _NOT_CRITERIA:
            query.pop(name, None)
        selection = Selection(
            criteria=criteria, query=query.urlencode(), ledger_query=query.urlencode()
        )
    else:
        return None, filterset
    items = items.select_related(
        "unit",
        "owner",
        "recommendation__finding__result__round",
        "recommendation__finding__result__project",
    ).order_by("-round_year", "unit__name", "result_seq", "finding_number")
    selection.total = items.count()
    if selection.total > bulk.MAX_ITEMS:
        selection.too_many = True
    else:
        selection.items = list(items)
    return selection, filterset


def _criteria(filterset: LedgerFilter) -> list[tuple[str, str]]:
    out = []
    for name, value in filterset.form.cleaned_data.items():
        if name in _NOT_CRITERIA or value in (None, "", [], ()):
            continue
        bound = filterset.form[name]
        if isinstance(value, slice):
            text = f"{value.start or '…'} – {value.stop or '…'}"
        elif hasattr(bound.field, "choices") and not hasattr(value, "pk"):
            text = str(dict(bound.field.choices).get(value, value))
        else:
            text = str(value)
        out.append((str(bound.label), text))
    return out


def _versions(items: list[RectificationItem]) -> str:
    return ",".join(f"{item.pk}:{item.version}" for item in items)


def _parse_versions(value: str) -> dict[int, int] | None:
    try:
        pairs = [part.split(":") for part in value.split(",") if part]
        return {int(pk): int(version) for pk, version in pairs}
    except ValueError:
        return None


class BulkActionView(LoginRequiredMixin, View):
    """A bulk action's page: evaluation staff only (``rules.may_act_in_bulk``)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # A signed-in user who may not act in bulk gets 403: the page reveals no item.
        if request.user.is_authenticated and not may_act_in_bulk(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class BulkAssignView(BulkActionView):
    template_name = "rectification/bulk_assign.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        selection, filterset = _select(request)
        form = None
        if selection is not None and selection.items:
            form = BulkAssignForm(units=bulk.owner_choices(selection.items))
        return self._render(request, "choose", selection, filterset, form)

    def post(self, request: HttpRequest) -> HttpResponse:
        selection, filterset = _select(request)
        if selection is None or not selection.items:
            messages.error(request, _("Select the items to assign first."))
            return self._render(request, "choose", selection, filterset, None, status=400)
        form = BulkAssignForm(request.POST, units=bulk.owner_choices(selection.items))
        step = request.POST.get("step", "preview")
        if not form.is_valid():
            return self._render(request, "choose", selection, filterset, form, status=400)
        if step == "edit":
            return self._render(request, "choose", selection, filterset, form)
        include = id_params(request.POST.getlist("include"))
        reason = form.cleaned_data["reason"].strip()
        plan = bulk.plan_assignments(
            items=selection.items,
            owners=form.cleaned_data["owners"],
            deadline=form.cleaned_data["new_deadline"],
            include=include,
        )
        if step != "confirm":
            return self._render(request, "preview", selection, filterset, form, plan=plan)
        if not reason and any(c.concerns and c.skip is None for c in plan):
            messages.error(
                request,
                _("Give a reason for the ticked items that need attention, or untick them."),
            )
            return self._render(
                request, "preview", selection, filterset, form, plan=plan, status=400
            )
        previewed = _parse_versions(request.POST.get("versions", ""))
        if previewed is None or set(previewed) != {item.pk for item in selection.items}:
            messages.error(
                request,
                _("The selection has changed since the preview. Please check it again."),
            )
            return self._render(
                request, "preview", selection, filterset, form, plan=plan, status=400
            )
        try:
            applied = bulk.bulk_assign(
                items=selection.items,
                actor=services.Actor.from_request(request),
                owners=form.cleaned_data["owners"],
                deadline=form.cleaned_data["new_deadline"],
                include=include,
                reason=reason,
                count=form.working_day_count,
                expected_versions=previewed,
            )
        except ValidationError as exc:  # StaleItemError included: nothing was changed
            messages.error(request, " ".join(exc.messages))
            selection, filterset = _select(request)
            assert selection is not None
            plan = bulk.plan_assignments(
                items=selection.items,
                owners=form.cleaned_data["owners"],
                deadline=form.cleaned_data["new_deadline"],
                include=include,
            )
            return self._render(
                request, "preview", selection, filterset, form, plan=plan, status=400
            )
        messages.success(
            request,
            ngettext(
                "%(n)d item assigned; its history records the change.",
                "%(n)d items assigned; each item's history records its change.",
                len(applied),
            )
            % {"n": len(applied)},
        )
        ledger = reverse("rectification:ledger")
        return redirect(f"{ledger}?{selection.ledger_query}" if selection.ledger_query else ledger)

    def _render(
        self,
        request: HttpRequest,
        step: str,
        selection: Selection | None,
        filterset: LedgerFilter,
        form: BulkAssignForm | None,
        *,
        plan: list[bulk.PlannedChange] | None = None,
        status: int = 200,
    ) -> TemplateResponse:
        context = {
            "step": step,
            "selection": selection,
            "filter": filterset,
            "form": form,
            "plan": plan,
            "max_items": bulk.MAX_ITEMS,
            "today": clock.today(),
        }
        if plan is not None:
            assert selection is not None
            context["versions"] = _versions(selection.items)
            context["changing"] = [change for change in plan if change.skip is None]
            context["skipped"] = [change for change in plan if change.skip is not None]
            context["attention"] = [change for change in plan if change.concerns]
        return TemplateResponse(request, self.template_name, context, status=status)


class BulkFollowUpView(BulkActionView):
    """批量安排回头看: a re-check of each selected closed item some months after its closure.
    GET previews the dates (and the items left out, with why); POST schedules them."""

    template_name = "rectification/bulk_follow_up.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        selection, filterset = _select(request)
        form = BulkFollowUpForm(request.GET if "months" in request.GET else None)
        return self._render(request, selection, filterset, form)

    def post(self, request: HttpRequest) -> HttpResponse:
        selection, filterset = _select(request)
        form = BulkFollowUpForm(request.POST)
        if selection is None or not selection.items:
            messages.error(request, _("Select the items first."))
            return self._render(request, selection, filterset, form, status=400)
        if not form.is_valid():
            return self._render(request, selection, filterset, form, status=400)
        scheduled = services.schedule_follow_ups(
            items=selection.items,
            actor=services.Actor.from_request(request),
            months_after_closure=form.cleaned_data["months"],
        )
        messages.success(
            request,
            ngettext(
                "%(n)d follow-up check scheduled.",
                "%(n)d follow-up checks scheduled.",
                len(scheduled),
            )
            % {"n": len(scheduled)},
        )
        ledger = reverse("rectification:ledger")
        return redirect(f"{ledger}?{selection.ledger_query}" if selection.ledger_query else ledger)

    def _render(
        self,
        request: HttpRequest,
        selection: Selection | None,
        filterset: LedgerFilter,
        form: BulkFollowUpForm,
        *,
        status: int = 200,
    ) -> TemplateResponse:
        months = form.cleaned_data["months"] if form.is_bound and form.is_valid() else None
        if months is None and not form.is_bound:
            months = form.fields["months"].initial
        plan = None
        if selection is not None and selection.items and months is not None:
            plan = services.plan_follow_ups(
                items=selection.items, months_after_closure=months, today=clock.today()
            )
        context = {
            "selection": selection,
            "filter": filterset,
            "form": form,
            "months": months,
            "plan": plan,
            "scheduling": [line for line in plan or [] if line.due_on is not None],
            "max_items": bulk.MAX_ITEMS,
        }
        return TemplateResponse(request, self.template_name, context, status=status)
