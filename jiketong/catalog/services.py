"""Writes to the catalog and to customers' subscriptions."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jiketong.core.audit import record, record_changes, snapshot
from jiketong.core.concurrency import check_version
from jiketong.core.models import AuditAction
from jiketong.core.money import yuan
from jiketong.core.notes import stored
from jiketong.core.validators import full_clean_with
from jiketong.customers.services import require_edit, require_scope
from jiketong.org.models import Role, can

from .models import (
    BillingUnit,
    PackageItem,
    Product,
    SolutionPackage,
    Subscription,
    SubscriptionStatus,
    split_package_price,
)

SUBSCRIPTION_FIELDS = ["product", "contracted_price", "discount_pct", "quantity", "start_on", "end_on", "status"]
PRODUCT_FIELDS = [
    "code",
    "name",
    "category",
    "billing_unit",
    "stickiness",
    "cost_rate",
    "standard_price",
    "one_time_fee",
    "is_basic_service",
    "is_active",
    "description",
]


def price_and_discount(product: Product, price: Decimal | None, discount: Decimal | None) -> tuple[Decimal, Decimal]:
    """Fill whichever of contracted price and discount is missing from the other and the standard price.
    When both are given they must agree (to the cent)."""
    standard = product.standard_price
    # Normalise to the stored precision so the audit shows what the database keeps (10 → 10.00).
    price = None if price is None else yuan(price)
    discount = None if discount is None else Decimal(discount).quantize(Decimal("0.01"))
    if price is None and discount is None:
        return standard, Decimal("0.00")
    if price is None:
        return yuan(standard * (100 - discount) / 100), discount
    if discount is None:
        if standard == 0:
            return price, Decimal("0.00")
        discount = ((1 - price / standard) * 100).quantize(Decimal("0.01"))
        if discount < 0:
            raise ValidationError({"contracted_price": [_("The contracted price cannot be above the standard price.")]})
        return price, discount
    if abs(yuan(standard * (100 - discount) / 100) - price) > Decimal("0.01"):
        raise ValidationError(
            {"discount_pct": [_("The discount does not match the contracted price and the standard price.")]}
        )
    return price, discount


def _validate(subscription: Subscription) -> None:
    subscription.full_clean(exclude=["members"])
    if not subscription.product.is_active and subscription._state.adding:
        raise ValidationError({"product": [_("This product is no longer on sale.")]})


@transaction.atomic
def subscription_create(
    *,
    actor,
    customer,
    product: Product,
    start_on,
    contracted_price: Decimal | None = None,
    discount_pct: Decimal | None = None,
    members=(),
    **fields,
) -> Subscription:
    require_edit(actor)
    require_scope(actor, customer.pk)
    price, discount = price_and_discount(product, contracted_price, discount_pct)
    subscription = Subscription(
        customer=customer, product=product, start_on=start_on, contracted_price=price, discount_pct=discount, **fields
    )
    _validate(subscription)
    subscription.save()
    if members:
        foreign = [m for m in members if m.customer_id != customer.pk]
        if foreign:
            raise ValidationError({"members": [_("Members must belong to the subscribing customer.")]})
        subscription.members.set(members)
    record(
        actor=actor,
        action=AuditAction.CREATE,
        target=subscription,
        customer_id=customer.pk,
        after=snapshot(subscription, SUBSCRIPTION_FIELDS),
    )
    return subscription


@transaction.atomic
def subscription_update(*, actor, subscription: Subscription, **fields) -> Subscription:
    require_edit(actor)
    require_scope(actor, subscription.customer_id)
    subscription = Subscription.objects.select_for_update().select_related("product").get(pk=subscription.pk)
    before = snapshot(subscription, SUBSCRIPTION_FIELDS)
    unknown = set(fields) - set(SUBSCRIPTION_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed here.")] for name in unknown})
    price, discount = fields.pop("contracted_price", None), fields.pop("discount_pct", None)
    for name, value in fields.items():
        setattr(subscription, name, value)
    if price is not None or discount is not None:
        subscription.contracted_price, subscription.discount_pct = price_and_discount(
            subscription.product, price, discount
        )
    _validate(subscription)
    subscription.save()
    record_changes(
        actor=actor,
        target=subscription,
        customer_id=subscription.customer_id,
        before=before,
        after=snapshot(subscription, SUBSCRIPTION_FIELDS),
    )
    return subscription


def require_admin(actor) -> None:
    """The catalog is the system administrator's to keep (DOMAIN §2)."""
    if not can(actor, {Role.ADMIN}):
        raise PermissionDenied(_("Only a system administrator can change the catalog."))


@transaction.atomic
def product_save(*, actor, product: Product | None = None, **fields) -> Product:
    """Create or change a catalog product (admins only): the one write path of the 产品目录 pages, the API and
    Django admin. Every field error comes at once (full_clean, so a taken code is one of them); the audit
    event keeps the fields that changed, before and after."""
    require_admin(actor)
    unknown = set(fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed here.")] for name in sorted(unknown)})
    if product is not None and product.pk:
        product = Product.objects.select_for_update().get(pk=product.pk)
    else:
        product = Product()
    before = snapshot(product, PRODUCT_FIELDS) if product.pk else {}
    if isinstance(fields.get("code"), str):
        fields["code"] = fields["code"].strip()
    for name, value in fields.items():
        setattr(product, name, value)
    product.full_clean()
    product.save()
    product.refresh_from_db()  # what the database keeps (200 → 200.00), for the audit and the caller
    record_changes(
        actor=actor, target=product, customer_id=None, before=before, after=snapshot(product, PRODUCT_FIELDS)
    )
    return product


def product_retire(*, actor, product: Product) -> Product:
    """停售: the product is no longer offered for new subscriptions; the ones customers have stay as they are.
    Taking it off sale again changes nothing (and audits nothing)."""
    return product_save(actor=actor, product=product, is_active=False)


def product_reinstate(*, actor, product: Product) -> Product:
    """Back on sale (恢复在售)."""
    return product_save(actor=actor, product=product, is_active=True)


# --- solution packages (行业解决方案) ---------------------------------------------------------------
PACKAGE_FIELDS = ["code", "name", "industry", "price", "description", "is_active"]


def _items_snapshot(items: list[tuple[Product, int]]) -> list[list[int]]:
    """Items as the audit keeps them: [[product id, quantity], …] by product id."""
    return sorted([product.pk, quantity] for product, quantity in items)


def list_total(items: list[tuple[Product, int]]) -> Decimal:
    """The sum of the items' list prices (standard monthly price × quantity)."""
    return yuan(sum((product.standard_price * quantity for product, quantity in items), Decimal(0)))


def package_split(package: SolutionPackage) -> list[tuple[Product, int, Decimal]]:
    """The package's items with the unit price each takes of the package price today (catalog.models.
    split_package_price). A ValidationError on `price` when today's list prices no longer allow it."""
    items = [(item.product, item.quantity) for item in package.items.select_related("product").order_by("id")]
    units = split_package_price(package.price, [(product.standard_price, quantity) for product, quantity in items])
    if units is None:
        raise ValidationError({"price": [_package_price_error(package.price, list_total(items))]})
    return [(product, quantity, unit) for (product, quantity), unit in zip(items, units, strict=True)]


def _package_price_error(price: Decimal, total: Decimal) -> str:
    if price > total:
        return _("The package price (%(price)s) is above the sum of its products' list prices (%(total)s).") % {
            "price": price,
            "total": total,
        }
    return _(
        "The package price cannot be spread over its products to the cent: give one product the quantity 1 or "
        "round the price."
    )


def _item_errors(items: list[tuple[Product, int]], *, adding: list[int]) -> list[str]:
    errors = []
    if not items:
        errors.append(_("A package holds at least one product."))
    products = [product.pk for product, _quantity in items]
    if len(set(products)) != len(products):
        errors.append(_("A product appears only once in a package."))
    if any(int(quantity) < 1 for _product, quantity in items):
        errors.append(_("Each quantity is at least 1."))
    off_sale = [product.name for product, _quantity in items if not product.is_active and product.pk in adding]
    if off_sale:
        errors.append(_("Off sale, so not for a new package item: %(names)s.") % {"names": "、".join(off_sale)})
    return errors


@transaction.atomic
def package_save(
    *,
    actor,
    package: SolutionPackage | None = None,
    items: list[tuple[Product, int]] | None = None,
    expected_version: int | None = None,
    **fields,
) -> SolutionPackage:
    """Create or change a solution package (admins only): its header and, when `items` is given, its products
    and quantities (the whole list replaces the old one). Every error comes at once, by field (`items` for
    the product list); the price must not be above the items' list prices and must split over them to the
    cent. Versioned: with `expected_version`, a package changed since it was read is refused (StaleEdit).
    The audit keeps what changed, items included, before and after."""
    require_admin(actor)
    unknown = set(fields) - set(PACKAGE_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed here.")] for name in sorted(unknown)})
    if package is not None and package.pk:
        package = SolutionPackage.objects.select_for_update().get(pk=package.pk)
        check_version(package, expected_version)
        old_items = [(item.product, item.quantity) for item in package.items.select_related("product")]
    else:
        package, old_items = SolutionPackage(), []
    before = snapshot(package, PACKAGE_FIELDS) | {"items": _items_snapshot(old_items)} if package.pk else {}
    if isinstance(fields.get("code"), str):
        fields["code"] = fields["code"].strip()
    for name, value in fields.items():
        setattr(package, name, value)
    new_items = old_items if items is None else [(product, int(quantity)) for product, quantity in items]
    errors: dict[str, list[str]] = {}
    held = {product.pk for product, _quantity in old_items}
    if item_errors := _item_errors(new_items, adding=[p.pk for p, _q in new_items if p.pk not in held]):
        errors["items"] = item_errors
    price = package.price
    if not errors and isinstance(price, Decimal | int) and price >= 0:
        prices = [(product.standard_price, quantity) for product, quantity in new_items]
        if split_package_price(yuan(price), prices) is None:
            errors["price"] = [_package_price_error(yuan(price), list_total(new_items))]
    full_clean_with(package, errors)
    package.save()
    if items is not None:
        package.items.all().delete()
        PackageItem.objects.bulk_create(
            PackageItem(package=package, product=product, quantity=quantity) for product, quantity in new_items
        )
    package.refresh_from_db()
    after = snapshot(package, PACKAGE_FIELDS) | {"items": _items_snapshot(new_items)}
    record_changes(actor=actor, target=package, customer_id=None, before=before, after=after)
    return package


def package_retire(*, actor, package: SolutionPackage) -> SolutionPackage:
    """停售: no longer offered on new quotes; quotes that hold it keep their lines."""
    return package_save(actor=actor, package=package, is_active=False)


def package_reinstate(*, actor, package: SolutionPackage) -> SolutionPackage:
    """Back on sale (恢复在售)."""
    return package_save(actor=actor, package=package, is_active=True)


@transaction.atomic
def subscriptions_remove_members(*, actor, customer_id: int, member_ids: list[int]) -> list[tuple[Subscription, list]]:
    """Members who left the group come off its member-level subscriptions (products billed per member:
    集团彩铃, V网 …) that are not terminated; each subscription's quantity drops by the members removed
    (never below one) and the change is audited on it. Returns (subscription, members removed) for each one
    changed; members already off (a second delivery of the same news) change nothing."""
    through = Subscription.members.through
    rows = (
        through.objects.filter(
            member_id__in=member_ids,
            subscription__customer_id=customer_id,
            subscription__product__billing_unit=BillingUnit.PER_MEMBER,
        )
        .exclude(subscription__status=SubscriptionStatus.TERMINATED)
        .values_list("subscription_id", "member_id")
        .order_by("subscription_id", "member_id")
    )
    removing: dict[int, list[int]] = {}
    for subscription_id, member_id in rows:
        removing.setdefault(subscription_id, []).append(member_id)
    changed = []
    subscriptions = Subscription.objects.select_for_update().select_related("product").filter(pk__in=list(removing))
    for subscription in subscriptions.order_by("pk"):
        members = list(subscription.members.filter(pk__in=removing[subscription.pk]))
        before = {"members": subscription.members.count(), "quantity": subscription.quantity}
        subscription.members.remove(*members)
        subscription.quantity = max(1, subscription.quantity - len(members))
        subscription.save(update_fields=["quantity", "updated_at"])
        record(
            actor=actor,
            action=AuditAction.UPDATE,
            target=subscription,
            customer_id=customer_id,
            before=before,
            after={"members": before["members"] - len(members), "quantity": subscription.quantity},
            note=stored(gettext_noop("%(n)d members left the group"), n=len(members)),
        )
        changed.append((subscription, members))
    return changed
