"""A small billed world whose indicators are worked out by hand in the tests.

Periods: P = May 2026, the month before (April 2026) and a year before (May 2025).

- A alice_customer (440106, alice): Apr ¥1,000, 10 members; May ¥1,500, 12 members (10 on net), +3 −1,
  V网 and broadband both on the group bill.
- B bob_customer (440106, bob): Apr ¥2,000, 9 members; May ¥2,000, 10 members (9 on net), +1,
  broadband on the bill and V网 paid by the members (个付).
- C backed_up (440104, bob, alice backs up): Apr ¥500, 5 members; not billed in May (churned).
- D shenzhen_customer (440304, ivan): new in May, ¥3,000, 2 members, +2, MAS.
- E zhejiang_customer (330106): Apr and May ¥100, 1 member; SMS, V网 and broadband both 个付.

A also billed ¥500 in May 2025. Plus one prospect and one churned record with no bills (the archive).
"""

from datetime import date
from decimal import Decimal

import pytest

from jiketong import testing
from jiketong.billing.models import BillingFact, CustomerMonth
from jiketong.catalog.models import BillingUnit, Product, ProductCategory, Stickiness
from jiketong.customers.models import LifecycleStatus

P = date(2026, 5, 1)
PREV = date(2026, 4, 1)
YEAR_AGO = date(2025, 5, 1)


def make_product(code, *, category=ProductCategory.VOICE, basic=False, stickiness=Stickiness.NONE, cost_rate=None):
    return Product.objects.create(
        code=code,
        name=code,
        category=category,
        billing_unit=BillingUnit.PER_GROUP,
        stickiness=stickiness,
        standard_price=Decimal("100"),
        is_basic_service=basic,
        cost_rate=cost_rate,
    )


def month(customer, period, revenue, *, members=0, on_net=None, joined=0, left=0, products=1):
    return CustomerMonth.objects.create(
        customer=customer,
        period=period,
        revenue=Decimal(revenue),
        products=products,
        billed_members=members,
        members=members,
        on_net_members=members if on_net is None else on_net,
        joined=joined,
        left=left,
    )


def fact(customer, period, product, revenue, members=0):
    return BillingFact.objects.create(
        customer=customer, period=period, product=product, revenue=Decimal(revenue), billed_members=members
    )


@pytest.fixture
def products(db):
    class Products:
        vnet = make_product("VNET", basic=True, stickiness=Stickiness.IDENTITY)
        broadband = make_product("BB", category=ProductCategory.CONNECTIVITY, basic=True)
        mas = make_product("MAS", category=ProductCategory.MESSAGING, stickiness=Stickiness.EMBEDDED)
        sms = make_product("SMS", category=ProductCategory.MESSAGING)

    return Products


@pytest.fixture
def world(cast, products):
    a, b, c, d, e = (
        cast.alice_customer,
        cast.bob_customer,
        cast.backed_up,
        cast.shenzhen_customer,
        cast.zhejiang_customer,
    )
    month(a, YEAR_AGO, 500, members=8)
    month(a, PREV, 1000, members=10, products=2)
    month(a, P, 1500, members=12, on_net=10, joined=3, left=1, products=2)
    fact(a, P, products.vnet, 1000, 12)
    fact(a, P, products.broadband, 500)
    month(b, PREV, 2000, members=9)
    month(b, P, 2000, members=10, on_net=9, joined=1, products=2)
    fact(b, P, products.broadband, 2000)
    fact(b, P, products.vnet, 0, 9)
    month(c, PREV, 500, members=5)
    month(d, P, 3000, members=2, joined=2)
    fact(d, P, products.mas, 3000, 2)
    month(e, PREV, 100, members=1)
    month(e, P, 100, members=1, products=3)
    fact(e, P, products.sms, 100)
    fact(e, P, products.vnet, 0, 1)
    fact(e, P, products.broadband, 0, 1)
    testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice, status=LifecycleStatus.PROSPECT)
    testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice, status=LifecycleStatus.CHURNED)
    return cast
