"""The one writer of budget decisions, of the public wording of items and of publications."""

from __future__ import annotations

import datetime
from collections.abc import Collection

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from evaluations.models import EvaluationResult, Unit
from liwan import clock
from rectification import snapshots
from rectification.choices import SnapshotKind
from rectification.models import RectificationItem
from rectification.services import Actor
from results.choices import BudgetAdvice
from results.models import BudgetDecision, Publication, PublicWording
from results.publication import (
    content_hash,
    draft,
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
    *, actor: Actor, year: int, units: list[Unit], seen: str, today: datetime.date
) -> Publication:
    """Publish ``year``'s rectification (only ``units`` when given) as the draft staff read:
    ``seen`` is its ``content_hash``. Refused while the redaction check has findings nobody
    confirmed, or when the draft changed since it was read."""
    if not may_publish(actor.user):
        raise PermissionDenied(_("Only evaluation staff publish."))
    try:
        return _publish(actor=actor, year=year, units=units, seen=seen, today=today)
    except IntegrityError as exc:
        # Two first versions of a year published at once: the later one is told to look again.
        raise ValidationError(
            _("Someone else published this year meanwhile; read the publication again."),
            code="stale",
        ) from exc


@transaction.atomic
def _publish(
    *, actor: Actor, year: int, units: list[Unit], seen: str, today: datetime.date
) -> Publication:
    # One publisher of a year at a time (once it has a version): the numbers follow one another.
    list(Publication.objects.select_for_update().filter(year=year).values_list("pk"))
    current = draft(user=actor.user, year=year, units=units, today=today)
    if current is None:
        raise ValidationError(_("There is nothing to publish."), code="empty")
    if current.blocking:
        raise ValidationError(
            _(
                "The redaction check found personal data in %(count)d problems; "
                "edit or confirm their public wording first."
            )
            % {"count": len(current.blocking)},
            code="redaction",
        )
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


def _unchanged(published: dict, content: dict) -> bool:  # type: ignore[type-arg]
    """Whether ``content`` says what ``published`` said: the same, but for the date it is as of
    (the same draft a day later is not news)."""
    return {k: v for k, v in published.items() if k != "as_of"} == {
        k: v for k, v in content.items() if k != "as_of"
    }
