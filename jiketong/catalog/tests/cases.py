"""Generated tests (jiketong/testing_views.py) for the catalog: products and packages are the same for everyone
(unscoped), a subscription is its customer's."""

from decimal import Decimal

from jiketong.catalog.models import Product, SolutionPackage, Subscription
from jiketong.testing_views import Case, Write

PRODUCT = {
    "code": "IDC",
    "name": "云主机",
    "category": "it_cloud",
    "billing_unit": "per_group",
    "standard_price": "99.00",
}

CASES = [
    Case(
        Product,
        kinds=("product",),
        unscoped=lambda: Product.objects.first().pk,
        list="catalog:products",
        detail="catalog:product_edit",
        api_list="/api/v1/products",
        api_detail="/api/v1/products/{id}",
        reader="frank",  # the catalog's pages are its administrators'
        create=Write("catalog:product_create", data=PRODUCT, invalid={"code": ""}),
        edit=Write(
            "catalog:product_edit",
            data={"description": "按月计费"},
            invalid={"name": ""},
            changed=lambda product: product.description == "按月计费",
        ),
        api_create=Write("/api/v1/products", data=PRODUCT, invalid=PRODUCT | {"standard_price": "4e307"}),
        writer="frank",
        not_writer="alice",
    ),
    Case(
        SolutionPackage,
        kinds=("package",),
        unscoped=lambda: SolutionPackage.objects.first().pk,
        list="catalog:packages",
        detail="catalog:package_edit",
        api_list="/api/v1/packages",
        api_detail="/api/v1/packages/{id}",
        reader="frank",
    ),
    Case(
        Subscription,
        kinds=("subscription",),
        find=lambda customer: Subscription.objects.filter(customer=customer).first().pk,
        api_list="/api/v1/subscriptions",
        api_detail="/api/v1/subscriptions/{id}",
        edit=Write(
            "catalog:subscription_edit",
            data={"contracted_price": "9.50"},
            invalid={"contracted_price": "-1"},
            changed=lambda subscription: subscription.contracted_price == Decimal("9.50"),
        ),
        api_edit=Write(
            "/api/v1/subscriptions/{id}",
            data={"contracted_price": "9.50"},
            invalid={"contracted_price": "-1"},
            changed=lambda subscription: subscription.contracted_price == Decimal("9.50"),
        ),
        not_writer="grace",
    ),
]
OTHER_ROUTES = {"catalog:product_create", "catalog:package_create"}
