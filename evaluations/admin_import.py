"""The back-office import page: upload → preview (what changes, every error) → confirm.

The preview runs the real import inside a transaction that is rolled back, so what it shows is
exactly what confirming will do. Between the two steps the file waits in the default storage
under ``imports/``; the page carries a signed token naming it, valid for an hour. The file is
deleted when it is confirmed, when its token is presented after the hour, and — for previews
nobody confirmed — by the next upload once the hour has passed (the name starts with its time,
so no storage-specific modification time is needed).
"""

from __future__ import annotations

import datetime
import uuid
from pathlib import PurePath

from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.http import content_disposition_header

from evaluations.forms import ImportConfirmForm, ImportUploadForm
from evaluations.importing import ImportRejected, read_table
from evaluations.importing.template import FILENAME as TEMPLATE_FILENAME
from evaluations.importing.template import template_workbook
from liwan import clock
from rectification.imports import import_evaluation_table

_SALT = "evaluations.admin_import"
_MAX_AGE = 3600
_FOLDER = "imports"


def import_view(model_admin: ModelAdmin, request: HttpRequest) -> HttpResponse:
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "导入绩效评价汇总表",
    }
    if request.method == "GET" and request.GET.get("download") == "template":
        return _template()
    if request.method == "POST" and "token" in request.POST:
        return _confirm(request, context)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        year = form.cleaned_data["year"]
        deadline = form.cleaned_data["deadline"]
        table = read_table(upload.name, data, year=year)
        try:
            report = import_evaluation_table(table=table, deadline=deadline, dry_run=True)
        except ImportRejected as exc:
            context.update(form=form, issues=exc.issues, source=table.source)
            return TemplateResponse(request, "admin/evaluations/import.html", context)
        _sweep_abandoned()
        stored = default_storage.save(
            f"{_FOLDER}/{int(clock.now().timestamp())}-{uuid.uuid4().hex}"
            f"{PurePath(upload.name).suffix.lower()}",
            ContentFile(data),
        )
        token = signing.dumps(
            {
                "path": stored,
                "name": upload.name,
                "year": year,
                "deadline": deadline.isoformat() if deadline else None,
            },
            salt=_SALT,
        )
        context.update(
            report=report,
            source=table.source,
            # How the reader read the file: total rows checked and left out, rates read as
            # fractions (evaluations.importing.records.ImportNote).
            notes=table.notes,
            confirm=ImportConfirmForm(initial={"token": token}),
        )
        return TemplateResponse(request, "admin/evaluations/import_preview.html", context)
    context["form"] = form
    return TemplateResponse(request, "admin/evaluations/import.html", context)


def _template() -> HttpResponse:
    """导入模板.xlsx: the layout the importer reads, with an example row and notes."""
    response = HttpResponse(
        template_workbook(year=clock.today().year),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=TEMPLATE_FILENAME
    )
    return response


def _confirm(request: HttpRequest, context: dict) -> HttpResponse:
    form = ImportConfirmForm(request.POST)
    payload = _payload(form.cleaned_data["token"]) if form.is_valid() else None
    try:
        if payload is None:
            raise FileNotFoundError
        with default_storage.open(payload["path"], "rb") as handle:
            data = handle.read()
    except OSError:  # FileNotFoundError included: already confirmed, or swept
        messages.error(request, "预览已过期或无效，请重新上传文件。")
        return redirect("admin:evaluations_evaluationround_import")
    deadline = datetime.date.fromisoformat(payload["deadline"]) if payload["deadline"] else None
    table = read_table(payload["name"], data, year=payload["year"])
    try:
        report = import_evaluation_table(table=table, deadline=deadline, actor=request.user)
    except ImportRejected as exc:
        # The database changed between preview and confirm (e.g. someone else imported).
        context.update(form=ImportUploadForm(), issues=exc.issues, source=table.source)
        return TemplateResponse(request, "admin/evaluations/import.html", context)
    finally:
        default_storage.delete(payload["path"])
    messages.success(request, "导入完成。" + report.summary())
    return redirect("admin:evaluations_evaluationround_changelist")


def _payload(token: str) -> dict | None:
    """The signed payload of a preview, or None when the token is forged or too old."""
    try:
        return signing.loads(token, salt=_SALT, max_age=_MAX_AGE)
    except signing.SignatureExpired:
        # Genuine but expired (loads without max_age then succeeds): its file is of no more use.
        default_storage.delete(signing.loads(token, salt=_SALT)["path"])
        return None
    except signing.BadSignature:
        return None


def _sweep_abandoned() -> None:
    """Delete uploads whose preview was never confirmed and whose token has expired."""
    try:
        _, names = default_storage.listdir(_FOLDER)
    except FileNotFoundError:
        return
    # A minute's grace: the token is signed just after the file is named, never before.
    oldest = clock.now().timestamp() - _MAX_AGE - 60
    for name in names:
        stamp = name.partition("-")[0]
        if stamp.isdigit() and int(stamp) < oldest:
            default_storage.delete(f"{_FOLDER}/{name}")
