"""Web pages of the ledger. Thin: every read starts from ``items_visible_to``, every write is a
call to a service; the rules for who may do what live in ``rules`` and ``services``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views import View
from django.views.generic import ListView, TemplateView

from liwan import clock
from rectification import exports, forms, selectors, services, worklists
from rectification.choices import ExtensionStatus, ItemStatus
from rectification.history import describe_all
from rectification.models import (
    Event,
    Evidence,
    ExtensionRequest,
    ProgressUpdate,
    RectificationItem,
)
from rectification.pagination import KeysetFirstPaginator
from rectification.rules import Action, permitted_actions
from rectification.selectors import items_visible_to


def _actor(request: HttpRequest) -> services.Actor:
    return services.Actor(user=request.user, ip=request.META.get("REMOTE_ADDR"))


class LedgerListView(LoginRequiredMixin, ListView):
    """The home page: the items the user may see, filtered, sorted, paginated, with counts."""

    template_name = "rectification/ledger.html"
    paginate_by = 50
    paginator_class = KeysetFirstPaginator
    ledger: selectors.Ledger

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.ledger = selectors.ledger(viewer=request.user, params=request.GET, today=clock.today())
        return super().get(request, *args, **kwargs)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return self.ledger.rows

    def get_paginator(self, queryset, per_page, orphans=0, allow_empty_first_page=True, **kwargs):  # type: ignore[no-untyped-def]
        # The counts per status are taken anyway; their total is the page count.
        return self.paginator_class(
            queryset,
            per_page,
            count=self.ledger.counts["total"],
            orphans=orphans,
            allow_empty_first_page=allow_empty_first_page,
            **kwargs,
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        counts = self.ledger.counts
        context["filter"] = self.ledger.filterset
        context["status_counts"] = [
            (status, label, counts[status]) for status, label in ItemStatus.choices
        ]
        context["total_count"] = counts["total"]
        context["overdue_count"] = counts["overdue"]
        query = self.request.GET.copy()
        query.pop("page", None)
        context["query_string"] = query.urlencode()
        return context


class WorklistView(LoginRequiredMixin, TemplateView):
    """我的待办: what waits for the signed-in person (``rectification.worklists``)."""

    template_name = "rectification/worklist.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["sections"] = worklists.worklist(user=self.request.user, today=clock.today())
        context["today"] = clock.today()
        return context


class LedgerExportView(LoginRequiredMixin, View):
    """Download what the list shows (same filters, same scope) as CSV or XLSX, streamed."""

    def get(self, request: HttpRequest) -> HttpResponse:
        fmt = request.GET.get("format", "xlsx")
        if fmt not in {"csv", "xlsx"}:
            return HttpResponseBadRequest(_("The format must be csv or xlsx."))
        ledger = selectors.ledger(viewer=request.user, params=request.GET, today=clock.today())
        if not ledger.valid:
            return HttpResponseBadRequest(
                _("Invalid filter: %(errors)s") % {"errors": ledger.filterset.errors}
            )
        items = exports.iterate(ledger.rows)
        chosen = ledger.chosen
        # A unit's own user has no unit filter: their export is their unit's.
        unit = chosen.get("unit") or (
            request.user.unit if "unit" not in ledger.filterset.filters else None
        )
        filename = exports.export_filename(
            fmt,
            year=chosen.get("year"),
            unit=(unit.short_name or unit.name) if unit else None,
            filtered=exports.narrowed(chosen),
            today=ledger.today,
        )
        if fmt == "csv":
            response = StreamingHttpResponse(
                exports.iter_csv(items), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = content_disposition_header(
                as_attachment=True, filename=filename
            )
            return response
        return FileResponse(
            exports.xlsx_tempfile(items),
            as_attachment=True,
            filename=filename,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )


class ItemMixin(LoginRequiredMixin):
    request: HttpRequest
    kwargs: dict[str, Any]

    def get_item(self) -> RectificationItem:
        # Another unit's item is simply not found: 404, never a 403 that confirms it exists.
        return get_object_or_404(
            items_visible_to(self.request.user)
            .with_overdue(clock.today())
            .with_tentative_deadline()
            .select_related(
                "unit",
                "owner",
                "closed_by",
                "returned_by",
                "recommendation__finding__result__round",
                "recommendation__finding__result__project",
            ),
            pk=self.kwargs["pk"],
        )


@dataclass(frozen=True)
class ActionUI:
    """How one action appears on the item page: its form, panel title, button and endpoint."""

    form: type[forms.VersionedForm]
    title: str
    button: str
    css: str
    url_name: str


ACTIONS_UI: dict[Action, ActionUI] = {
    Action.ASSIGN: ActionUI(
        forms.AssignForm, gettext_lazy("Owner and deadline"), gettext_lazy("Save"),
        "btn-primary", "rectification:item-assign",
    ),
    Action.MEASURES: ActionUI(
        forms.MeasuresForm, gettext_lazy("Rectification measures"),
        gettext_lazy("Save measures"), "btn-primary", "rectification:item-measures",
    ),
    Action.PROGRESS: ActionUI(
        forms.ProgressForm, gettext_lazy("Report progress"), gettext_lazy("Report progress"),
        "btn-primary", "rectification:item-progress",
    ),
    Action.SUBMIT: ActionUI(
        forms.SubmitForm, gettext_lazy("Submit for closure"),
        gettext_lazy("Submit for closure"), "btn-primary", "rectification:item-submit",
    ),
    Action.RETURN: ActionUI(
        forms.ReasonForm, gettext_lazy("Return to the unit"), gettext_lazy("Return"),
        "btn-outline-danger", "rectification:item-return",
    ),
    Action.CLOSE: ActionUI(
        forms.CloseForm, gettext_lazy("Close the item"), pgettext_lazy("item action", "Close"),
        "btn-success", "rectification:item-close",
    ),
    Action.REOPEN: ActionUI(
        forms.ReasonForm, gettext_lazy("Reopen"), gettext_lazy("Reopen"),
        "btn-outline-danger", "rectification:item-reopen",
    ),
    Action.REQUEST_EXTENSION: ActionUI(
        forms.ExtensionRequestForm, gettext_lazy("Ask for an extension"),
        gettext_lazy("Request extension"), "btn-primary", "rectification:item-extension-request",
    ),
}  # fmt: skip


def item_page(
    request: HttpRequest,
    item: RectificationItem,
    *,
    bound: tuple[Action, forms.VersionedForm] | None = None,
    status: int = 200,
) -> TemplateResponse:
    """Render the item page; ``bound`` re-shows one action's form with its errors."""
    allowed = permitted_actions(item=item, user=request.user)
    panels = []
    for action, ui in ACTIONS_UI.items():
        if action not in allowed:
            continue
        if bound and bound[0] == action:
            form = bound[1]
        else:
            initial = {"measures": item.measures} if action == Action.MEASURES else {}
            if action == Action.CLOSE:
                # Who closes an item is usually who verified it; the field stays editable.
                initial = {"verified_by": request.user.display_name[:50]}
            form = ui.form(item=item, initial=initial)
        panels.append(
            {
                "key": action.value,
                "ui": ui,
                "form": form,
                "url": reverse(ui.url_name, kwargs={"pk": item.pk}),
                "multipart": action == Action.PROGRESS,
            }
        )
    extensions = list(
        ExtensionRequest.objects.filter(item=item).select_related("requested_by", "decided_by")
    )
    pending = next((e for e in extensions if e.status == ExtensionStatus.PENDING), None)
    decision_form = None
    if pending and Action.DECIDE_EXTENSION in allowed:
        decision_form = (
            bound[1]
            if bound and bound[0] == Action.DECIDE_EXTENSION
            else forms.ExtensionDecisionForm(item=item)
        )
    progress = (
        ProgressUpdate.objects.filter(item=item)
        .select_related("author")
        .prefetch_related(Prefetch("evidence", queryset=Evidence.objects.order_by("id")))
    )
    events = describe_all(Event.objects.filter(item=item).select_related("actor"))
    context = {
        "item": item,
        "finding": item.recommendation.finding,
        "categories": list(item.recommendation.finding.categories.all()),
        "result": item.recommendation.finding.result,
        "progress_list": progress,
        "history": events,
        "extensions": extensions,
        "pending_extension": pending,
        "decision_form": decision_form,
        "action_panels": panels,
    }
    return TemplateResponse(request, "rectification/item_detail.html", context, status=status)


class ItemDetailView(ItemMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return item_page(request, self.get_item())


class ItemActionView(ItemMixin, View):
    """POST one action: validate the form, call the service, report back.

    Subclasses set ``action``, ``success_message`` and implement ``perform``.
    """

    action: Action
    success_message = ""
    form: forms.VersionedForm

    def get_form(self, item: RectificationItem) -> forms.VersionedForm:
        return ACTIONS_UI[self.action].form(self.request.POST, self.request.FILES, item=item)

    def perform(self, item: RectificationItem, actor: services.Actor, data: dict) -> None:
        raise NotImplementedError

    def get(self, request: HttpRequest, pk: int, **kwargs: Any) -> HttpResponse:
        # An action URL is only posted to; arriving here by GET (a login redirect after the
        # session expired, a refresh, the language switch) should land on the item page.
        return redirect("rectification:item-detail", pk=pk)

    def post(self, request: HttpRequest, pk: int, **kwargs: Any) -> HttpResponse:
        item = self.get_item()
        if self.action not in permitted_actions(item=item, user=request.user):
            raise PermissionDenied
        form = self.form = self.get_form(item)
        status = 400
        if form.is_valid():
            try:
                self.perform(item, _actor(request), form.cleaned_data)
            except services.StaleItemError as exc:
                # Keep what the user typed: the form is shown again with the newer item above
                # it, and saving it again (now with the current version) is a conscious choice.
                form.add_error(None, exc)
                form = self.refreshed_form(item, form)
                status = 409
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, self.success_message)
                return redirect(item_url(item))
        return item_page(request, item, bound=(self.action, form), status=status)

    def refreshed_form(
        self, item: RectificationItem, stale: forms.VersionedForm
    ) -> forms.VersionedForm:
        data = stale.data.copy()
        data["version"] = str(item.version)
        fresh = type(stale)(data, self.request.FILES, item=item)
        fresh.is_valid()
        for error in stale.non_field_errors():
            fresh.add_error(None, error)
        return fresh


def item_url(item: RectificationItem) -> str:
    return reverse("rectification:item-detail", kwargs={"pk": item.pk})


class AssignView(ItemActionView):
    action = Action.ASSIGN
    success_message = gettext_lazy("Owner and deadline saved.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.assign(
            item=item,
            actor=actor,
            owner=data["owner"],
            deadline=data["deadline"],
            reason=data["reason"],
            count=getattr(self.form, "working_day_count", None),
            expected_version=data["version"],
        )


class MeasuresView(ItemActionView):
    action = Action.MEASURES
    success_message = gettext_lazy("Rectification measures saved.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.save_measures(
            item=item, actor=actor, measures=data["measures"], expected_version=data["version"]
        )


class ProgressView(ItemActionView):
    action = Action.PROGRESS
    success_message = gettext_lazy("Progress reported.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        # Progress is appended, never overwrites anything: a colleague's change meanwhile is
        # no reason to refuse it.
        services.add_progress(item=item, actor=actor, note=data["note"], files=data["files"])


class SubmitView(ItemActionView):
    action = Action.SUBMIT
    success_message = gettext_lazy("Submitted for closure. The evaluation staff will verify it.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.submit(
            item=item, actor=actor, result=data["result"], expected_version=data["version"]
        )


class ReturnView(ItemActionView):
    action = Action.RETURN
    success_message = gettext_lazy("Returned to the unit.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.return_item(
            item=item, actor=actor, reason=data["reason"], expected_version=data["version"]
        )


class CloseView(ItemActionView):
    action = Action.CLOSE
    success_message = gettext_lazy("Item closed.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.close(
            item=item,
            actor=actor,
            outcome=data["outcome"],
            method=data["method"],
            verified_by=data["verified_by"],
            verified_on=data["verified_on"],
            note=data["note"],
            expected_version=data["version"],
        )


class ReopenView(ItemActionView):
    action = Action.REOPEN
    success_message = gettext_lazy("Item reopened.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.reopen(
            item=item,
            actor=actor,
            reason=data["reason"],
            new_deadline=data.get("new_deadline"),
            expected_version=data["version"],
        )


class ExtensionRequestView(ItemActionView):
    action = Action.REQUEST_EXTENSION
    success_message = gettext_lazy("Extension requested.")

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        services.request_extension(
            item=item,
            actor=actor,
            requested_deadline=data["requested_deadline"],
            reason=data["reason"],
        )


class ExtensionDecisionView(ItemActionView):
    action = Action.DECIDE_EXTENSION
    success_message = gettext_lazy("Decision recorded.")

    def get_form(self, item: RectificationItem) -> forms.VersionedForm:
        return forms.ExtensionDecisionForm(self.request.POST, item=item)

    def perform(self, item, actor, data):  # type: ignore[no-untyped-def]
        extension = get_object_or_404(ExtensionRequest, pk=self.kwargs["extension_pk"], item=item)
        services.decide_extension(
            extension=extension,
            actor=actor,
            approve=data["decision"] == "approve",
            note=data["note"],
            expected_version=data["version"],
        )


class EvidenceDownloadView(LoginRequiredMixin, View):
    """Serve an evidence file as an attachment, only to users who may see its item."""

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        evidence = get_object_or_404(
            Evidence.objects.filter(progress__item__in=items_visible_to(request.user)), pk=pk
        )
        response = FileResponse(
            evidence.file.open("rb"),
            as_attachment=True,
            filename=evidence.original_name,
            content_type=evidence.content_type,
        )
        return response
