"""Forms of the item page, one per action. Each carries the item ``version`` it was rendered
with, which the service compares to detect a concurrent edit. Forms only parse input; what is
allowed is decided by ``rules`` and the services."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.roles import Role
from calendars.forms import DeadlineForm
from liwan import clock
from rectification.bulk import KEEP, UnitOwners
from rectification.choices import (
    REVIEW_OUTCOMES,
    Agreement,
    ClosureOutcome,
    MilestoneStatus,
    PlanStatus,
    RectificationType,
    SupervisionKind,
    VerificationMethod,
)
from rectification.models import Milestone, RectificationItem
from rectification.services import PlannedMilestone
from rectification.uploads import CheckedFile, check_evidence


class VersionedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, item: RectificationItem, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("version", item.version)
        super().__init__(*args, **kwargs)
        self.item = item


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern)."""

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("widget", MultipleFileInput())
        # An empty file is refused by uploads.check_evidence, which also logs the refusal.
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):  # type: ignore[no-untyped-def]
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data]
        return [single(data, initial)] if data else []


class ProgressForm(VersionedForm):
    note = forms.CharField(
        label=_("Progress"), widget=forms.Textarea(attrs={"rows": 4}), max_length=10000
    )
    files = MultipleFileField(
        label=_("Supporting evidence"),
        required=False,
        help_text=_("PDF, JPG, PNG, Word, Excel or OFD; at most 20 MB each."),
    )
    MAX_FILES = 10

    def clean_files(self) -> list[CheckedFile]:
        return _checked_files(self.cleaned_data.get("files") or [])


# Files per progress report or milestone report.
MAX_FILES = 10


def _checked_files(uploads: list[Any]) -> list[CheckedFile]:
    """Every upload checked by content (``uploads.check_evidence``); all refusals together."""
    if len(uploads) > MAX_FILES:
        raise ValidationError(
            _("At most %(n)d files per progress report.") % {"n": MAX_FILES}, code="too_many"
        )
    checked, errors = [], []
    for upload in uploads:
        try:
            checked.append(check_evidence(upload))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    return checked


class SubmitForm(VersionedForm):
    result = forms.CharField(
        label=_("Rectification result"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=10000,
        help_text=_("What has been achieved; shown to the evaluation staff who verify it."),
    )


class ReasonForm(VersionedForm):
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )


class ReopenForm(ReasonForm):
    """Reopen a closed item; the old deadline has usually passed, so a new one may be set."""

    new_deadline = forms.DateField(
        label=_("New deadline"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty to keep the current deadline."),
    )


class FirstReviewForm(VersionedForm):
    """初审: rule on the evidence and propose the outcome."""

    outcome = forms.ChoiceField(
        label=_("Proposed outcome"),
        choices=[(o.value, o.label) for o in REVIEW_OUTCOMES],
        help_text=_(
            "“Ongoing” closes the item for this round and keeps it on the follow-up list with "
            "its roadmap; “Not to be rectified” needs a written justification below."
        ),
    )
    method = forms.ChoiceField(label=_("Verified by way of"), choices=VerificationMethod.choices)
    verified_by = forms.CharField(label=_("Verified by"), max_length=50)
    verified_on = forms.DateField(
        label=_("Verified on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    note = forms.CharField(
        label=_("Verification note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["verified_on"].initial = clock.today()


class SecondReviewForm(VersionedForm):
    """复核: confirm the proposed outcome and close, or send it back to the first review."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("confirm", _("Confirm and close")), ("decline", _("Send back"))],
        widget=forms.RadioSelect,
    )
    consent = forms.BooleanField(
        label=_("I consent to closing it as “Not to be rectified”"), required=False
    )
    note = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5000,
        help_text=_("Required when sending it back."),
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if self.item.proposed_outcome != ClosureOutcome.NOT_APPLICABLE:
            del self.fields["consent"]


class DecisionForm(VersionedForm):
    """Accept or send back what the unit handed over (a plan, a milestone, a submission)."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Accept")), ("return", _("Send back"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5000,
        help_text=_("Required when sending it back."),
    )


class HeadSignoffForm(DecisionForm):
    """负责人确认: the unit head confirms the submission to the bureau or sends it back."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Confirm and send to the bureau")), ("return", _("Send back"))],
        widget=forms.RadioSelect,
    )


class MilestoneDecisionForm(DecisionForm):
    milestone = forms.ModelChoiceField(label=_("Milestone"), queryset=Milestone.objects.none())
    field_order = ["milestone", "decision", "note"]

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        waiting = Milestone.objects.filter(item=self.item, status=MilestoneStatus.SUBMITTED)
        self.fields["milestone"].queryset = waiting
        first = waiting.first()
        if first is not None:
            self.fields["milestone"].initial = first.pk


class PlanForm(VersionedForm):
    """整改方案: type, measures, the unit's view of the finding, and for a staged rectification
    its milestones (one row each; empty rows are ignored), for an ongoing one its roadmap."""

    MILESTONE_ROWS = 6
    PLAN_FIELDS = ("rectification_type", "measures", "agreement", "agreement_reason", "roadmap")

    rectification_type = forms.ChoiceField(
        label=_("Rectification type"),
        choices=RectificationType.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "Fix at once: one deadline. In stages: milestones, each with its deadline and the "
            "evidence expected. Ongoing: a roadmap of yearly measures; the item closes for the "
            "round and stays on the follow-up list."
        ),
    )
    measures = forms.CharField(
        label=_("Rectification measures"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=10000,
        help_text=_("What the unit does about the recommendation, point by point."),
    )
    agreement = forms.ChoiceField(
        label=_("The unit's view of the finding"),
        choices=Agreement.choices,
        widget=forms.RadioSelect,
        initial=Agreement.AGREE,
    )
    agreement_reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5000,
        help_text=_("Required unless the unit agrees."),
    )
    roadmap = forms.CharField(
        label=_("Roadmap (yearly measures)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=10000,
        help_text=_("Ongoing rectification only: the timetable and the measures year by year."),
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        accepted = self.item.plans.filter(status=PlanStatus.ACCEPTED).first()
        planned = accepted.milestones if accepted else []
        if accepted is not None and not self.is_bound:
            # A revision starts from the accepted plan.
            for name in self.PLAN_FIELDS:
                self.fields[name].initial = getattr(accepted, name)
        for row in range(self.MILESTONE_ROWS):
            spec = planned[row] if row < len(planned) else {}
            self.fields[f"milestone_{row}_title"] = forms.CharField(
                label=_("Milestone %(n)d") % {"n": row + 1},
                required=False,
                max_length=200,
                initial=spec.get("title", ""),
            )
            self.fields[f"milestone_{row}_deadline"] = forms.DateField(
                label=_("due by"),
                required=False,
                initial=spec.get("deadline"),
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )
            self.fields[f"milestone_{row}_evidence"] = forms.CharField(
                label=_("evidence expected"),
                required=False,
                max_length=200,
                initial=spec.get("evidence", ""),
            )

    def milestone_rows(self) -> list[tuple[forms.BoundField, ...]]:
        return [
            tuple(self[f"milestone_{row}_{part}"] for part in ("title", "deadline", "evidence"))
            for row in range(self.MILESTONE_ROWS)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        milestones = []
        for row in range(self.MILESTONE_ROWS):
            title = (cleaned.get(f"milestone_{row}_title") or "").strip()
            deadline = cleaned.get(f"milestone_{row}_deadline")
            if not title and not deadline:
                continue
            if not title or not deadline:
                self.add_error(
                    f"milestone_{row}_title" if not title else f"milestone_{row}_deadline",
                    ValidationError(
                        _("A milestone needs both what is to be done and its deadline."),
                        code="milestone_incomplete",
                    ),
                )
                continue
            milestones.append(
                PlannedMilestone(
                    title=title,
                    deadline=deadline,
                    evidence=(cleaned.get(f"milestone_{row}_evidence") or "").strip(),
                )
            )
        cleaned["milestones"] = (
            milestones if cleaned.get("rectification_type") == RectificationType.STAGED else []
        )
        return cleaned


class MilestoneReportForm(VersionedForm):
    """The unit reports a milestone done, with its evidence."""

    milestone = forms.ModelChoiceField(label=_("Milestone"), queryset=Milestone.objects.none())
    note = forms.CharField(
        label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10000
    )
    files = MultipleFileField(
        label=_("Supporting evidence"),
        help_text=_("PDF, JPG, PNG, Word, Excel or OFD; at most 20 MB each."),
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        open_ones = Milestone.objects.filter(item=self.item, status=MilestoneStatus.OPEN)
        self.fields["milestone"].queryset = open_ones
        first = open_ones.first()
        if first is not None:
            self.fields["milestone"].initial = first.pk

    def clean_files(self) -> list[CheckedFile]:
        return _checked_files(self.cleaned_data.get("files") or [])


class FollowUpScheduleForm(VersionedForm):
    due_on = forms.DateField(
        label=_("Re-check on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Usually about six months after the closure."),
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        closed = self.item.closed_at.date() if self.item.closed_at else clock.today()
        self.fields["due_on"].initial = max(
            closed + datetime.timedelta(days=182), clock.today() + datetime.timedelta(days=1)
        )


class BulkFollowUpForm(forms.Form):
    months = forms.IntegerField(
        label=_("Months after the closure"),
        min_value=1,
        max_value=36,
        initial=6,
        help_text=_("Each item's re-check is due this many months after its closure."),
    )


class FollowUpRecordForm(VersionedForm):
    holds = forms.ChoiceField(
        label=_("Result of the check"),
        choices=[("yes", _("The rectification holds")), ("no", _("Relapsed: reopen the item"))],
        widget=forms.RadioSelect,
    )
    finding = forms.CharField(
        label=_("What the check found"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    new_deadline = forms.DateField(
        label=_("New deadline (if relapsed)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class AssignForm(VersionedForm, DeadlineForm):
    """Owner and deadline; the deadline as a date or as N working days from a start date.
    Leaving both empty removes the deadline."""

    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("Not set")
    )
    reason = forms.CharField(
        label=_("Reason for changing the deadline"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Recorded in the history. Required when the change shortens an approved extension, "
            "comes while an extension request waits, or gives an overdue item a later deadline."
        ),
    )
    field_order = ["owner", "deadline", "working_days", "working_days_from", "reason"]

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = unit_members(self.item.unit_id)
        self.fields["owner"].label_from_instance = _member_label
        self.fields["owner"].initial = self.item.owner_id
        self.fields["deadline"].initial = self.item.deadline


class ExtensionRequestForm(VersionedForm):
    requested_deadline = forms.DateField(
        label=_("New deadline"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    reason = forms.CharField(
        label=_("Reason for the extension"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
    )

    def clean_requested_deadline(self) -> datetime.date:
        value = self.cleaned_data["requested_deadline"]
        if value > clock.today() + datetime.timedelta(days=3 * 365):
            raise ValidationError(_("The new deadline is too far away."), code="too_far")
        return value


class ExtensionDecisionForm(VersionedForm):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=5000,
        help_text=_("Required when rejecting."),
    )


def unit_members(unit_id: int) -> QuerySet[User]:
    """The active people of a unit, each knowing whether they are 经办人 and/or 负责人."""
    in_group = User.groups.through.objects.filter(user_id=OuterRef("pk"))
    return (
        User.objects.filter(unit_id=unit_id, is_active=True)
        .annotate(
            is_unit_staff=Exists(in_group.filter(group__name=Role.UNIT_STAFF)),
            is_unit_head=Exists(in_group.filter(group__name=Role.UNIT_HEAD)),
        )
        .order_by("full_name", "username")
    )


def _member_label(user: User) -> str:
    """A unit member as the owner list shows them: the name and the role (经办人 / 负责人)."""
    roles = [
        str(role.label)
        for role, has in (
            (Role.UNIT_STAFF, getattr(user, "is_unit_staff", False)),
            (Role.UNIT_HEAD, getattr(user, "is_unit_head", False)),
        )
        if has
    ]
    return f"{user.display_name}（{'、'.join(roles)}）" if roles else user.display_name


class BulkAssignForm(DeadlineForm):
    """Owner per unit and/or one deadline for a selection of items (``rectification.bulk``).

    An owner must belong to the item's unit, so there is one owner field per unit of the
    selection (``owner_<unit id>``); each offers "keep unchanged", "no owner" and the unit's
    members. Deadline fields left empty keep each item's deadline.
    """

    KEEP = ""
    NO_OWNER = "none"

    reason = forms.CharField(
        label=_("Reason for the ticked deadline changes"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Needed when you tick an item that needs attention; recorded in each item's history."
        ),
    )

    def __init__(self, *args, units: list[UnitOwners], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.units = units
        self.fields["deadline"].label = _("New deadline")
        self.fields["deadline"].help_text = _(
            "Leave the date and the number of working days empty to keep each item's deadline."
        )
        self._members: dict[str, User] = {}
        for row in units:
            choices = [(self.KEEP, _("Keep unchanged")), (self.NO_OWNER, _("No owner"))]
            for user in row.members:
                self._members[str(user.pk)] = user
                choices.append((str(user.pk), _member_label(user)))
            self.fields[self.owner_field(row)] = forms.ChoiceField(
                label=row.unit.name,
                choices=choices,
                required=False,
                initial=str(row.suggested.pk) if row.suggested else self.KEEP,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )

    @staticmethod
    def owner_field(row: UnitOwners) -> str:
        return f"owner_{row.unit.pk}"

    def owner_rows(self) -> list[tuple[UnitOwners, forms.BoundField]]:
        return [(row, self[self.owner_field(row)]) for row in self.units]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        owners: dict[int, User | None] = {}
        for row in self.units:
            value = cleaned.get(self.owner_field(row)) or self.KEEP
            if value == self.NO_OWNER:
                owners[row.unit.pk] = None
            elif value != self.KEEP:
                owners[row.unit.pk] = self._members[value]
        cleaned["owners"] = owners
        deadline = cleaned.get("deadline")
        cleaned["new_deadline"] = deadline if deadline else KEEP
        if deadline and deadline < clock.today():
            self.add_error(
                "working_days" if self.deadline_from_working_days else "deadline",
                ValidationError(_("The new deadline cannot be in the past."), code="past"),
            )
        if not self.errors and not owners and not deadline:
            raise ValidationError(
                _("Choose an owner for at least one unit, or a deadline."), code="nothing"
            )
        return cleaned


class UnitInstructionForm(forms.Form):
    """A leader's instruction on a whole unit (recorded on each of its open items)."""

    happened_on = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    person = forms.CharField(
        label=_("Leader"), max_length=100, help_text=_("Who gave the instruction.")
    )
    document = forms.CharField(label=_("Document number"), max_length=200, required=False)
    text = forms.CharField(
        label=_("Instruction"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["happened_on"].initial = clock.today()


class SupervisionForm(VersionedForm):
    kind = forms.ChoiceField(label=_("Step"), choices=SupervisionKind.choices)
    happened_on = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    person = forms.CharField(
        label=_("By whom"),
        max_length=100,
        help_text=_("Who held the interview, issued the circular or gave the instruction."),
    )
    document = forms.CharField(label=_("Document number"), max_length=200, required=False)
    text = forms.CharField(
        label=_("Content"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required for a leader's instruction: its words."),
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["happened_on"].initial = clock.today()
