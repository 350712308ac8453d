"""Moving test items through the workflow with the real services, step by step.

Each helper takes the item as far as its name says, through the same services the pages call,
so a test that needs "a submitted item" or "a closed item" gets one made the way the
application makes it (plan accepted, evidence reported, both reviews).
"""

from __future__ import annotations

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile

from rectification import services
from rectification.choices import Agreement, ClosureOutcome, RectificationType, VerificationMethod
from rectification.models import RectificationItem
from rectification.uploads import check_evidence
from tests import factories

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def actor(user, ip: str = "10.0.0.1") -> services.Actor:  # type: ignore[no-untyped-def]
    return services.Actor(user=user, ip=ip)


def _as_actor(who) -> services.Actor:  # type: ignore[no-untyped-def]
    return who if isinstance(who, services.Actor) else actor(who)


def evidence(name: str = "佐证.pdf"):  # type: ignore[no-untyped-def]
    return check_evidence(SimpleUploadedFile(name, PDF, "application/pdf"))


def plan_accepted(
    item: RectificationItem,
    unit_user,  # type: ignore[no-untyped-def]
    staff=None,  # type: ignore[no-untyped-def]
    *,
    measures: str = "一是建立制度；二是开展培训。",
    rectification_type: str = RectificationType.IMMEDIATE,
    milestones=(),  # type: ignore[no-untyped-def]
) -> RectificationItem:
    """The unit's plan, submitted and accepted by evaluation staff (整改中 from then on)."""
    staff = staff or factories.StaffUserFactory()
    plan = services.submit_plan(
        item=item,
        actor=_as_actor(unit_user),
        rectification_type=rectification_type,
        measures=measures,
        agreement=Agreement.AGREE,
        roadmap="2025年：建立机制；2026年：全面推开。"
        if rectification_type == RectificationType.ONGOING
        else "",
        milestones=milestones,
    )
    services.decide_plan(plan=plan, actor=_as_actor(staff), accept=True)
    item.refresh_from_db()
    return item


def worked_on(item: RectificationItem, unit_user, staff=None) -> RectificationItem:  # type: ignore[no-untyped-def]
    """Plan accepted and progress reported with evidence: ready to submit."""
    plan_accepted(item, unit_user, staff)
    services.add_progress(
        item=item, actor=_as_actor(unit_user), note="已完成整改", files=[evidence()]
    )
    item.refresh_from_db()
    return item


def submitted(item: RectificationItem, unit_user, staff=None) -> RectificationItem:  # type: ignore[no-untyped-def]
    """At the bureau (待销号), waiting for the first review. The unit's head sign-off is
    skipped (the factories' units have it off unless a test turns it on)."""
    worked_on(item, unit_user, staff)
    services.submit(item=item, actor=_as_actor(unit_user), result="已按措施完成整改。")
    item.refresh_from_db()
    return item


def first_reviewed(
    item: RectificationItem,
    reviewer,  # type: ignore[no-untyped-def]
    *,
    outcome: str = ClosureOutcome.RECTIFIED,
    note: str = "经书面审核，佐证材料齐全，同意销号。",
) -> RectificationItem:
    services.first_review(
        item=item,
        actor=_as_actor(reviewer),
        outcome=outcome,
        method=VerificationMethod.DOCUMENT_REVIEW,
        verified_by="王珊",
        verified_on=datetime.date.today(),
        note=note,
    )
    item.refresh_from_db()
    return item


def closed(
    item: RectificationItem,
    first=None,  # type: ignore[no-untyped-def]
    second=None,  # type: ignore[no-untyped-def]
    *,
    outcome: str = ClosureOutcome.RECTIFIED,
    note: str = "经书面审核，佐证材料齐全，同意销号。",
) -> RectificationItem:
    """Closed (已销号) by two evaluation staff members: a first and a second review."""
    first = first or factories.StaffUserFactory()
    second = second or factories.StaffUserFactory()
    first_reviewed(item, first, outcome=outcome, note=note)
    services.second_review(
        item=item,
        actor=_as_actor(second),
        confirm=True,
        consent=outcome == ClosureOutcome.NOT_APPLICABLE,
    )
    item.refresh_from_db()
    return item


def owned_item(**kwargs) -> tuple[RectificationItem, object]:  # type: ignore[no-untyped-def]
    """An item and its owner (a unit staff member of its unit)."""
    owner = factories.UnitStaffFactory()
    item = factories.ItemFactory(
        recommendation__finding__result__project__unit=owner.unit, owner=owner, **kwargs
    )
    return item, owner
