"""The dashboard and the unit report. Thin: the figures come from ``dashboard.selectors`` and
``dashboard.reports``, both scoped by ``items_visible_to``."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView

from accounts.roles import is_evaluation_staff
from dashboard import selectors
from dashboard.charts import chart_data
from dashboard.closure_list import ClosureList, closure_items, closure_list
from dashboard.report_docx import closure_list_docx, supervision_slip_docx, unit_report_docx
from dashboard.reports import UnitReport, unit_report
from dashboard.supervision_slip import SupervisionSlip, supervision_slip
from evaluations.models import Unit
from liwan import clock
from liwan.params import int_param
from liwan.replica import LSN_COOKIE, reads_from_replica
from rectification import export_jobs, services, tasks
from rectification.choices import ExportKind
from rectification.forms import UnitInstructionForm
from rectification.services import Actor

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Pager:
    """Links to the previous and next page of one of the dashboard's paginated tables.

    Each table pages through its own query parameter, so paging one keeps the year and the
    pages of the others; the link jumps back to the table (``anchor``).
    """

    page: Page
    previous_url: str
    next_url: str


def _pager(request: HttpRequest, page: Page, parameter: str, anchor: str) -> Pager:
    def url(number: int) -> str:
        query = request.GET.copy()
        if number == 1:
            query.pop(parameter, None)
        else:
            query[parameter] = str(number)
        return f"?{query.urlencode()}#{anchor}"

    return Pager(
        page=page,
        previous_url=url(page.previous_page_number()) if page.has_previous() else "",
        next_url=url(page.next_page_number()) if page.has_next() else "",
    )


@method_decorator(reads_from_replica, name="dispatch")
class DashboardView(LoginRequiredMixin, TemplateView):
    template_name = "dashboard/index.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        request = self.request
        dash = selectors.dashboard(
            user=request.user,
            # Not a plausible year: the newest round's, as with no year at all.
            year=int_param(request.GET.get("year"), minimum=2000, maximum=2100),
            today=clock.today(),
            projects_page=request.GET.get("projects_page"),
            closure_page=request.GET.get("closure_page"),
            overdue_page=request.GET.get("overdue_page"),
        )
        context["dash"] = dash
        context["charts"] = chart_data(dash) if dash.year else None
        context["own_unit_id"] = request.user.unit_id
        context["closure_pager"] = _pager(
            request, dash.closure_ranking, "closure_page", "closure-heading"
        )
        context["overdue_pager"] = _pager(
            request, dash.overdue_ranking, "overdue_page", "overdue-heading"
        )
        context["projects_pager"] = _pager(
            request, dash.projects, "projects_page", "projects-heading"
        )
        return context


def _report(request: HttpRequest, unit_id: int, year: int) -> UnitReport:
    report = unit_report(user=request.user, unit_id=unit_id, year=year, today=clock.today())
    if report is None:
        # Another unit's report, or a year without items: not found either way.
        raise Http404
    return report


@method_decorator(reads_from_replica, name="dispatch")
class UnitReportView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, unit_id: int, year: int) -> HttpResponse:
        report = _report(request, unit_id, year)
        return TemplateResponse(request, "dashboard/unit_report.html", {"report": report})


@method_decorator(reads_from_replica, name="dispatch")
class UnitReportDocxView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, unit_id: int, year: int) -> HttpResponse:
        report = _report(request, unit_id, year)
        response = HttpResponse(unit_report_docx(report), content_type=DOCX)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=report.filename
        )
        return response


def _closure_list(request: HttpRequest, unit_id: int, year: int) -> ClosureList:
    closure = closure_list(user=request.user, unit_id=unit_id, year=year, today=clock.today())
    if closure is None:
        raise Http404
    return closure


@method_decorator(reads_from_replica, name="dispatch")
class ClosureListView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, unit_id: int, year: int) -> HttpResponse:
        closure = _closure_list(request, unit_id, year)
        return TemplateResponse(request, "dashboard/closure_list.html", {"closure": closure})


@method_decorator(reads_from_replica, name="dispatch")
class ClosureListDocxView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, unit_id: int, year: int) -> HttpResponse:
        items = closure_items(user=request.user, unit_id=unit_id, year=year)
        if export_jobs.in_background(items, limit=settings.LIWAN_CLOSURE_LIST_INLINE_ITEMS):
            # A big unit's list takes longer to lay out in Word than a browser (and a proxy
            # before it) waits: the worker writes it, and the job's page follows.
            job, new = export_jobs.start(
                user=request.user,
                kind=ExportKind.CLOSURE_LIST,
                query=urlencode({"unit": unit_id, "year": year}),
                fmt="docx",
                filename=ClosureList(
                    unit=Unit.objects.get(pk=unit_id), year=year, as_of=clock.today(), rows=[]
                ).filename,
                today=clock.today(),
                written_at=request.COOKIES.get(LSN_COOKIE, ""),
            )
            if new:
                transaction.on_commit(functools.partial(tasks.queue_export, job.pk))
            return redirect("rectification:export-job", pk=job.pk)
        closure = _closure_list(request, unit_id, year)
        response = HttpResponse(closure_list_docx(closure), content_type=DOCX)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=closure.filename
        )
        return response


def _slip(request: HttpRequest, unit_id: int, year: int) -> SupervisionSlip:
    slip = supervision_slip(user=request.user, unit_id=unit_id, year=year, today=clock.today())
    if slip is None:
        raise Http404
    return slip


def _slip_page(
    request: HttpRequest, slip: SupervisionSlip, form: UnitInstructionForm | None, status=200
) -> HttpResponse:
    if form is None and is_evaluation_staff(request.user):
        form = UnitInstructionForm()
    context = {"slip": slip, "instruction_form": form}
    return TemplateResponse(request, "dashboard/supervision_slip.html", context, status=status)


@method_decorator(reads_from_replica, name="dispatch")
class SupervisionSlipView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, unit_id: int, year: int) -> HttpResponse:
        return _slip_page(request, _slip(request, unit_id, year), None)


class UnitInstructionView(LoginRequiredMixin, View):
    """Record a leader's instruction on the unit of a supervision slip (evaluation staff)."""

    def post(self, request: HttpRequest, unit_id: int, year: int) -> HttpResponse:
        slip = _slip(request, unit_id, year)
        if not is_evaluation_staff(request.user):
            return _slip_page(request, slip, None, status=403)
        form = UnitInstructionForm(request.POST)
        if not form.is_valid():
            return _slip_page(request, slip, form, status=400)
        try:
            records = services.record_unit_instruction(
                unit_id=unit_id, year=year, actor=Actor.from_request(request), **form.cleaned_data
            )
        except (ValidationError, PermissionDenied) as error:
            form.add_error(None, error)
            return _slip_page(request, slip, form, status=400)
        messages.success(
            request,
            ngettext(
                "The instruction is recorded on the unit's %(count)d open problem.",
                "The instruction is recorded on the unit's %(count)d open problems.",
                len(records),
            )
            % {"count": len(records)},
        )
        return redirect("dashboard:supervision-slip", unit_id=unit_id, year=year)


@method_decorator(reads_from_replica, name="dispatch")
class SupervisionSlipDocxView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest, unit_id: int, year: int) -> HttpResponse:
        slip = _slip(request, unit_id, year)
        if not slip.rows:
            # Nothing to supervise: there is no slip to send (the page says so).
            raise Http404
        response = HttpResponse(supervision_slip_docx(slip), content_type=DOCX)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=slip.filename
        )
        return response
