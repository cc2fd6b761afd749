from datetime import date
from decimal import Decimal

import pytest

from jiketong.billing.models import CustomerMonth
from jiketong.catalog.models import BillingUnit, Product, ProductCategory

PERIOD = date(2026, 10, 1)


@pytest.fixture
def products(db):
    dia = Product.objects.create(
        code="DIA", name="互联网专线", category=ProductCategory.CONNECTIVITY,
        billing_unit=BillingUnit.PER_GROUP, standard_price=Decimal("3000"),
    )  # fmt: skip
    vnet = Product.objects.create(
        code="VNET", name="集团V网", category=ProductCategory.VOICE,
        billing_unit=BillingUnit.PER_MEMBER, standard_price=Decimal("5"),
    )  # fmt: skip
    return {"DIA": dia, "VNET": vnet}


def bill(customer, revenue, members=0, period=PERIOD) -> CustomerMonth:
    return CustomerMonth.objects.create(customer=customer, period=period, revenue=Decimal(revenue), members=members)
