"""The public disclosure: the bureau's draft with its redaction check, the public wording of one
problem, and the published versions, which anyone may read without signing in. Thin: the
draft comes from ``results.publication``, the writes from ``results.services``."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import View

from evaluations.models import Unit
from liwan import clock
from liwan.replica import reads_from_replica
from rectification import snapshots
from rectification.choices import SnapshotKind, SnapshotStatus
from rectification.models import RectificationItem
from rectification.selectors import items_visible_to
from rectification.services import Actor
from results import services
from results.forms import PublicationScopeForm, PublicWordingForm, PublishForm
from results.models import Publication
from results.publication import (
    Draft,
    content_hash,
    draft,
    draft_path,
    ledger_wording,
    public_texts,
    publication_docx,
    publication_pdf,
    scope_of,
    stored_entries,
    versions_of_scope,
    wording_flags,
    wording_hash,
)
from results.rules import may_prepare_publication, may_publish
from results.selectors import budget_years

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PUBLICATIONS_PER_PAGE = 20
ENTRIES_PER_PAGE = 50
# A large round's draft lists this many of the problems the redaction check flagged, and says
# how many more there are (they move up as staff deal with these).
FLAGGED_SHOWN = 100
RENDERING_SECONDS = 24 * 3600


def _scope_query(request: HttpRequest) -> str:
    """The draft's year and units as a query string, without its page."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@method_decorator(reads_from_replica, name="dispatch")
class PublicationDraftView(LoginRequiredMixin, View):
    """The draft of a round's publication: what the redaction check found, the whole text as
    it will read, the versions published before; staff publish it from here."""

    def _scope(self, request: HttpRequest) -> PublicationScopeForm:
        if not may_prepare_publication(request.user):
            raise Http404
        years = budget_years()
        if not years:
            raise Http404
        form = PublicationScopeForm(request.GET or {"year": years[0]}, years=years)
        if not form.is_valid():
            # An unknown year or unit in the address: the newest round, all units.
            form = PublicationScopeForm({"year": years[0]}, years=years)
            form.is_valid()
        return form

    def _render(
        self, request: HttpRequest, scope: PublicationScopeForm, *, status: int = 200, **extra: Any
    ) -> HttpResponse:
        year, units = scope.cleaned_data["year"], list(scope.cleaned_data["units"])
        if snapshots.stored(year):
            shown = snapshots.follow(
                kind=SnapshotKind.PUBLICATION, year=year, scope=scope_of(units), user=request.user
            )
            draft_context = _stored_draft(request, shown)
        else:
            draft_context = _draft(request, year, units)
        hash_seen = draft_context.pop("hash")
        publishing = (
            snapshots.under_way(kind=SnapshotKind.PUBLISHING, year=year, scope=scope_of(units))
            if "shown" in draft_context
            else None
        )
        context = {
            "scope": scope,
            "year": year,
            "publish_form": PublishForm(initial={"seen": hash_seen})
            if hash_seen and may_publish(request.user) and publishing is None
            else None,
            "publishing": publishing,
            "versions": Publication.objects.filter(year=year).select_related("published_by"),
            "scope_query": _scope_query(request),
            **draft_context,
            **extra,
        }
        return TemplateResponse(request, "results/publication_draft.html", context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, self._scope(request))

    def post(self, request: HttpRequest) -> HttpResponse:
        scope = self._scope(request)
        if "recompute" in request.POST:
            snapshots.request(
                kind=SnapshotKind.PUBLICATION,
                year=scope.cleaned_data["year"],
                scope=scope_of(scope.cleaned_data["units"]),
                user=request.user,
            )
            messages.success(request, _("The draft is being computed again."))
            return redirect(request.get_full_path())
        if not may_publish(request.user):
            return self._render(request, scope, status=403)
        form = PublishForm(request.POST)
        if not form.is_valid():
            return self._render(request, scope, status=400, error=_("Please read the draft first."))
        if snapshots.stored(scope.cleaned_data["year"]):
            # A large round: the worker computes the draft again and publishes it — unless the
            # draft staff read is already held back by the redaction check.
            read = snapshots.stored_result(
                kind=SnapshotKind.PUBLICATION,
                year=scope.cleaned_data["year"],
                scope=scope_of(scope.cleaned_data["units"]),
            )
            summary = read.summary if read is not None else {}
            if summary.get("hash") == form.cleaned_data["seen"] and summary.get("blocking"):
                error = services.held_back(summary["blocking"])
                return self._render(request, scope, status=400, error=error.messages[0])
            job = services.publish_in_background(
                actor=Actor.from_request(request),
                year=scope.cleaned_data["year"],
                units=list(scope.cleaned_data["units"]),
                seen=form.cleaned_data["seen"],
            )
            return redirect("results:publication-job", pk=job.pk)
        try:
            publication = services.publish(
                actor=Actor.from_request(request),
                year=scope.cleaned_data["year"],
                units=list(scope.cleaned_data["units"]),
                seen=form.cleaned_data["seen"],
                today=clock.today(),
            )
        except ValidationError as error:
            status = 409 if error.code == "stale" else 400
            return self._render(request, scope, status=status, error=error.messages[0])
        messages.success(
            request,
            _("Version %(number)d of the %(year)s publication is published.")
            % {"number": publication.number, "year": publication.year},
        )
        return redirect("results:public-publication", pk=publication.pk)


def _draft(request: HttpRequest, year: int, units: list[Unit]) -> dict[str, Any]:
    """The draft of a round small enough to compute on each request."""
    current: Draft | None = draft(user=request.user, year=year, units=units, today=clock.today())
    content = current.content() if current else None
    entries = current.entries if current else []
    return {
        "draft": current,
        "content": content,
        "has_draft": current is not None,
        "totals": content,
        "hash": content_hash(content) if content else "",
        "blocking_count": len(current.blocking) if current else 0,
        "flagged": current.flagged if current else [],
        "flagged_more": 0,
        "entries": Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page")),
    }


def _stored_draft(request: HttpRequest, shown: snapshots.Shown) -> dict[str, Any]:
    """The draft of a large round as the worker last computed it: its totals and hash from the
    summary, a page of its problems and the first of the flagged ones from the stored rows."""
    stored = shown.snapshot
    summary = stored.summary if stored is not None else {}
    context: dict[str, Any] = {"shown": shown, "hash": ""}
    if stored is None or summary.get("empty", True):
        # Nothing computed yet (the status says how far it is), or nothing to publish.
        return {**context, "has_draft": False, "pending": stored is None}
    entries = Paginator(range(stored.rows), ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    first = entries.start_index() - 1
    entries.object_list = stored_entries(stored, start=first, size=ENTRIES_PER_PAGE)
    flagged = stored_entries(stored, start=0, size=FLAGGED_SHOWN, flagged=True)
    return {
        **context,
        "has_draft": True,
        "totals": summary,
        "hash": summary["hash"],
        "blocking_count": summary["blocking"],
        "flagged": flagged,
        "flagged_more": summary["flagged"] - len(flagged),
        "entries": entries,
    }


class PublicationJobView(LoginRequiredMixin, View):
    """How far the worker is with publishing a large round; then the version it published, or
    why it refused."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not may_prepare_publication(request.user):
            raise Http404
        job = get_object_or_404(snapshots.jobs(SnapshotKind.PUBLISHING), pk=pk)
        published = job.summary.get("publication") if job.status == SnapshotStatus.DONE else None
        return TemplateResponse(
            request,
            "results/publication_job.html",
            {
                "job": job,
                "publication": Publication.objects.filter(pk=published).first()
                if published
                else None,
                "draft_url": draft_path(job.year, job.scope),
            },
        )


class PublicWordingView(LoginRequiredMixin, View):
    """How one problem reads in publications: the ledger's text beside staff's wording, and
    what the redaction check finds in it."""

    def _item(self, request: HttpRequest, pk: int) -> RectificationItem:
        if not may_prepare_publication(request.user):
            raise Http404
        return get_object_or_404(
            items_visible_to(request.user).select_related(
                "unit", "public_wording", "recommendation__finding__result__project"
            ),
            pk=pk,
        )

    def _render(
        self,
        request: HttpRequest,
        item: RectificationItem,
        form: PublicWordingForm,
        status: int = 200,
        texts: tuple[str, str, str] | None = None,
    ) -> HttpResponse:
        """The page; ``texts`` are what the redaction check reads (those submitted, when a save
        was refused; else the wording in force)."""
        wording = getattr(item, "public_wording", None)
        confirmed = set(wording.confirmed) if wording is not None else set()
        flags = wording_flags(item, texts or public_texts(item))
        unconfirmed = [flag for flag in flags if flag.key not in confirmed]
        # The findings this page shows are the ones its tick confirms.
        shown = json.dumps([flag.key for flag in unconfirmed], ensure_ascii=False)
        if form.is_bound:
            form.data = form.data.copy()
            form.data["shown"] = shown
            form.data.pop("confirm", None)
        else:
            form.initial["shown"] = shown
        ledger_problem, ledger_measures = ledger_wording(item)
        context = {
            "item": item,
            "form": form if may_publish(request.user) else None,
            "flags": flags,
            "confirmed": confirmed,
            "unconfirmed": unconfirmed,
            "ledger_problem": ledger_problem,
            "ledger_measures": ledger_measures,
            "back": _back(request, item),
        }
        return TemplateResponse(request, "results/public_wording.html", context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = self._item(request, pk)
        problem, measures, document = public_texts(item)
        form = PublicWordingForm(
            initial={
                "problem": problem,
                "measures": measures,
                "document": document,
                "seen": wording_hash(item),
            }
        )
        return self._render(request, item, form)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        item = self._item(request, pk)
        if not may_publish(request.user):
            return self._render(request, item, PublicWordingForm(), status=403)
        form = PublicWordingForm(request.POST)
        if not form.is_valid():
            return self._render(request, item, form, status=400)
        texts = (
            form.cleaned_data["problem"],
            form.cleaned_data["measures"],
            form.cleaned_data["document"],
        )
        try:
            services.save_public_wording(
                item=item,
                actor=Actor.from_request(request),
                problem=texts[0],
                measures=texts[1],
                document=texts[2],
                seen=form.cleaned_data["seen"],
                confirm=form.cleaned_data["confirm"],
                shown=form.cleaned_data["shown"],
            )
        except ValidationError as error:
            form.add_error(None, error)
            status = 409 if error.code == "stale" else 400
            return self._render(request, item, form, status=status, texts=texts)
        messages.success(request, _("The public wording was saved."))
        return redirect(f"{_back(request, item)}#entry-{item.pk}")


def _back(request: HttpRequest, item: RectificationItem) -> str:
    """The draft the wording was opened from (its year and units kept), else the item's round.
    Only those parameters pass: the query comes from the address."""
    given = QueryDict(request.GET.get("next_query", ""))
    year = given.get("year", "")
    scope = [("year", year if year.isdigit() and len(year) == 4 else str(item.round_year))]
    scope += [("units", unit) for unit in given.getlist("units") if unit.isdigit()]
    return f"{reverse('results:publication')}?{urlencode(scope)}"


# The public side: no sign-in, published versions only.


@method_decorator(reads_from_replica, name="dispatch")
class PublicIndexView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        page = Paginator(
            Publication.objects.only(
                "pk", "year", "number", "title", "published_at", "sha256"
            ).prefetch_related(Prefetch("units", Unit.objects.only("pk", "name"))),
            PUBLICATIONS_PER_PAGE,
        ).get_page(request.GET.get("page"))
        return TemplateResponse(request, "results/public_index.html", {"page": page})


def _publication(pk: int) -> Publication:
    return get_object_or_404(Publication, pk=pk)


@method_decorator(reads_from_replica, name="dispatch")
class PublicPublicationView(View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        publication = _publication(pk)
        # The newest edition of the same units, when this is not it (another scope published
        # later is another publication, not a newer version of this one).
        versions = versions_of_scope(publication.year, [u.pk for u in publication.units.all()])
        newer = versions[-1] if versions and versions[-1].number > publication.number else None
        return TemplateResponse(
            request,
            "results/publication.html",
            {"publication": publication, "content": publication.content, "newer": newer},
        )


@method_decorator(reads_from_replica, name="dispatch")
class _PublicationFileView(View):
    suffix = ""
    content_type = ""

    def render(self, content: dict[str, Any]) -> bytes:
        raise NotImplementedError

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        publication = _publication(pk)
        # A version never changes: its file is drawn once per language, then served from the
        # cache (anonymous downloads on publication day would otherwise each render it).
        key = f"publication:{publication.sha256}:{get_language()}.{self.suffix}"
        body = cache.get_or_set(key, lambda: self.render(publication.content), RENDERING_SECONDS)
        response = HttpResponse(body, content_type=self.content_type)
        filename = _("%(title)s (version %(number)d)") % {
            "title": publication.title,
            "number": publication.number,
        }
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"{filename}.{self.suffix}"
        )
        return response


class PublicationDocxView(_PublicationFileView):
    suffix, content_type = "docx", DOCX

    def render(self, content: dict[str, Any]) -> bytes:
        return publication_docx(content)


class PublicationPdfView(_PublicationFileView):
    suffix, content_type = "pdf", "application/pdf"

    def render(self, content: dict[str, Any]) -> bytes:
        return publication_pdf(content)
