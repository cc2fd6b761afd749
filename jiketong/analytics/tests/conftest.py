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
from jiketong.analytics.periods import add_months
from jiketong.billing.models import BillingFact, CustomerMonth
from jiketong.billing.rollup import refresh_flags
from jiketong.catalog.models import BillingUnit, Product, ProductCategory, Stickiness
from jiketong.customers.models import LifecycleStatus
from jiketong.org.models import Rank

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
    """A customer-month written by hand; its flags (new, categories, sticky revenue) are worked out from its
    facts as an import would (and the next month's "new", which compares with this one)."""
    row = CustomerMonth.objects.create(
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
    refresh_flags([period, add_months(period, 1)])
    return row


def fact(customer, period, product, revenue, members=0):
    row = BillingFact.objects.create(
        customer=customer, period=period, product=product, revenue=Decimal(revenue), billed_members=members
    )
    refresh_flags([period])
    return row


@pytest.fixture(autouse=True)
def tasks_run_at_once(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


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


@pytest.fixture
def varied(cast, products):
    """A billed world built the way imports build it (bill lines, then `refresh_months`): 40 customers over
    four counties of two provinces, owned by alice and bob (some backed up), of every grade, industry mix and
    status, billed over 14 months with gaps (churns and win-backs), zero-revenue lines with members (个付),
    every product, and two groups spread over both provinces (one national). For the tests that compare the
    precomputed figures with the reference (tests/reference.py)."""
    import random

    from jiketong.billing.rollup import refresh_months
    from jiketong.customers.models import Grade

    rng = random.Random(20260501)
    for manager in (cast.alice, cast.bob):  # they own customers of every grade: a rank that may (职级)
        manager.rank = Rank.KEY_ACCOUNT_MANAGER
        manager.save(update_fields=["rank"])
    units = [cast.org[code] for code in ("440106", "440104", "440304", "330106")]
    owners = [cast.alice, cast.bob, None]
    grades = [Grade.A1, Grade.A2, Grade.B1, Grade.B2, Grade.C, Grade.D]
    industries = ["it", "finance", "government", "education"]
    statuses = [LifecycleStatus.ACTIVE] * 4 + [
        LifecycleStatus.AT_RISK,
        LifecycleStatus.DORMANT,
        LifecycleStatus.CHURNED,
    ]
    lines = [products.vnet, products.broadband, products.mas, products.sms]
    customers = []
    for i in range(40):
        unit = units[i % len(units)]
        owner = owners[i % 3] if unit.code.startswith("44") else None
        backup = cast.alice if owner == cast.bob and i % 2 else None
        customers.append(
            testing.make_customer(
                org_unit=unit,
                owner=owner,
                backup_owner=backup,
                grade=grades[i % len(grades)],
                industry_id=industries[i % len(industries)],
                status=statuses[i % len(statuses)],
                size=rng.randint(5, 900),
            )
        )
    heads = customers[:2]
    customers.append(testing.make_customer(org_unit=cast.org["330106"], parent=heads[0]))
    customers.append(testing.make_customer(org_unit=cast.org["330106"], parent=heads[1]))
    periods = [add_months(P, -k) for k in range(13, -1, -1)]
    facts = []
    for n, customer in enumerate(customers):
        start, stop = rng.randint(0, 4), rng.choice([14, 14, 14, 11, 9])
        gap = rng.randint(start, 13) if n % 5 == 0 else None  # a month away: churned, then won back
        used = rng.sample(lines, rng.randint(1, 4))
        scale = Decimal(rng.choice([50, 400, 3000, 20000, 90000]))
        if customer in customers[-2:]:
            scale = Decimal(600000)  # the heads' groups: one over ¥1,000,000 in 12 months with its head
        for t, period in enumerate(periods):
            if t < start or t >= stop or t == gap:
                continue
            for product in used:
                paid_by_members = rng.random() < 0.25
                revenue = (
                    Decimal(0)
                    if paid_by_members
                    else (scale * Decimal(rng.uniform(0.5, 1.5))).quantize(Decimal("0.01"))
                )
                members = rng.randint(0, 30)
                facts.append(
                    BillingFact(
                        customer=customer,
                        period=period,
                        product=product,
                        revenue=revenue,
                        billed_members=members,
                        paid_on_time=rng.random() > 0.1,
                    )
                )
    BillingFact.objects.bulk_create(facts)
    refresh_months(periods)
    cast.varied = customers
    cast.ann = testing.make_staff("ann", cast.org["440000"], ["analyst"], name="省分析员")
    cast.county = testing.make_staff("tina", cast.org["440106"], ["supervisor"], name="区主管")
    return cast
