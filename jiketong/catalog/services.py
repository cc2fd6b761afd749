"""Writes to the catalog and to customers' subscriptions."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jiketong.core.audit import record, record_changes, snapshot
from jiketong.core.models import AuditAction
from jiketong.core.money import yuan
from jiketong.core.notes import stored
from jiketong.customers.services import require_edit, require_scope
from jiketong.org.models import Role, can

from .models import BillingUnit, Product, Subscription, SubscriptionStatus

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
