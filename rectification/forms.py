"""Forms of the item page, one per action. Each carries the item ``version`` it was rendered
with, which the service compares to detect a concurrent edit. Forms only parse input; what is
allowed is decided by ``rules`` and the services."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from liwan import clock
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


class AssignForm(VersionedForm):
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=User.objects.none(), required=False, empty_label=_("Not set")
    )
    deadline = forms.DateField(
        label=_("Deadline"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(
            unit_id=self.item.unit_id, is_active=True
        ).order_by("full_name")
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
