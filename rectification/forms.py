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
from rectification.choices import ClosureOutcome, VerificationMethod
from rectification.models import RectificationItem
from rectification.uploads import CheckedFile, check_evidence


class VersionedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, item: RectificationItem, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("version", item.version)
        super().__init__(*args, **kwargs)
        self.item = item


class MeasuresForm(VersionedForm):
    measures = forms.CharField(
        label=_("Rectification measures"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=10000,
        help_text=_("What the unit does about the recommendation, point by point."),
    )


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
        uploads = self.cleaned_data.get("files") or []
        if len(uploads) > self.MAX_FILES:
            raise ValidationError(
                _("At most %(n)d files per progress report.") % {"n": self.MAX_FILES},
                code="too_many",
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


class CloseForm(VersionedForm):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ClosureOutcome.choices)
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
