"""HQ's forms for the directives to the provinces (docs/federation.md "HQ's directives"): a national account
assignment, a national target, the national catalog, an HQ discount rule. Parsing only: the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jiketong.analytics.forms import MonthField
from jiketong.analytics.models import TargetPeriod
from jiketong.catalog.models import Product, ProductCategory, SolutionPackage
from jiketong.core.forms import BootstrapMixin

from .models import Province


def _provinces() -> list[tuple[str, str]]:
    return [("", "---------")] + [
        (code, f"{name}（{code}）") for code, name in Province.objects.values_list("code", "name")
    ]


class AssignmentForm(BootstrapMixin, forms.Form):
    lead_province = forms.ChoiceField(label=_("Lead province"))
    manager_name = forms.CharField(label=_("National account manager"), max_length=40)
    team = forms.CharField(
        label=_("National account team"),
        max_length=400,
        required=False,
        help_text=_("Names separated by 、 or commas."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead_province"].choices = _provinces()
        self._style()

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        team = data.get("team", "") or ""
        for separator in ("、", "，", ";", "；"):
            team = team.replace(separator, ",")
        data["team"] = [name.strip() for name in team.split(",") if name.strip()]
        return data


class TargetForm(BootstrapMixin, forms.Form):
    province = forms.ChoiceField(label=_("Province"))
    indicator = forms.ChoiceField(label=_("Indicator"))
    period_type = forms.ChoiceField(label=_("period type"), choices=TargetPeriod.choices)
    period = MonthField(label=_("period"), help_text=_("For a year target, any month of the year."))
    value = forms.DecimalField(label=_("target value"), max_digits=18, decimal_places=2)

    def __init__(self, *args, **kwargs):
        from jiketong.analytics.services import targetable_indicators

        super().__init__(*args, **kwargs)
        self.fields["province"].choices = _provinces()
        self.fields["indicator"].choices = [("", "---------")] + [
            (item.code, item.name) for item in targetable_indicators()
        ]
        self.fields["value"].widget.attrs.update(step="any", inputmode="decimal")
        self._style()


class CatalogForm(BootstrapMixin, forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=Product.objects.none(), required=False)
    package = forms.ModelChoiceField(
        label=_("Solution package"), queryset=SolutionPackage.objects.none(), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.order_by("code")
        self.fields["product"].label_from_instance = lambda item: f"{item.code} {item.name}"
        self.fields["package"].queryset = SolutionPackage.objects.order_by("code")
        self.fields["package"].label_from_instance = lambda item: f"{item.code} {item.name}"
        self._style()

    def clean(self):
        data = super().clean()
        if bool(data.get("product")) == bool(data.get("package")):
            raise forms.ValidationError(_("Choose a product or a solution package."))
        return data


class DiscountRuleForm(BootstrapMixin, forms.Form):
    category = forms.ChoiceField(
        label=_("product category"),
        required=False,
        choices=[("", pgettext_lazy("discount rule", "Default (every other category)"))]
        + list(ProductCategory.choices),
    )
    manager_max = forms.DecimalField(label=_("customer manager may grant (%)"), max_digits=5, decimal_places=2)
    city_max = forms.DecimalField(label=_("city supervisor may grant (%)"), max_digits=5, decimal_places=2)
    province_max = forms.DecimalField(label=_("province supervisor may grant (%)"), max_digits=5, decimal_places=2)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()
