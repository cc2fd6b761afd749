"""Forms of the campaign pages: they parse; the rules are the services'."""

from django import forms
from django.utils.translation import gettext_lazy as _

from jiketong.catalog.models import Product
from jiketong.core.forms import DATE_WIDGET, BootstrapMixin
from jiketong.core.trees import subtree
from jiketong.customers.filters import GRADE_FILTER_CHOICES
from jiketong.customers.models import CustomerType, Industry, LifecycleStatus
from jiketong.org.models import OrgUnit, Role, staff_of

from .bands import REVENUE_BANDS
from .models import Audience, MemberRule, TargetStatus

BLANK = [("", "—")]


def _units_for(user):
    staff = staff_of(user)
    units = OrgUnit.objects.order_by("path")
    if user.is_superuser or staff is None or Role.ADMIN in staff.role_codes:
        return units
    return units.filter(subtree(staff.org_unit.path))


class CampaignForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    goal = forms.CharField(label=_("goal"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    products = forms.ModelMultipleChoiceField(
        label=_("products"),
        required=False,
        queryset=Product.objects.filter(is_active=True).order_by("category", "code"),
    )
    starts_on = forms.DateField(label=_("starts on"), widget=DATE_WIDGET)
    ends_on = forms.DateField(label=_("ends on"), widget=DATE_WIDGET)
    budget = forms.DecimalField(label=_("budget (yuan)"), min_value=0, max_digits=14, decimal_places=2, initial=0)
    audience = forms.ChoiceField(label=_("audience"), choices=Audience.choices, initial=Audience.CUSTOMERS)
    member_rule = forms.ChoiceField(label=_("Members"), choices=BLANK + MemberRule.choices, required=False)
    region = forms.ModelChoiceField(label=_("Region"), queryset=OrgUnit.objects.none(), to_field_name="code",
                                    required=False)  # fmt: skip
    industry = forms.ModelChoiceField(label=_("Industry"), queryset=Industry.objects.all(), required=False)
    grade = forms.ChoiceField(label=_("Grade"), choices=BLANK + GRADE_FILTER_CHOICES, required=False)
    status = forms.ChoiceField(label=_("Lifecycle status"), choices=BLANK + LifecycleStatus.choices, required=False)
    type = forms.ChoiceField(label=_("Customer category"), choices=BLANK + CustomerType.choices, required=False)
    holds = forms.ModelChoiceField(label=_("Holds"), queryset=Product.objects.order_by("category", "code"),
                                   required=False)  # fmt: skip
    lacks = forms.ModelChoiceField(label=_("Does not hold"), queryset=Product.objects.order_by("category", "code"),
                                   required=False)  # fmt: skip
    revenue_band = forms.ChoiceField(
        label=_("Revenue band"), choices=BLANK + [(code, label) for code, label, _lo, _hi in REVENUE_BANDS],
        required=False,
    )  # fmt: skip

    CRITERIA = ("member_rule", "region", "industry", "grade", "status", "type", "holds", "lacks", "revenue_band")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = _units_for(user) if user is not None else OrgUnit.objects.all()

    def criteria(self) -> dict:
        """The saved filter: codes and ids only."""
        data = self.cleaned_data
        values = {
            "member_rule": data.get("member_rule") or "",
            "region": data["region"].code if data.get("region") else "",
            "industry": data["industry"].pk if data.get("industry") else "",
            "grade": data.get("grade") or "",
            "status": data.get("status") or "",
            "type": data.get("type") or "",
            "holds": data["holds"].pk if data.get("holds") else "",
            "lacks": data["lacks"].pk if data.get("lacks") else "",
            "revenue_band": data.get("revenue_band") or "",
        }
        return {key: value for key, value in values.items() if value != ""}

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data.get("name") or "", "goal": data.get("goal") or "", "starts_on": data.get("starts_on"),
            "ends_on": data.get("ends_on"), "budget": data.get("budget") or 0,
            "audience": data.get("audience") or Audience.CUSTOMERS, "criteria": self.criteria(),
            "products": list(data.get("products") or []),
        }  # fmt: skip


class ResponseForm(BootstrapMixin, forms.Form):
    outcome = forms.ChoiceField(label=_("outcome"), choices=TargetStatus.choices[1:])
    note = forms.CharField(label=_("note"), max_length=500, required=False)
    make_lead = forms.BooleanField(label=_("Open a lead"), required=False)
