"""Web pages of the ledger as a list: the ledger, 我的待办, the export and evidence downloads.
Thin: every read starts from ``items_visible_to``. The item page and its actions are in
``item_views``."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseGone,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView, TemplateView

from liwan import clock
from liwan.replica import LSN_COOKIE, reads_from_replica
from rectification import export_jobs, exports, selectors, tasks, worklists
from rectification.choices import ExportStatus, ItemStatus
from rectification.models import Evidence, ExportJob
from rectification.pagination import Cursor, KeysetFirstPaginator
from rectification.selectors import items_visible_to


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
            # A cursor travels with the page number its link names (page 2 onwards).
            cursor=Cursor.parse(
                after=self.request.GET.get("after"), before=self.request.GET.get("before")
            )
            if self.request.GET.get("page")
            else None,
            years=self.ledger.per_year,
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
        context["counts_capped"] = self.ledger.capped
        query = self.request.GET.copy()
        for position in ("page", "after", "before"):
            query.pop(position, None)
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


@method_decorator(reads_from_replica, name="dispatch")
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
        if export_jobs.in_background(ledger.items):
            # Too big to write while the browser (and a proxy before it) waits: the worker
            # writes it and the job's page follows.
            job, new = export_jobs.start(
                user=request.user,
                query=request.GET.urlencode(),
                fmt=fmt,
                filename=filename,
                today=ledger.today,
                written_at=request.COOKIES.get(LSN_COOKIE, ""),
            )
            if new:
                transaction.on_commit(functools.partial(tasks.queue_export, job.pk))
            return redirect("rectification:export-job", pk=job.pk)
        items = exports.iterate(ledger.rows)
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


def _own_job(request: HttpRequest, pk: uuid.UUID) -> ExportJob:
    return get_object_or_404(ExportJob, pk=pk, requested_by=request.user)


class ExportJobView(LoginRequiredMixin, View):
    """A background export's progress (the page reloads itself each second until it is done),
    then its download; the requester's other recent exports below."""

    def get(self, request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
        job = _own_job(request, pk)
        others = [other for other in export_jobs.recent(request.user) if other.pk != job.pk]
        origin, origin_url = export_jobs.origin(job)
        return TemplateResponse(
            request,
            "rectification/export_job.html",
            {"job": job, "others": others, "origin": origin, "origin_url": origin_url},
        )


class ExportJobDownloadView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
        job = _own_job(request, pk)
        if job.status == ExportStatus.EXPIRED:
            return HttpResponseGone(_("This export was deleted when its time ran out."))
        if job.status != ExportStatus.DONE or not job.file:
            raise Http404
        try:
            opened = job.file.open("rb")
        except FileNotFoundError:
            # Deleted by the sweep a moment ago.
            return HttpResponseGone(_("This export was deleted when its time ran out."))
        return FileResponse(opened, as_attachment=True, filename=job.filename)


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
