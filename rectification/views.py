"""Web views of the ledger. Thin: scoping via selectors, changes via services."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import FileResponse, HttpRequest, HttpResponseBadRequest, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.views import View

from rectification import exports
from rectification.selectors import filter_ledger, items_visible_to, ledger_rows


class LedgerExportView(LoginRequiredMixin, View):
    """Download the ledger the user may see, as CSV or XLSX, streamed.

    Query parameters: ``format`` (csv|xlsx), optional ``year`` and ``unit`` (unit name).
    """

    def get(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        fmt = request.GET.get("format", "xlsx")
        if fmt not in {"csv", "xlsx"}:
            return HttpResponseBadRequest("format 只能是 csv 或 xlsx")
        year_raw = request.GET.get("year", "")
        if year_raw and not year_raw.isdigit():
            return HttpResponseBadRequest("year 应为年份数字")
        year = int(year_raw) if year_raw else None
        items = ledger_rows(
            filter_ledger(
                items_visible_to(request.user), year=year, unit=request.GET.get("unit") or None
            )
        )
        filename = exports.export_filename(fmt, year=year)
        if fmt == "csv":
            response = StreamingHttpResponse(
                exports.iter_csv(exports.iterate(items)), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = content_disposition_header(
                as_attachment=True, filename=filename
            )
            return response
        return FileResponse(
            exports.xlsx_tempfile(exports.iterate(items)),
            as_attachment=True,
            filename=filename,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
