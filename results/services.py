"""The one writer of budget decisions, of the public wording of items and of publications."""

from __future__ import annotations

import datetime
from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from evaluations.models import EvaluationResult, Unit
from liwan import clock, notice
from rectification import snapshots
from rectification.choices import SnapshotKind
from rectification.models import RectificationItem, RoundSnapshot
from rectification.services import Actor
from rectification.snapshots import Outcome, Progress
from results.choices import BudgetAdvice
from results.models import BudgetDecision, Publication, PublicWording
from results.publication import (
    Draft,
    content_hash,
    draft,
    draft_path,
    scope_of,
    scope_units,
    versions_of_scope,
    wording_flags,
    wording_hash,
)
from results.rules import may_decide_budget_advice, may_publish
from results.selectors import budget_rows


def decide_budget_advice(
    *,
    result: EvaluationResult,
    actor: Actor,
    advice: str,
    reason: str,
    seen_decision: int,
    today: datetime.date,
) -> BudgetDecision:
    """Staff set the advice of one project (``advice``), or return it to the rule's (``""``),
    with the reason. ``seen_decision`` is the newest decision the form showed (0: none): if
    someone decided since, nothing is written and the form says so."""
    if not may_decide_budget_advice(actor.user):
        raise PermissionDenied(_("Only evaluation staff decide the budget advice."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Please give the reason for the decision."), code="reason")
    if advice and advice not in BudgetAdvice.values:
        raise ValidationError(_("Please choose the budget advice."), code="advice")
    with transaction.atomic():
        locked = EvaluationResult.objects.select_for_update().get(pk=result.pk)
        row = next(iter(budget_rows([locked], today=today)))
        newest = row.decision.pk if row.decision else 0
        if newest != seen_decision:
            raise ValidationError(
                _(
                    "Someone else decided on this project's budget advice meanwhile; "
                    "read the current advice and decide again."
                ),
                code="stale",
            )
        current = row.decision.advice if row.decision else ""
        if advice == current:
            raise ValidationError(
                _("That is already the advice in force; nothing to change.")
                if advice
                else _("The advice already follows the rule; nothing to change."),
                code="unchanged",
            )
        # A large round's stored report to leaders totals the advice.
        snapshots.supersede(kind=SnapshotKind.LEADERS_REPORT, year=locked.round.year)
        return BudgetDecision.objects.create(
            result=locked,
            advice=advice,
            proposed=row.proposed,
            reason=reason,
            decided_by=actor.user,
        )


def save_public_wording(
    *,
    item: RectificationItem,
    actor: Actor,
    problem: str,
    measures: str,
    document: str,
    seen: str,
    confirm: bool = False,
    shown: Collection[str] = (),
) -> PublicWording:
    """Staff set how ``item`` reads in publications. What the redaction check finds in the
    texts given must have been confirmed before, or be confirmed now (``confirm``) having been
    shown (``shown``: the findings' keys the page showed); else nothing is written and the
    error names the findings. ``seen`` is ``wording_hash`` of the texts the
    form showed: if they changed meanwhile (another edit, or the unit's measures when none was
    saved), nothing is written."""
    if not may_publish(actor.user):
        raise PermissionDenied(_("Only evaluation staff edit the public wording."))
    problem, measures, document = problem.strip(), measures.strip(), document.strip()
    if not problem or not measures:
        raise ValidationError(_("The problem and the measures cannot be empty."), code="empty")
    with transaction.atomic():
        locked = RectificationItem.objects.select_for_update().get(pk=item.pk)
        if wording_hash(locked) != seen:
            raise ValidationError(
                _(
                    "The public wording of this problem changed meanwhile; "
                    "read it again and make your change."
                ),
                code="stale",
            )
        flags = wording_flags(locked, (problem, measures, document))
        before = PublicWording.objects.filter(item=locked).values_list("confirmed", flat=True)
        confirmed_before = set(next(iter(before), []))
        unconfirmed = [flag for flag in flags if flag.key not in confirmed_before]
        unseen = [flag for flag in unconfirmed if flag.key not in set(shown)]
        if confirm and unseen:
            # A tick confirms what the page showed, not what was typed after it.
            raise ValidationError(
                _(
                    "The redaction check found more in the text than the page showed: "
                    "%(flags)s. Read them and confirm again."
                )
                % {"flags": "、".join(flag.label for flag in unseen)},
                code="redaction",
            )
        if unconfirmed and not confirm:
            raise ValidationError(
                _(
                    "The redaction check found personal data in the text: %(flags)s. Remove it, "
                    "or confirm that it may be published."
                )
                % {"flags": "、".join(flag.label for flag in unconfirmed)},
                code="redaction",
            )
        wording, _created = PublicWording.objects.update_or_create(
            item=locked,
            defaults={
                "problem": problem,
                "measures": measures,
                "document": document,
                # Every finding of the text saved is confirmed now, earlier ones included.
                "confirmed": [flag.key for flag in flags],
                "edited_by": actor.user,
                "edited_at": clock.now(),
            },
        )
        # A large round's stored draft reads the wording as it was: it is computed again.
        snapshots.supersede(kind=SnapshotKind.PUBLICATION, year=locked.round_year)
        return wording


def publish(
    *,
    actor: Actor,
    year: int,
    units: list[Unit],
    seen: str,
    today: datetime.date,
    progress: Progress | None = None,
) -> Publication:
    """Publish ``year``'s rectification (only ``units`` when given) as the draft staff read:
    ``seen`` is its ``content_hash``. Refused while the redaction check has findings nobody
    confirmed, or when the draft changed since it was read. ``progress`` follows the draft's
    computation (a large round's publishing job)."""
    if not may_publish(actor.user):
        raise PermissionDenied(_("Only evaluation staff publish."))
    # The draft is computed before the year is locked: a city's round takes seconds, and the
    # lock only orders the publishers of a year (it does not hold the ledger still either).
    current = draft(user=actor.user, year=year, units=units, today=today, progress=progress)
    if current is None:
        raise ValidationError(_("There is nothing to publish."), code="empty")
    if current.blocking:
        raise held_back(len(current.blocking))
    content = current.content()
    digest = content_hash(content)
    if digest != seen:
        raise ValidationError(
            _(
                "The publication changed since you read it (the ledger or a wording "
                "changed); read it again before publishing."
            ),
            code="stale",
        )
    try:
        return _record(actor=actor, current=current, content=content, digest=digest)
    except IntegrityError as exc:
        # Two first versions of a year published at once: the later one is told to look again.
        raise ValidationError(
            _("Someone else published this year meanwhile; read the publication again."),
            code="stale",
        ) from exc


def held_back(count: int) -> ValidationError:
    """The refusal of a draft whose redaction check has ``count`` problems with findings nobody
    confirmed."""
    return ValidationError(
        _(
            "The redaction check found personal data in %(count)d problems; "
            "edit or confirm their public wording first."
        )
        % {"count": count},
        code="redaction",
    )


@transaction.atomic
def _record(*, actor: Actor, current: Draft, content: dict[str, Any], digest: str) -> Publication:
    year, units = current.year, current.units
    # One publisher of a year at a time (once it has a version): the numbers follow one another,
    # and a colleague's version of the same draft, published meanwhile, is seen.
    list(Publication.objects.select_for_update().filter(year=year).values_list("pk"))
    earlier = versions_of_scope(year, [unit.pk for unit in units])
    if earlier and _unchanged(earlier[-1].content, content):
        raise ValidationError(
            _("This draft is already published as version %(number)d; nothing has changed.")
            % {"number": earlier[-1].number},
            code="unchanged",
        )
    number = (Publication.objects.filter(year=year).aggregate(n=Max("number"))["n"] or 0) + 1
    publication = Publication.objects.create(
        year=year,
        number=number,
        title=current.title,
        content=content,
        sha256=digest,
        published_by=actor.user,
    )
    publication.units.set(units)
    return publication


def publish_in_background(
    *, actor: Actor, year: int, units: list[Unit], seen: str
) -> RoundSnapshot:
    """Have the worker publish a large round as staff read it (``publish``, as
    ``publish_snapshot``): the job, new or the one already publishing the same units."""
    if not may_publish(actor.user):
        raise PermissionDenied(_("Only evaluation staff publish."))
    return snapshots.request(
        kind=SnapshotKind.PUBLISHING,
        year=year,
        scope=scope_of(units),
        user=actor.user,
        asked={"seen": seen, "ip": actor.ip},
    )


def publish_snapshot(job: RoundSnapshot, progress: Progress) -> Outcome:
    """The worker's side of ``publish_in_background``: publish as the requester, as of the day
    it runs, and tell them by e-mail how it went."""
    units = list(Unit.objects.filter(pk__in=scope_units(job.scope)))
    actor = Actor(user=job.requested_by, ip=job.summary.get("ip"))
    # The reason for a refusal is kept as its page shows it: in the site's language.
    with translation.override(settings.LANGUAGE_CODE):
        return _publish_job(job, units=units, actor=actor, progress=progress)


def _publish_job(
    job: RoundSnapshot, *, units: list[Unit], actor: Actor, progress: Progress
) -> Outcome:
    try:
        publication = publish(
            actor=actor,
            year=job.year,
            units=units,
            seen=job.summary.get("seen", ""),
            today=clock.today(),
            progress=progress,
        )
    except (ValidationError, PermissionDenied) as exc:
        reason = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        if getattr(exc, "code", None) == "stale":
            # The stored draft staff read is behind the ledger: have it computed again.
            snapshots.supersede(kind=SnapshotKind.PUBLICATION, year=job.year)
        _tell_publishing(job, publication=None, reason=reason)
        raise snapshots.Refused(reason) from exc
    except Exception:
        # The error's text is for the log (snapshots.run writes it there); the publisher is
        # told that it did not happen, as the job's page says.
        _tell_publishing(job, publication=None, reason=_("an error stopped it."))
        raise
    _tell_publishing(job, publication=publication, reason="")
    return Outcome(summary={"publication": publication.pk, "number": publication.number}, rows=())


def _tell_publishing(job: RoundSnapshot, *, publication: Publication | None, reason: str) -> None:
    """The e-mail that a large round's publication is out (with its public page), or why it
    was refused (with the draft to read again)."""

    def compose() -> tuple[str, str]:
        if publication is not None:
            return (
                _("Version %(number)d of the %(year)s publication is published.")
                % {"number": publication.number, "year": publication.year},
                _("The publication you published is out; the public reads it at:\n%(link)s\n")
                % {
                    "link": notice.link(
                        reverse("results:public-publication", args=[publication.pk])
                    )
                },
            )
        return (
            _("The %(year)s publication was not published") % {"year": job.year},
            _("The publication was not published: %(reason)s\nRead the draft again at:\n%(link)s\n")
            % {"reason": reason, "link": notice.link(draft_path(job.year, job.scope))},
        )

    notice.tell(job.requested_by, compose)


def _unchanged(published: dict, content: dict) -> bool:  # type: ignore[type-arg]
    """Whether ``content`` says what ``published`` said: the same, but for the date it is as of
    (the same draft a day later is not news)."""
    return {k: v for k, v in published.items() if k != "as_of"} == {
        k: v for k, v in content.items() if k != "as_of"
    }
