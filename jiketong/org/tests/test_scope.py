"""Data scope at the queryset level: every scoped model × every persona of the cast."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser

from jiketong import testing
from jiketong.catalog.models import BillingUnit, Product, ProductCategory, Subscription
from jiketong.customers.models import (
    Affiliation,
    CompetitorPresence,
    Contact,
    ContactDate,
    Customer,
    GradeChange,
    Member,
)

CUSTOMERS = ["alice_customer", "bob_customer", "backed_up", "shenzhen_customer", "zhejiang_customer"]
GUANGZHOU = {"alice_customer", "bob_customer", "backed_up"}
EVERYONE = set(CUSTOMERS)
# Who sees which of the cast's customers (see jiketong/testing.py).
EXPECTED = {
    "alice": {"alice_customer", "backed_up"},  # owns one, backs up the other
    "bob": {"bob_customer", "backed_up"},
    "ivan": {"shenzhen_customer"},
    "carol": GUANGZHOU,  # Guangzhou city: 天河 and 越秀, not Shenzhen
    "dave": {"zhejiang_customer"},
    "erin": EVERYONE,  # HQ analyst
    "frank": EVERYONE,  # admin
    "grace": GUANGZHOU | {"shenzhen_customer"},  # Guangdong auditor
}

# model → how one of its rows names its customer
SCOPED = {
    Customer: lambda obj: obj.pk,
    Contact: lambda obj: obj.customer_id,
    ContactDate: lambda obj: obj.contact.customer_id,
    Member: lambda obj: obj.customer_id,
    GradeChange: lambda obj: obj.customer_id,
    Affiliation: lambda obj: obj.customer_id,
    CompetitorPresence: lambda obj: obj.customer_id,
    Subscription: lambda obj: obj.customer_id,
}


@pytest.fixture
def world(cast):
    """One of every scoped record for each of the cast's customers."""
    product = Product.objects.create(
        code="VNET",
        name="集团V网",
        category=ProductCategory.VOICE,
        billing_unit=BillingUnit.PER_MEMBER,
        standard_price=Decimal("10.00"),
    )
    customers = [getattr(cast, name) for name in CUSTOMERS]
    for i, customer in enumerate(customers):
        contact = Contact.objects.create(customer=customer, name=f"联系人{i}", mobile=f"1380000000{i}")
        ContactDate.objects.create(contact=contact, label="入职", date=date(2020, 1, 1))
        Member.objects.create(customer=customer, phone=f"1390000000{i}", joined_on=date(2024, 1, 1))
        # Each affiliation points at the next customer, so `related` is often out of scope.
        Affiliation.objects.create(
            customer=customer, related=customers[(i + 1) % len(customers)], kind="equity", direction="controls"
        )
        CompetitorPresence.objects.create(customer=customer, competitor="china_telecom", products="宽带")
        Subscription.objects.create(
            customer=customer, product=product, contracted_price=Decimal("10.00"), start_on=date(2024, 1, 1)
        )
    cast.names = {getattr(cast, name).pk: name for name in CUSTOMERS}
    return cast


def visible(model, user, world) -> set[str]:
    rows = model.objects.visible_to(user)
    assert rows.count() == len(rows)  # a join must not duplicate rows
    return {world.names[SCOPED[model](obj)] for obj in rows}


@pytest.mark.parametrize("model", SCOPED, ids=lambda m: m.__name__)
def test_each_persona_sees_exactly_their_scope(world, model):
    seen = {persona: visible(model, getattr(world, persona).user, world) for persona in EXPECTED}
    assert seen == EXPECTED


@pytest.mark.parametrize("model", SCOPED, ids=lambda m: m.__name__)
def test_manager_cannot_see_other_managers_customer(world, model):
    assert "bob_customer" not in visible(model, world.alice.user, world)


@pytest.mark.parametrize("model", SCOPED, ids=lambda m: m.__name__)
def test_disabled_user_sees_nothing(world, model):
    world.alice.user.is_active = False
    world.alice.user.save()
    assert visible(model, world.alice.user, world) == set()


@pytest.mark.parametrize("model", SCOPED, ids=lambda m: m.__name__)
def test_anonymous_user_sees_nothing(world, model):
    assert visible(model, AnonymousUser(), world) == set()


@pytest.mark.parametrize("model", SCOPED, ids=lambda m: m.__name__)
def test_user_without_staff_record_sees_nothing(world, model):
    user = testing.User.objects.create_user("nobody", password=testing.PASSWORD)
    assert visible(model, user, world) == set()


@pytest.mark.parametrize("model", SCOPED, ids=lambda m: m.__name__)
def test_superuser_sees_everything(world, model):
    assert visible(model, testing.system_user(), world) == EVERYONE


def test_supervisor_at_hq_sees_everything(world):
    boss = testing.make_staff("boss", world.org["100000"], ["supervisor"])
    assert visible(Customer, boss.user, world) == EVERYONE


def test_supervisor_of_a_county_does_not_see_the_rest_of_the_city(world):
    tianhe = testing.make_staff("tianhe_boss", world.org["440106"], ["supervisor"])
    assert visible(Customer, tianhe.user, world) == {"alice_customer", "bob_customer"}


def test_manager_who_is_also_supervisor_sees_portfolio_and_subtree(world):
    testing.make_customer(org_unit=world.org["330106"], owner=world.alice, name="杭州客户")
    world.alice.roles.add("supervisor")
    user = testing.User.objects.get(pk=world.alice.pk)  # fresh user: staff_of caches roles
    names = set(Customer.objects.visible_to(user).values_list("name", flat=True))
    assert names == {world.alice_customer.name, world.bob_customer.name, world.backed_up.name, "杭州客户"}


def test_new_owner_sees_customer_and_old_owner_does_not(world):
    Customer.objects.filter(pk=world.bob_customer.pk).update(owner=world.alice)
    assert "bob_customer" in visible(Customer, world.alice.user, world)
    bob = testing.User.objects.get(pk=world.bob.pk)
    assert "bob_customer" not in visible(Customer, bob, world)


def test_everything_survives_being_ored_with_an_owner_condition(cast):
    """Apps widen a customer scope with `| Q(owner=me)`; for an admin that must still be everything
    (an empty Q() would be dropped and leave only the admin's own records)."""
    from django.db.models import Q

    from jiketong.customers.models import Customer
    from jiketong.org.scope import customer_scope

    widened = Customer.objects.filter(customer_scope(cast.frank.user) | Q(owner=cast.frank.pk))
    assert widened.count() == Customer.objects.count() == 5
