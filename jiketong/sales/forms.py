"""Forms of the sales pages. They parse what the user typed; the rules live in services.py, whose
ValidationError is mapped back onto the fields (customers.forms.apply_errors)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from jiketong.catalog.models import Product
from jiketong.core.concurrency import VersionedForm
from jiketong.core.forms import DATE_WIDGET, BootstrapMixin, ServiceModelForm
from jiketong.core.trees import subtree
from jiketong.customers import queries as customer_queries
from jiketong.customers.models import Competitor, Customer, CustomerType, Industry
from jiketong.org.models import OrgUnit, Role, Staff, can, staff_of

from .models import OPEN_LEAD_STATUSES, Lead, LeadStatus, Opportunity, Stage
from .services import ASSIGN_ROLES


def _units_for(user):
    """Regions a user may file a lead under: their own unit's subtree (HQ, admins: all)."""
    staff = staff_of(user)
    units = OrgUnit.objects.order_by("path")
    if user.is_superuser or staff is None or Role.ADMIN in staff.role_codes:
        return units
    return units.filter(subtree(staff.org_unit.path))


def _people_for(user):
    """Active staff of the user's own unit (supervisors: its subtree) who hold a sales role."""
    staff = staff_of(user)
    home = "" if user.is_superuser or staff is None or Role.ADMIN in staff.role_codes else staff.org_unit.path
    return (
        Staff.objects.visible_to(user)
        .filter(subtree(home, "org_unit__path"), roles__in=Role.PORTFOLIO_ROLES, user__is_active=True, left_on=None)
        .select_related("user")
        .distinct()
        .order_by("name")
    )


class _CustomerByNumber(forms.CharField):
    """A customer the user can see, typed by its customer number."""

    def __init__(self, *, user=None, **kwargs):
        self.user = user
        super().__init__(max_length=20, **kwargs)

    def clean(self, value):
        number = (super().clean(value) or "").strip()
        if not number:
            return None
        customer = customer_queries.customer_by_number(self.user, number)
        if customer is None:
            raise ValidationError(gettext("No customer with this number in your scope."))
        return customer


class LeadForm(VersionedForm, BootstrapMixin, ServiceModelForm):
    uscc = forms.CharField(label=_("unified social credit code"), required=False, max_length=40)
    contact_mobile = forms.CharField(label=_("contact mobile"), required=False, max_length=30)
    confirm_duplicates = forms.BooleanField(
        label=_("I have checked the possible duplicates and want to save anyway"), required=False
    )

    class Meta:
        model = Lead
        fields = [
            "name",
            "uscc",
            "source",
            "org_unit",
            "industry",
            "expected_size",
            "grade_hint",
            "contact_name",
            "contact_title",
            "contact_mobile",
            "need",
            "owner",
            "status",
        ]
        widgets = {"need": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org_unit"].queryset = _units_for(user)
        self.fields["org_unit"].required = False
        self.fields["org_unit"].help_text = _("Your own unit when left empty.")
        if self.instance.pk:
            del self.fields["owner"]  # reassigning is its own action
            self.fields["uscc"].initial = self.instance.uscc
            # Personal data shows masked; left as it is, the stored number is kept.
            self.initial["contact_mobile"] = self.instance.contact_mobile_masked
            self.fields["status"].choices = [(s.value, s.label) for s in LeadStatus if s in OPEN_LEAD_STATUSES]
        else:
            del self.fields["status"]
            if can(user, ASSIGN_ROLES):
                self.fields["owner"].queryset = _people_for(user)
                self.fields["owner"].help_text = _("Leave empty to let the assignment rules choose.")
            else:
                del self.fields["owner"]  # managers own the leads they record
        self._style()

    def service_kwargs(self) -> dict:
        creating = not self.instance.pk
        data = self.service_data(only_changed=not creating)
        data = {k: v for k, v in data.items() if not (creating and v in (None, ""))}
        if not creating and data.get("contact_mobile") == self.instance.contact_mobile_masked:
            del data["contact_mobile"]
        data["confirm_duplicates"] = self.cleaned_data.get("confirm_duplicates", False)
        return data


class ConvertForm(BootstrapMixin, forms.Form):
    customer = _CustomerByNumber(
        label=_("existing customer (customer number)"),
        required=False,
        help_text=_("Leave empty to open a new customer archive from the lead."),
    )
    customer_type = forms.ChoiceField(label=_("customer type"), choices=CustomerType.choices)
    opportunity_name = forms.CharField(label=_("opportunity name"), max_length=100, required=False)
    expected_close = forms.DateField(label=_("expected close"), widget=DATE_WIDGET)
    amount_monthly = forms.DecimalField(label=_("monthly amount (yuan)"), max_digits=14, decimal_places=2, initial=0)
    amount_once = forms.DecimalField(label=_("one-time amount (yuan)"), max_digits=14, decimal_places=2, initial=0)
    industry = forms.ModelChoiceField(
        label=_("industry"),
        queryset=Industry.objects.all(),
        required=False,
        help_text=_("A new customer archive needs it; the lead keeps it."),
    )

    def __init__(self, *args, user, lead: Lead | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].user = user
        if lead is not None and lead.industry_id:
            self.fields["industry"].initial = lead.industry_id
        self._style()


class DisqualifyForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class AssignForm(BootstrapMixin, forms.Form):
    owner = forms.ModelChoiceField(
        label=_("new owner"),
        queryset=Staff.objects.none(),
        required=False,
        empty_label=_("Let the assignment rules choose"),
    )
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _people_for(user)
        self._style()


class LeadImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label=_("file (.xlsx or .csv)"))
    all_or_nothing = forms.BooleanField(
        label=_("All or nothing: if any row is wrong, import none"), required=False, initial=True
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class OpportunityForm(VersionedForm, BootstrapMixin, ServiceModelForm):
    customer_number = _CustomerByNumber(label=_("customer (customer number)"), required=True)

    class Meta:
        model = Opportunity
        fields = ["name", "owner", "expected_close", "amount_monthly", "amount_once", "competitor", "note"]
        widgets = {"expected_close": DATE_WIDGET, "note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user, customer: Customer | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer_number"].user = user
        self.fields["owner"].queryset = _people_for(user)
        self.fields["owner"].required = False
        self.fields["owner"].help_text = _("Yourself when left empty.")
        if self.instance.pk:
            del self.fields["customer_number"]
            if self.instance.lines.exists():
                for name in ("amount_monthly", "amount_once"):
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _("The total of the product lines.")
        elif customer is not None:
            self.fields["customer_number"].initial = customer.number
        self._style()

    def service_kwargs(self) -> dict:
        creating = not self.instance.pk
        data = self.service_data(only_changed=not creating)
        if creating:
            data["customer"] = self.cleaned_data["customer_number"]
            data = {k: v for k, v in data.items() if v is not None}
        return data


class MoveForm(BootstrapMixin, forms.Form):
    stage = forms.ModelChoiceField(
        label=_("stage"), queryset=Stage.objects.filter(active=True), to_field_name="code", empty_label=None
    )
    note = forms.CharField(label=_("note"), max_length=500, required=False)
    lost_reason = forms.CharField(label=_("lost reason"), max_length=200, required=False)
    competitor = forms.ChoiceField(label=_("competitor"), choices=[("", "—"), *Competitor.choices], required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class CasePublishForm(BootstrapMixin, forms.Form):
    """Publishing a won opportunity as a reference case: what every reader in the province will read."""

    title = forms.CharField(label=_("title"), max_length=100)
    what_won = forms.CharField(
        label=_("what won it"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("The need, the solution, who decided and why we won: what a manager elsewhere needs to repeat it."),
    )
    public_name = forms.CharField(
        label=_("anonymised customer name"),
        max_length=60,
        required=False,
        help_text=_("What readers who may not see the customer read instead of its name, e.g. 某市属三甲医院."),
    )
    products = forms.ModelMultipleChoiceField(
        label=_("products"),
        queryset=Product.objects.order_by("category", "code"),
        required=False,
        help_text=_("Only when the opportunity has no product lines; otherwise its lines are the case's products."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()
