from django import forms
from django.utils.translation import gettext_lazy as _

from jiketong.core.concurrency import VersionedForm
from jiketong.core.forms import DATE_WIDGET, ServiceModelForm
from jiketong.customers.forms import BootstrapMixin

from .models import ClubBenefit, ImportKind, ImportMode


class ImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label=_("file"), help_text=_("CSV (UTF-8 or GBK) or Excel .xlsx; first row is the header."))
    kind = forms.ChoiceField(label=_("kind"), choices=ImportKind.choices, initial=ImportKind.FACTS)
    mode = forms.ChoiceField(
        label=_("mode"),
        choices=ImportMode.choices,
        initial=ImportMode.ALL_OR_NOTHING,
        help_text=_("All or nothing loads the file only if every row is good; the other mode skips bad rows."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class RedemptionForm(BootstrapMixin, forms.Form):
    """Points to turn into next month's benefit; the rules (blocks, balance, arrears, cap) are the service's."""

    points = forms.IntegerField(label=_("points to redeem"), min_value=1, max_value=10**9)

    def __init__(self, *args, block: int = 100, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["points"].widget.attrs["step"] = block
        self._style()


class BenefitForm(VersionedForm, BootstrapMixin, ServiceModelForm):
    """A benefit of the club catalogue as the administrator types it."""

    class Meta:
        model = ClubBenefit
        fields = ["name", "kind", "min_tier", "yearly_limit", "description", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class BenefitUseForm(BootstrapMixin, forms.Form):
    """A customer used a club benefit."""

    benefit = forms.ModelChoiceField(label=_("benefit"), queryset=ClubBenefit.objects.none())
    used_on = forms.DateField(label=_("used on"), widget=DATE_WIDGET)
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["benefit"].queryset = ClubBenefit.objects.filter(active=True)
        self._style()
