"""Fixtures for the deals tests: products, supervisors at each level, and quotes in a few states."""

from decimal import Decimal

import pytest

from jiketong import testing
from jiketong.catalog.models import BillingUnit, Product, ProductCategory
from jiketong.deals import services
from jiketong.org.models import Role


@pytest.fixture
def deals(cast):
    """The cast plus: hank (province supervisor of 广东), henry (HQ supervisor), two products."""
    cast.hank = testing.make_staff("hank", cast.org["440000"], [Role.SUPERVISOR], name="黄海")
    cast.henry = testing.make_staff("henry", cast.org["100000"], [Role.SUPERVISOR], name="何亮")
    cast.vnet = Product.objects.create(
        code="VNET",
        name="集团V网",
        category=ProductCategory.VOICE,
        billing_unit=BillingUnit.PER_MEMBER,
        standard_price=Decimal("100.00"),
    )
    cast.line = Product.objects.create(
        code="DIA100M",
        name="互联网专线100M",
        category=ProductCategory.CONNECTIVITY,
        billing_unit=BillingUnit.PER_GROUP,
        standard_price=Decimal("2000.00"),
    )
    return cast


def make_quote(staff, customer, *lines):
    """A draft quote by `staff` with lines (product, quantity, discount %)."""
    quote = services.quote_create(actor=staff.user, customer=customer, title="测试报价")
    for product, quantity, discount in lines:
        services.quote_line_save(
            actor=staff.user, quote=quote, product=product, quantity=quantity, discount_pct=Decimal(discount)
        )
    quote.refresh_from_db()
    return quote


@pytest.fixture
def quote_at(deals):
    """`quote_at(discount)` → Alice's submitted quote for her customer with one line at that discount."""

    def build(discount, staff=None):
        staff = staff or deals.alice
        quote = make_quote(staff, deals.alice_customer, (deals.vnet, 10, discount))
        return services.quote_submit(actor=staff.user, quote=quote)

    return build
