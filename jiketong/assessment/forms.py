"""Forms of the assessment pages: they parse input; the rules are the services'."""

from django import forms
from django.utils.translation import gettext_lazy as _

from jiketong.analytics.periods import parse_period
from jiketong.core.forms import BootstrapMixin
from jiketong.customers.models import Grade

from .components import COMPONENTS, DEFAULT_CAP


class MonthField(forms.CharField):
    """A month typed as YYYY-MM (the browser's month input), as the first day of the month."""

    widget = forms.TextInput(attrs={"type": "month"})

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return parse_period(value)
        except ValueError:
            raise forms.ValidationError(_("Enter a month such as 2026-11.")) from None


class SettingsForm(BootstrapMixin, forms.Form):
    """A weight and a target per component, the cap and the month the version starts from."""

    valid_from = MonthField(label=_("Valid from (month)"))
    cap = forms.DecimalField(label=_("Cap"), max_digits=4, decimal_places=2, initial=DEFAULT_CAP)
    base_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, terms: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        terms = terms or {}
        for component in COMPONENTS:
            term = terms.get(component.code, {})
            self.fields[f"{component.code}_weight"] = forms.IntegerField(
                label=component.name, initial=term.get("weight", component.weight)
            )
            self.fields[f"{component.code}_target"] = forms.DecimalField(
                label=component.name, max_digits=14, decimal_places=4, initial=term.get("target", component.target)
            )
        self._style()

    def rows(self):
        return [(c, self[f"{c.code}_weight"], self[f"{c.code}_target"]) for c in COMPONENTS]

    def terms(self) -> dict:
        data = self.cleaned_data
        return {
            c.code: {"weight": data.get(f"{c.code}_weight"), "target": str(data.get(f"{c.code}_target"))}
            for c in COMPONENTS
            if data.get(f"{c.code}_weight") is not None and data.get(f"{c.code}_target") is not None
        }


class RankGradesForm(BootstrapMixin, forms.Form):
    rank = forms.CharField(widget=forms.HiddenInput)
    grades = forms.MultipleChoiceField(
        label=_("Grades it may own"), choices=Grade.choices, required=False, widget=forms.CheckboxSelectMultiple
    )


class ReopenForm(BootstrapMixin, forms.Form):
    period = MonthField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Why is the month reopened?"), max_length=300)
