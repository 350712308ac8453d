"""The budget sheet, its workbook and the decision page of one project. Thin: the rows come
from ``results.selectors``, the one write from ``results.services``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views import View

from liwan import clock
from liwan.params import int_param
from liwan.replica import reads_from_replica
from rectification import snapshots
from rectification.choices import SnapshotKind
from rectification.services import Actor
from results import selectors, services
from results.exports import budget_xlsx
from results.forms import BudgetDecisionForm
from results.leaders_report import LeadersReport, leaders_report_docx, shown_report
from results.rules import may_decide_budget_advice
from results.selectors import BudgetRow, BudgetSheet

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROWS_PER_PAGE = 50


def _sheet(request: HttpRequest) -> BudgetSheet:
    sheet = selectors.budget_sheet(
        user=request.user,
        year=int_param(request.GET.get("year"), minimum=2000, maximum=2100),
        today=clock.today(),
    )
    if sheet is None:
        raise Http404
    return sheet


@method_decorator(reads_from_replica, name="dispatch")
class BudgetSheetView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        # The totals are the database's; only the page's rows are read.
        sheet = _sheet(request)
        page = Paginator(sheet.rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
        return TemplateResponse(
            request,
            "results/budget_sheet.html",
            {
                "sheet": sheet,
                "page": page,
                "may_decide": may_decide_budget_advice(request.user),
            },
        )


@method_decorator(reads_from_replica, name="dispatch")
class BudgetSheetXlsxView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> FileResponse:
        sheet = _sheet(request)
        return FileResponse(
            budget_xlsx(sheet), as_attachment=True, filename=sheet.filename, content_type=XLSX
        )


class BudgetDecisionView(LoginRequiredMixin, View):
    """One project's advice: the rule's, staff's decisions (newest first) and, for staff, the
    form to override it or return to the rule."""

    def _row(self, request: HttpRequest, pk: int) -> BudgetRow:
        row = selectors.budget_row(user=request.user, result_id=pk, today=clock.today())
        if row is None:
            raise Http404
        return row

    def _render(
        self, request: HttpRequest, row: BudgetRow, form: BudgetDecisionForm, status: int = 200
    ) -> HttpResponse:
        context: dict[str, Any] = {
            "row": row,
            "form": form if may_decide_budget_advice(request.user) else None,
            "history": selectors.decision_history(row.result),
        }
        return TemplateResponse(request, "results/budget_decision.html", context, status=status)

    def _blank(self, row: BudgetRow) -> BudgetDecisionForm:
        return BudgetDecisionForm(
            proposed=row.proposed,
            initial={
                "advice": row.decision.advice if row.decision else "",
                "seen_decision": row.decision.pk if row.decision else 0,
            },
        )

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        row = self._row(request, pk)
        return self._render(request, row, self._blank(row))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        row = self._row(request, pk)
        if not may_decide_budget_advice(request.user):
            return self._render(request, row, self._blank(row), status=403)
        form = BudgetDecisionForm(request.POST, proposed=row.proposed)
        if form.is_valid():
            try:
                services.decide_budget_advice(
                    result=row.result,
                    actor=Actor.from_request(request),
                    advice=form.cleaned_data["advice"],
                    reason=form.cleaned_data["reason"],
                    seen_decision=form.cleaned_data["seen_decision"],
                    today=clock.today(),
                )
            except ValidationError as error:
                form.add_error(None, error)
                status = 409 if error.code == "stale" else 400
                return self._render(request, self._row(request, pk), form, status=status)
            messages.success(request, _("The budget advice was saved."))
            return redirect(f"{_sheet_url(row)}#result-{row.result.pk}")
        return self._render(request, row, form, status=400)


def _sheet_url(row: BudgetRow) -> str:
    return f"{reverse('results:budget-sheet')}?year={row.result.round.year}"


def _report(request: HttpRequest) -> tuple[LeadersReport | None, snapshots.Shown | None]:
    """The report to show, and (for a large round) where its computation stands: 404 when
    there is neither."""
    report, shown = shown_report(
        user=request.user,
        year=int_param(request.GET.get("year"), minimum=2000, maximum=2100),
        today=clock.today(),
    )
    if report is None and (shown is None or shown.snapshot is not None):
        raise Http404
    return report, shown


@method_decorator(reads_from_replica, name="dispatch")
class LeadersReportView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        report, shown = _report(request)
        return TemplateResponse(
            request, "results/leaders_report.html", {"report": report, "shown": shown}
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        """Staff ask for a large round's report to be computed again now."""
        shown = _report(request)[1]
        stored = shown and (shown.snapshot or shown.pending or shown.failed)
        if stored:
            snapshots.request(kind=SnapshotKind.LEADERS_REPORT, year=stored.year, user=request.user)
            messages.success(request, _("The report is being computed again."))
        return redirect(request.get_full_path())


@method_decorator(reads_from_replica, name="dispatch")
class LeadersReportDocxView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        report, _shown = _report(request)
        if report is None:
            # A large round's report not computed yet: its page shows how far it is.
            return redirect(f"{reverse('results:leaders-report')}?{request.GET.urlencode()}")
        response = HttpResponse(leaders_report_docx(report), content_type=DOCX)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=report.filename
        )
        return response
