"""The loyalty and satisfaction indicators in the analytics registry: definitions, figures and drill-downs."""

from datetime import date
from decimal import Decimal

import pytest

from jiketong import testing
from jiketong.analytics.indicators import REGISTRY, Calculation
from jiketong.assessment import jobs, loyalty
from jiketong.org.models import Rank

from .conftest import MONTH, OCTOBER, bill

pytestmark = pytest.mark.django_db


def test_the_indicators_are_registered_with_definitions():
    for code in ("satisfaction", "loyal_share", "loyal_revenue_share", "value_retention"):
        assert REGISTRY[code].section == "loyalty" and len(str(REGISTRY[code].definition)) > 40


def test_overall_satisfaction_counts_ratings_and_survey_answers_of_the_month(november):
    calc = Calculation(november.carol.user, period=MONTH)
    assert calc.value("satisfaction") == {"": Decimal("57.1")}  # 4 satisfied of 7
    by_month = Calculation(november.carol.user, period=MONTH, start=OCTOBER, by="month")
    assert by_month.value("satisfaction") == {OCTOBER: Decimal("0.0"), MONTH: Decimal("57.1")}
    assert Calculation(november.dave.user, period=MONTH).value("satisfaction") == {"": None}
    assert set(calc.drill("satisfaction")) == {november.c1, november.c2}


def months_billed(customer, last: date, count: int, revenue: str, products: int = 1) -> None:
    from jiketong.analytics.periods import add_months

    for back in range(count):
        bill(customer, add_months(last, -back), revenue, products=products)


@pytest.fixture
def loyal_world(cast):
    """Four customers billed in November 2026: a long-standing one billed all year (loyal), a young one that added a
    product (loyal), a young one with the same products (not loyal) and a long-standing one that missed a month."""
    org = cast.org["440106"]
    cast.alice.rank = Rank.KEY_ACCOUNT_MANAGER  # may own A customers (the rank limits, 职级)
    cast.alice.save(update_fields=["rank"])
    old = testing.make_customer(org_unit=org, owner=cast.alice, cooperation_since=date(2020, 1, 1), grade="A1")
    grower = testing.make_customer(org_unit=org, owner=cast.alice, cooperation_since=date(2025, 9, 1))
    young = testing.make_customer(org_unit=org, owner=cast.alice, cooperation_since=date(2025, 9, 1))
    gap = testing.make_customer(org_unit=org, owner=cast.alice, cooperation_since=date(2019, 1, 1), grade="B1")
    lost = testing.make_customer(org_unit=org, owner=cast.alice, grade="A2")
    months_billed(old, MONTH, 13, "1000")
    months_billed(grower, MONTH, 12, "500", products=2)
    bill(grower, date(2025, 11, 1), "400", products=1)
    months_billed(young, MONTH, 13, "300")
    months_billed(gap, MONTH, 5, "200")
    months_billed(gap, date(2026, 5, 1), 7, "200")  # May 2026 back to Nov 2025: no June 2026
    bill(lost, date(2025, 11, 1), "800")  # a value customer billed a year before, gone now
    cast.loyal_customers = (old, grower)
    return cast


def test_loyalty_follows_its_definition(loyal_world):
    assert loyalty.refresh(MONTH) == 5
    calc = Calculation(loyal_world.carol.user, period=MONTH)
    assert calc.value("loyal_share") == {"": Decimal("50.0")}  # 2 loyal of 4 in service
    assert calc.value("loyal_revenue_share") == {"": Decimal("75.0")}  # (1000 + 500) ÷ 2000
    # Value (A/B) customers billed in November 2025: old, gap and lost; still billed now: old and gap.
    assert calc.value("value_retention") == {"": Decimal("66.7")}
    assert set(calc.drill("loyal_share")) == set(loyal_world.loyal_customers)


def test_the_nightly_job_computes_last_month_and_leaves_a_closed_one(loyal_world):
    from jiketong.assessment import services

    # November: 天河区's row, its industry's row and its four grades' rows (A1, A2, B1, C).
    kept = "6 loyalty summary rows"
    assert jobs.daily(date(2026, 12, 2)) == (
        f"assessment: 3 managers scored for {MONTH:%Y-%m}, 5 loyalty facts, {kept}"
    )
    services.month_close(actor=loyal_world.frank.user, period=MONTH)
    assert jobs.daily(date(2026, 12, 3)) == f"assessment: {MONTH:%Y-%m} is closed, nothing recomputed; {kept}"
