"""Reads of the catalog and of customers' subscriptions, scoped to the user."""

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from .models import PackageItem, Product, SolutionPackage, Subscription


def products() -> QuerySet[Product]:
    """The whole catalog (not scoped: every user may see what the operator sells)."""
    return Product.objects.order_by("category", "code")


def products_on_sale() -> QuerySet[Product]:
    return products().filter(is_active=True)


def product_get(pk: int) -> Product:
    return get_object_or_404(Product, pk=pk)


def subscriptions_of(user, customer_pk: int) -> QuerySet[Subscription]:
    return (
        Subscription.objects.visible_to(user)
        .filter(customer_id=customer_pk)
        .select_related("product")
        .order_by("-start_on", "-id")
    )


def subscription_get(user, pk: int) -> Subscription:
    return get_object_or_404(Subscription.objects.visible_to(user).select_related("product", "customer"), pk=pk)


# --- solution packages: catalog data, the same for everyone ------------------------------------------
def packages() -> QuerySet[SolutionPackage]:
    """Every package with its industry and items (two queries for any number of packages)."""
    items = PackageItem.objects.select_related("product").order_by("id")
    return (
        SolutionPackage.objects.select_related("industry")
        .prefetch_related(Prefetch("items", queryset=items))
        .order_by("industry__sort_order", "code")
    )


def packages_on_sale(industry: str | None = None) -> QuerySet[SolutionPackage]:
    queryset = packages().filter(is_active=True)
    return queryset.filter(industry_id=industry) if industry else queryset


def package_get(pk: int) -> SolutionPackage:
    return get_object_or_404(packages(), pk=pk)
