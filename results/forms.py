from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

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
