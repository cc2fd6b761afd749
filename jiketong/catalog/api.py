"""REST endpoints for the product catalog and customers' subscriptions.

Money is a decimal string with two places ("1280.00"), never a float, so no client rounds a price;
requests may send a string or a number.
"""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from jiketong.api.base import (
    ErrorOut,
    Id,
    Money,
    Page,
    PatchSchema,
    Percent,
    TwoPlaces,
    from_attr,
    referenced,
    resolve_ids,
)
from jiketong.customers import queries as customer_queries
from jiketong.customers.models import Member

from . import queries
from .models import Product, SolutionPackage, Subscription
from .services import package_save, product_save, subscription_create, subscription_update

router = Router(tags=["catalog"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
MONEY = 'Yuan as a decimal string with two places, e.g. "1280.00".'


# --- products ------------------------------------------------------------------------------------
class ProductOut(Schema):
    id: int
    code: str
    name: str
    category: str
    billing_unit: str
    stickiness: str
    standard_price: TwoPlaces = Field(..., description=MONEY)
    one_time_fee: TwoPlaces = Field(..., description=MONEY)
    is_basic_service: bool
    is_active: bool
    description: str


class ProductFilter(Schema):
    search: str | None = Field(None, description="Part of the code or name.")
    category: str | None = None
    is_active: bool | None = None


class ProductIn(Schema):
    code: str
    name: str
    category: str
    billing_unit: str
    stickiness: str = "none"
    standard_price: Money = Field(..., description=MONEY)
    one_time_fee: Money = Field(Decimal("0"), description=MONEY)
    is_basic_service: bool = False
    is_active: bool = True
    description: str = ""


class ProductPatch(PatchSchema):
    code: str | None = None
    name: str | None = None
    category: str | None = None
    billing_unit: str | None = None
    stickiness: str | None = None
    standard_price: Money | None = None
    one_time_fee: Money | None = None
    is_basic_service: bool | None = None
    is_active: bool | None = None
    description: str | None = None


@router.get("/products", response=list[ProductOut], summary="List products")
@paginate(Page)
def product_list(request, filters: Query[ProductFilter]):
    """The catalog is the same for everyone; only admins change it."""
    products = Product.objects.order_by("category", "code")
    if filters.search:
        text = filters.search.strip()
        products = products.filter(Q(code__icontains=text) | Q(name__icontains=text))
    if filters.category:
        products = products.filter(category=filters.category)
    if filters.is_active is not None:
        products = products.filter(is_active=filters.is_active)
    return products


@router.get("/products/{product_id}", response={200: ProductOut, **ERRORS}, summary="Get a product")
def product_get(request, product_id: Id):
    return get_object_or_404(Product, pk=product_id)


@router.post("/products", response={201: ProductOut, **ERRORS}, summary="Add a product (admins)")
def product_create(request, payload: ProductIn):
    return Status(201, product_save(actor=request.user, **payload.model_dump()))


@router.patch("/products/{product_id}", response={200: ProductOut, **ERRORS}, summary="Change a product (admins)")
def product_patch(request, product_id: Id, payload: ProductPatch):
    product = get_object_or_404(Product, pk=product_id)
    return product_save(actor=request.user, product=product, **payload.model_dump(exclude_unset=True))


# --- solution packages (行业解决方案) ---------------------------------------------------------------
class PackageItemOut(Schema):
    product: int = from_attr("product_id")
    product_code: str = from_attr("product.code")
    quantity: int
    list_price: TwoPlaces = from_attr(
        "product.standard_price", description="The product's standard monthly price today. " + MONEY
    )


class PackageOut(Schema):
    id: int
    code: str
    name: str
    industry: str = from_attr("industry_id")
    price: TwoPlaces = Field(..., description="The package's monthly price. " + MONEY)
    list_total: TwoPlaces = Field(..., description="Sum of its products' list prices × quantities, today. " + MONEY)
    discount_pct: TwoPlaces = Field(..., description="How far the price is below the list total, percent.")
    description: str
    is_active: bool
    items: list[PackageItemOut]

    @staticmethod
    def resolve_items(obj: SolutionPackage) -> list:
        return list(obj.items.all())


class PackageFilter(Schema):
    industry: str | None = Field(None, description="Industry code, e.g. education.")
    is_active: bool | None = None


class PackageItemIn(Schema):
    product: int
    quantity: int = Field(1, ge=1, le=1_000_000)


class PackageIn(Schema):
    code: str
    name: str
    industry: str = Field(..., description="Industry code.")
    price: Money = Field(..., description=MONEY)
    description: str = ""
    items: list[PackageItemIn] = Field(..., max_length=30)


def _package_data(data: dict) -> dict:
    from jiketong.customers.models import Industry

    errors: dict[str, list[str]] = {}
    if data.get("items") is not None:
        ids = [item["product"] for item in data["items"]]
        products = Product.objects.in_bulk(ids)
        if len(products) != len(set(ids)):
            errors["items"] = [_("There is no product with this id.")]
        else:
            data["items"] = [(products[item["product"]], item["quantity"]) for item in data["items"]]
    industries = (Industry.objects.all(), _("There is no industry with this code."))
    return resolve_ids(data, {"industry": industries}, errors=errors)


@router.get("/packages", response={200: list[PackageOut], **ERRORS}, summary="List solution packages")
@paginate(Page)
def package_list(request, filters: Query[PackageFilter]):
    """The same for everyone, like the products; only admins change them."""
    packages = queries.packages()
    if filters.industry:
        packages = packages.filter(industry_id=filters.industry)
    if filters.is_active is not None:
        packages = packages.filter(is_active=filters.is_active)
    return packages


@router.get("/packages/{package_id}", response={200: PackageOut, **ERRORS}, summary="Get a solution package")
def package_get(request, package_id: Id):
    return queries.package_get(package_id)


@router.post("/packages", response={201: PackageOut, **ERRORS}, summary="Add a solution package (admins)")
def package_create(request, payload: PackageIn):
    """Every error at once, by field (`items` for the product list); the price must not be above the items'
    list prices and must spread over them to the cent."""
    package = package_save(actor=request.user, **_package_data(payload.model_dump()))
    return Status(201, queries.package_get(package.pk))


# --- subscriptions -------------------------------------------------------------------------------
class SubscriptionOut(Schema):
    id: int
    customer: int = from_attr("customer_id")
    product: int = from_attr("product_id")
    contracted_price: TwoPlaces = Field(..., description=MONEY)
    discount_pct: TwoPlaces = Field(..., description="Percent off the standard price, two places.")
    quantity: int
    start_on: date
    end_on: date | None
    status: str
    members: list[int] = Field(..., description="Ids of the members it covers (empty: the whole group).")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_members(obj: Subscription) -> list[int]:
        return [member.pk for member in obj.members.all()]


class SubscriptionFilter(Schema):
    customer: Id | None = None
    product: Id | None = None
    status: str | None = Field(None, description="active, suspended or terminated.")
    search: str | None = Field(None, description="Part of the product's code or name.")


class SubscriptionIn(Schema):
    customer: int
    product: int
    start_on: date
    end_on: date | None = None
    contracted_price: Money | None = Field(None, description="Price, discount, or both (must agree).")
    discount_pct: Percent | None = None
    quantity: int = 1
    status: str = "active"
    members: list[int] = Field([], description="Member ids of this customer.")


class SubscriptionPatch(PatchSchema):
    nullable = frozenset({"end_on"})

    product: int | None = None
    start_on: date | None = None
    end_on: date | None = None
    contracted_price: Money | None = None
    discount_pct: Percent | None = None
    quantity: int | None = None
    status: str | None = None


def _subscriptions(user) -> QuerySet[Subscription]:
    # The member list can be long for per-member products: fetch only the ids, in one query per page.
    return Subscription.objects.visible_to(user).prefetch_related(
        Prefetch("members", queryset=Member.objects.only("pk").order_by())
    )


def _product(product_id: Id) -> Product:
    return referenced(Product.objects.all(), product_id, "product", _("There is no product with this id."))


@router.get("/subscriptions", response=list[SubscriptionOut], summary="List subscriptions")
@paginate(Page)
def subscription_list(request, filters: Query[SubscriptionFilter]):
    """Subscriptions of the customers the caller may see, newest first."""
    subscriptions = _subscriptions(request.user)
    if filters.customer is not None:
        subscriptions = subscriptions.filter(customer_id=filters.customer)
    if filters.product is not None:
        subscriptions = subscriptions.filter(product_id=filters.product)
    if filters.status:
        subscriptions = subscriptions.filter(status=filters.status)
    if filters.search:
        text = filters.search.strip()
        subscriptions = subscriptions.filter(Q(product__code__icontains=text) | Q(product__name__icontains=text))
    return subscriptions


@router.get("/subscriptions/{subscription_id}", response={200: SubscriptionOut, **ERRORS}, summary="Get one")
def subscription_get(request, subscription_id: Id):
    return get_object_or_404(_subscriptions(request.user), pk=subscription_id)


@router.post("/subscriptions", response={201: SubscriptionOut, **ERRORS}, summary="Subscribe a customer")
def subscription_post(request, payload: SubscriptionIn):
    """The customer must be one the caller may see (else 404); members must be the customer's own."""
    data = payload.model_dump()
    customer = customer_queries.customer_get(request.user, data.pop("customer"))
    member_ids = set(data.pop("members"))
    members = list(customer_queries.members_of(request.user, customer.pk).filter(pk__in=member_ids))
    if len(members) != len(member_ids):
        raise ValidationError({"members": [_("Members must belong to the subscribing customer.")]})
    data["product"] = _product(data["product"])
    subscription = subscription_create(actor=request.user, customer=customer, members=members, **data)
    return Status(201, get_object_or_404(_subscriptions(request.user), pk=subscription.pk))


@router.patch(
    "/subscriptions/{subscription_id}", response={200: SubscriptionOut, **ERRORS}, summary="Change a subscription"
)
def subscription_patch(request, subscription_id: Id, payload: SubscriptionPatch):
    subscription = get_object_or_404(_subscriptions(request.user), pk=subscription_id)
    data = payload.model_dump(exclude_unset=True)
    if data.get("product") is not None:
        data["product"] = _product(data["product"])
    subscription_update(actor=request.user, subscription=subscription, **data)
    return get_object_or_404(_subscriptions(request.user), pk=subscription_id)
