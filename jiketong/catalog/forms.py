"""Catalog forms (products, subscriptions). Parsing only; the rules and validation live in catalog.services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from jiketong.core.concurrency import VersionedForm
from jiketong.core.forms import DATE_WIDGET, BootstrapMixin, ServiceModelForm

from . import queries
from .models import Product, SolutionPackage, Subscription


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


class PackageForm(VersionedForm, BootstrapMixin, ServiceModelForm):
    """A solution package's header as the administrator types it; its products come in `PackageItemFormSet`.
    Whether it is on sale has its own buttons (停售 / 恢复在售), as for products."""

    # The service names the product list `items`; the page shows its errors above the form.
    error_fields = {"items": "__all__"}

    class Meta:
        model = SolutionPackage
        fields = ["code", "name", "industry", "price", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


class PackageItemForm(BootstrapMixin, forms.Form):
    product = forms.ModelChoiceField(label=_("product"), queryset=queries.products(), required=False)
    quantity = forms.IntegerField(label=_("quantity"), min_value=1, max_value=1_000_000, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._style()


def package_item_formset(data=None, package: SolutionPackage | None = None, rows: int = 6):
    """The package's items, then empty rows up to `rows` (at least two free ones) for products to add."""
    initial = [{"product": item.product, "quantity": item.quantity} for item in package.items.all()] if package else []
    formset = forms.formset_factory(PackageItemForm, extra=max(2, rows - len(initial)), max_num=30, absolute_max=30)
    return formset(data, initial=initial, prefix="items")


def items_of(formset) -> list[tuple]:
    """(product, quantity) of the rows that name a product (a missing quantity counts as 1)."""
    return [
        (row.cleaned_data["product"], row.cleaned_data.get("quantity") or 1)
        for row in formset.forms
        if getattr(row, "cleaned_data", None) and row.cleaned_data.get("product")
    ]
