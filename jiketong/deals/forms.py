"""Forms of the deals pages. They parse what the user typed; the rules live in services.py."""

from django import forms
from django.utils.translation import gettext_lazy as _

from jiketong.catalog import queries as catalog_queries
from jiketong.core.concurrency import VersionedForm
from jiketong.core.forms import DATE_WIDGET, BootstrapMixin
from jiketong.sales.models import Opportunity

from .models import ContractStatus, OrderStatus, QuoteStatus


class StyledForm(BootstrapMixin, forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class QuoteForm(VersionedForm, StyledForm):
    title = forms.CharField(label=_("title"), max_length=100, required=False)
    opportunity = forms.ModelChoiceField(label=_("opportunity"), queryset=Opportunity.objects.none(), required=False)
    valid_until = forms.DateField(label=_("valid until"), required=False, widget=DATE_WIDGET)
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, user, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["opportunity"].queryset = Opportunity.objects.visible_to(user).filter(customer=customer)


class QuoteLineForm(StyledForm):
    product = forms.ModelChoiceField(label=_("product"), queryset=catalog_queries.products_on_sale())
    quantity = forms.IntegerField(label=_("quantity"), min_value=1, initial=1)
    offered_price = forms.DecimalField(
        label=_("offered monthly price (yuan)"),
        required=False,
        max_digits=14,
        decimal_places=2,
        min_value=0,
        help_text=_("Leave empty to compute it from the discount."),
    )
    discount_pct = forms.DecimalField(
        label=_("discount (%)"),
        required=False,
        max_digits=5,
        decimal_places=2,
        min_value=0,
        max_value=100,
        help_text=_("Leave empty to compute it from the offered price."),
    )


class QuotePackageForm(StyledForm):
    """A solution package to put on a quote: packages on sale, the customer's industry first."""

    package = forms.ModelChoiceField(label=_("solution package"), queryset=catalog_queries.packages_on_sale())

    def __init__(self, *args, industry: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["package"]
        field.label_from_instance = lambda p: f"{p.industry.name} · {p.name}（{p.price:.2f}）"
        if industry:
            from django.db.models import Case, IntegerField, Value, When

            first = Case(When(industry_id=industry, then=Value(0)), default=Value(1), output_field=IntegerField())
            field.queryset = field.queryset.order_by(first, "industry__sort_order", "code")


class CommentForm(StyledForm):
    comment = forms.CharField(label=_("comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ContractForm(VersionedForm, StyledForm):
    number = forms.CharField(
        label=_("contract number"),
        max_length=30,
        required=False,
        help_text=_("Leave empty to number it automatically."),
    )
    title = forms.CharField(label=_("title"), max_length=100, required=False)
    start_on = forms.DateField(label=_("start date"), widget=DATE_WIDGET)
    end_on = forms.DateField(label=_("end date"), widget=DATE_WIDGET)
    value = forms.DecimalField(
        label=_("contract value (yuan)"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("From a quote, leave empty: the quote's monthly total times the months of the period."),
    )
    signed_on = forms.DateField(label=_("signed on"), required=False, widget=DATE_WIDGET)
    auto_renew = forms.BooleanField(label=_("renews automatically"), required=False)
    renewal_terms = forms.CharField(label=_("renewal terms"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RenewForm(StyledForm):
    start_on = forms.DateField(label=_("start date"), required=False, widget=DATE_WIDGET)
    end_on = forms.DateField(label=_("end date"), required=False, widget=DATE_WIDGET)
    value = forms.DecimalField(label=_("contract value (yuan)"), max_digits=14, decimal_places=2, required=False)
    number = forms.CharField(label=_("contract number"), max_length=30, required=False)


class ReasonForm(StyledForm):
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)


class AttachmentForm(StyledForm):
    file = forms.FileField(label=_("file"))


class OrderStateForm(StyledForm):
    state = forms.ChoiceField(label=_("status"), choices=OrderStatus.choices)
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)
    external_ref = forms.CharField(label=_("BOSS reference"), max_length=40, required=False)


class ListFilterForm(StyledForm):
    """The lists' filters: status, and for contracts "ending within N days"."""

    status = forms.ChoiceField(label=_("status"), required=False)
    expiring_within = forms.IntegerField(label=_("ending within (days)"), required=False, min_value=0, max_value=3650)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All")), *choices]

    def value(self, name):
        return self.cleaned_data.get(name) if self.is_valid() else None


STATUS_CHOICES = {"quote": QuoteStatus.choices, "contract": ContractStatus.choices, "order": OrderStatus.choices}
