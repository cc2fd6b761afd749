"""Catalog forms (products, subscriptions). Parsing only; the rules and validation live in catalog.services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from jiketong.core.forms import DATE_WIDGET, BootstrapMixin, ServiceModelForm

from . import queries
from .models import Product, Subscription


class SubscriptionForm(BootstrapMixin, ServiceModelForm):
    contracted_price = forms.DecimalField(
        label=_("contracted monthly price (yuan)"),
        required=False,
        max_digits=14,
        decimal_places=2,
        help_text=_("Leave empty to compute it from the discount."),
    )
    discount_pct = forms.DecimalField(
        label=_("discount (%)"),
        required=False,
        max_digits=5,
        decimal_places=2,
        help_text=_("Leave empty to compute it from the contracted price."),
    )

    class Meta:
        model = Subscription
        fields = ["product", "contracted_price", "discount_pct", "quantity", "start_on", "end_on", "status"]
        widgets = {"start_on": DATE_WIDGET, "end_on": DATE_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A new subscription can only be for a product on sale; an existing one keeps its product listed.
        products = queries.products() if self.instance.pk else queries.products_on_sale()
        self.fields["product"].queryset = products
        self._style()

    def service_data(self, *, only_changed: bool = False) -> dict:
        data = super().service_data(only_changed=only_changed)
        if not only_changed:
            # Empty price or discount means "work it out from the other": the service wants None.
            for name in ("contracted_price", "discount_pct"):
                data[name] = data.get(name)
        return data


class ProductForm(BootstrapMixin, ServiceModelForm):
    """A catalog product as the system administrator types it. Whether it is on sale has its own buttons
    (停售 / 恢复在售); the rules (a code not taken, prices not negative, a cost rate 0–1) are the service's."""

    class Meta:
        model = Product
        fields = [
            "code",
            "name",
            "category",
            "billing_unit",
            "stickiness",
            "standard_price",
            "one_time_fee",
            "cost_rate",
            "is_basic_service",
            "description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()
