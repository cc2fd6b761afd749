"""Forms of the analytics pages: a target, and a target file to load. They parse what the user typed; the rules
are the services' (target_save, targets_import), shown in one round by core.forms.submit."""

from django import forms
from django.utils.translation import gettext_lazy as _

from jiketong.core.concurrency import VersionedForm
from jiketong.core.forms import BootstrapMixin, ServiceModelForm

from . import queries, services
from .models import Target
from .periods import parse_period


class MonthField(forms.CharField):
    """A month typed or picked as YYYY-MM (a year target takes its year) → its first day."""

    widget = forms.TextInput(attrs={"type": "month", "placeholder": "2026-05"})
    default_error_messages = {"invalid": _("Give a month as YYYY-MM.")}

    def prepare_value(self, value):
        return f"{value:%Y-%m}" if hasattr(value, "strftime") else value

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_period(text)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class TargetForm(VersionedForm, BootstrapMixin, ServiceModelForm):
    """A target: the unit (within the user's own), a targetable indicator, a month or a year, the value."""

    period = MonthField(label=_("period"), help_text=_("For a year target, any month of the year."))

    class Meta:
        model = Target
        fields = ["org_unit", "indicator", "period_type", "period", "value"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        units = self.fields["org_unit"]
        units.queryset = queries.units_visible(user).order_by("path")
        units.label_from_instance = lambda unit: f"{unit.name}（{unit.code}）"
        self.fields["indicator"] = forms.ChoiceField(
            label=Target._meta.get_field("indicator").verbose_name,
            choices=[("", "---------")] + [(item.code, item.name) for item in services.targetable_indicators()],
        )
        self.fields["value"].widget.attrs.update(step="any", inputmode="decimal")
        self._style()


class TargetImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label=_("file (.xlsx or .csv)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()
