"""Catalog: contracted price and discount, subscriptions and their audit, products (admins only)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import translation

from jiketong.catalog.models import BillingUnit, Product, ProductCategory, Subscription
from jiketong.catalog.services import price_and_discount, product_save, subscription_create, subscription_update
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.customers.services import member_add

D = Decimal


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def product(db):
    return Product.objects.create(
        code="LINE100",
        name="互联网专线 100M",
        category=ProductCategory.CONNECTIVITY,
        billing_unit=BillingUnit.PER_GROUP,
        standard_price=D("100.00"),
    )


def errors_of(call, *args, **kwargs) -> dict:
    with pytest.raises(ValidationError) as info:
        call(*args, **kwargs)
    return info.value.message_dict


# --- price and discount -------------------------------------------------------------------------
def test_no_price_and_no_discount_means_standard_price(product):
    assert price_and_discount(product, None, None) == (D("100.00"), D("0.00"))


def test_discount_gives_the_price(product):
    assert price_and_discount(product, None, D("20")) == (D("80.00"), D("20"))


def test_price_gives_the_discount(product):
    assert price_and_discount(product, D("75"), None) == (D("75"), D("25.00"))


def test_discount_rounds_to_the_cent():
    product = Product(standard_price=D("30.00"))
    assert price_and_discount(product, D("20.00"), None) == (D("20.00"), D("33.33"))
    assert price_and_discount(product, None, D("33.33")) == (D("20.00"), D("33.33"))


def test_consistent_price_and_discount_are_accepted(product):
    assert price_and_discount(product, D("80.00"), D("20.00")) == (D("80.00"), D("20.00"))


def test_inconsistent_price_and_discount_are_refused(product):
    errors = errors_of(price_and_discount, product, D("80.00"), D("25.00"))
    assert errors == {"discount_pct": ["The discount does not match the contracted price and the standard price."]}


def test_price_above_standard_is_refused(product):
    errors = errors_of(price_and_discount, product, D("120.00"), None)
    assert errors == {"contracted_price": ["The contracted price cannot be above the standard price."]}


def test_free_product_keeps_the_given_price():
    assert price_and_discount(Product(standard_price=D("0")), D("0"), None) == (D("0"), D("0.00"))


# --- subscriptions ------------------------------------------------------------------------------
def subscribe(cast, product, **fields):
    return subscription_create(
        actor=cast.alice.user, customer=cast.alice_customer, product=product, start_on=date(2024, 1, 1), **fields
    )


def test_subscription_fills_the_discount_and_is_audited(cast, product):
    sub = subscribe(cast, product, contracted_price=D("75.00"))
    assert (sub.contracted_price, sub.discount_pct) == (D("75.00"), D("25.00"))
    event = AuditEvent.objects.get(target_type="catalog.subscription", target_id=sub.pk)
    assert (event.action, event.actor, event.customer_id) == (
        AuditAction.CREATE,
        cast.alice.user,
        cast.alice_customer.pk,
    )
    assert event.after["contracted_price"] == "75.00"


def test_subscription_cannot_end_before_it_starts(cast, product):
    errors = errors_of(subscribe, cast, product, end_on=date(2023, 12, 31))
    assert ["The end date cannot be before the start date."] in errors.values()
    assert not Subscription.objects.exists()


def test_discount_over_100_is_refused(cast, product):
    errors = errors_of(subscribe, cast, product, discount_pct=D("120"))
    assert "discount_pct" in errors or "contracted_price" in errors
    assert not Subscription.objects.exists()


def test_product_off_sale_cannot_be_subscribed(cast, product):
    product.is_active = False
    product.save()
    errors = errors_of(subscribe, cast, product)
    assert errors == {"product": ["This product is no longer on sale."]}


def test_subscription_members_must_belong_to_the_customer(cast, product):
    own = member_add(
        actor=cast.alice.user, customer=cast.alice_customer, phone="13800000001", joined_on=date(2024, 1, 1)
    )
    other = member_add(actor=cast.bob.user, customer=cast.bob_customer, phone="13800000002", joined_on=date(2024, 1, 1))
    errors = errors_of(subscribe, cast, product, members=[own, other])
    assert errors == {"members": ["Members must belong to the subscribing customer."]}
    assert not Subscription.objects.exists()
    sub = subscribe(cast, product, members=[own])
    assert list(sub.members.all()) == [own]


def test_subscription_update_is_audited_with_only_what_changed(cast, product):
    sub = subscribe(cast, product)
    subscription_update(actor=cast.alice.user, subscription=sub, discount_pct=D("10"), status="suspended")
    sub.refresh_from_db()
    assert (sub.contracted_price, sub.discount_pct, sub.status) == (D("90.00"), D("10.00"), "suspended")
    event = AuditEvent.objects.get(target_type="catalog.subscription", target_id=sub.pk, action=AuditAction.UPDATE)
    assert event.before == {"contracted_price": "100.00", "discount_pct": "0.00", "status": "active"}
    assert event.after == {"contracted_price": "90.00", "discount_pct": "10.00", "status": "suspended"}


def test_subscription_update_refuses_bad_dates_and_changes_nothing(cast, product):
    sub = subscribe(cast, product)
    errors_of(subscription_update, actor=cast.alice.user, subscription=sub, end_on=date(2020, 1, 1))
    sub.refresh_from_db()
    assert sub.end_on is None
    assert not AuditEvent.objects.filter(target_id=sub.pk, action=AuditAction.UPDATE).exists()


def test_subscription_of_a_product_taken_off_sale_can_still_be_changed(cast, product):
    sub = subscribe(cast, product)
    Product.objects.filter(pk=product.pk).update(is_active=False)
    subscription_update(actor=cast.alice.user, subscription=sub, status="terminated")
    assert Subscription.objects.get(pk=sub.pk).status == "terminated"


def test_manager_cannot_subscribe_another_managers_customer(cast, product):
    with pytest.raises(Http404):
        subscription_create(
            actor=cast.alice.user, customer=cast.bob_customer, product=product, start_on=date(2024, 1, 1)
        )
    assert not Subscription.objects.exists()


def test_viewing_roles_cannot_subscribe(cast, product):
    with pytest.raises(PermissionDenied):
        subscription_create(
            actor=cast.erin.user, customer=cast.alice_customer, product=product, start_on=date(2024, 1, 1)
        )


# --- products -----------------------------------------------------------------------------------
NEW_PRODUCT = {
    "code": "VNET",
    "name": "集团V网",
    "category": ProductCategory.VOICE,
    "billing_unit": BillingUnit.PER_MEMBER,
    "standard_price": D("10.00"),
}


@pytest.mark.parametrize("persona", ["alice", "carol", "erin", "grace"])
def test_only_admins_change_the_catalog(cast, persona):
    with pytest.raises(PermissionDenied):
        product_save(actor=getattr(cast, persona).user, **NEW_PRODUCT)
    assert not Product.objects.filter(code="VNET").exists()


def test_admin_creates_and_reprices_a_product_with_audit(cast):
    product = product_save(actor=cast.frank.user, **NEW_PRODUCT)
    product_save(actor=cast.frank.user, product=product, standard_price=D("8.00"))
    events = AuditEvent.objects.filter(target_type="catalog.product", target_id=product.pk).order_by("id")
    assert [e.action for e in events] == [AuditAction.CREATE, AuditAction.UPDATE]
    assert (events[1].before, events[1].after) == ({"standard_price": "10.00"}, {"standard_price": "8.00"})


def test_product_with_negative_price_is_refused(cast):
    errors = errors_of(product_save, actor=cast.frank.user, **(NEW_PRODUCT | {"standard_price": D("-1")}))
    assert "standard_price" in errors
