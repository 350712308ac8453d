import json

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from evaluations.models import Unit
from rectification.filters import LongSelectMultiple
from rectification.models import RectificationItem
from results.choices import BudgetAdvice


class BudgetDecisionForm(forms.Form):
    advice = forms.ChoiceField(label=_("Budget advice"), required=False)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the advice changes (kept with the decision)."),
    )
    # The newest decision the page showed (0: none), to detect someone deciding meanwhile.
    seen_decision = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, proposed: BudgetAdvice, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        follow = gettext("Follow the rule (%(advice)s)") % {"advice": proposed.label}
        self.fields["advice"].choices = [("", follow), *BudgetAdvice.choices]


class PublicationScopeForm(forms.Form):
    """Which round, and which of its units (none: all), the draft shows (a GET form)."""

    year = forms.TypedChoiceField(label=_("Year"), coerce=int)
    units = forms.ModelMultipleChoiceField(
        label=_("Units to publish"),
        queryset=Unit.objects.none(),
        required=False,
        help_text=_("Leave empty to publish every unit of the round."),
        # A city's hundreds of units, written without a template per option.
        widget=LongSelectMultiple,
    )

    def __init__(self, *args, years: list[int], **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, str(y)) for y in years]
        year = self.data.get("year") or (years[0] if years else None)
        self.fields["units"].queryset = (
            Unit.objects.filter(
                pk__in=RectificationItem.objects.filter(
                    round_year=year if str(year).isdigit() else 0
                )
                .order_by()
                .values("unit_id")
            )
            .only("name", "short_name")
            .order_by("name")
        )


class PublishForm(forms.Form):
    # The content hash of the draft the page showed: publishing publishes exactly that.
    seen = forms.CharField(max_length=64, widget=forms.HiddenInput)


class PublicWordingForm(forms.Form):
    problem = forms.CharField(
        label=_("Problem"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    measures = forms.CharField(
        label=_("Measures (in brief)"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What the unit did, or for an unfinished problem what it does next."),
    )
    document = forms.CharField(
        label=_("Document and date"),
        max_length=300,
        required=False,
        help_text=_("The document that settled it, its number and date."),
    )
    confirm = forms.BooleanField(
        label=_("I have read the findings above: they may be published as they stand."),
        required=False,
    )
    # The findings the page showed (Flag.key, as JSON): a tick confirms those and no others.
    shown = forms.CharField(required=False, widget=forms.HiddenInput)
    # wording_hash of the texts the form showed, to detect an edit made meanwhile.
    seen = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def clean_shown(self) -> list[str]:
        try:
            keys = json.loads(self.cleaned_data["shown"] or "[]")
        except ValueError:
            return []
        return [key for key in keys if isinstance(key, str)] if isinstance(keys, list) else []
