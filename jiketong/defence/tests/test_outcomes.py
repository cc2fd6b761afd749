"""Outcome figures, worked by hand: the defence indicators in the analytics registry and the defence report.

The world: five plans closed in October 2026 in Guangdong, one in another province, one closed too long ago.
- alice_customer (A1, 越秀/天河 county 440106): defence vs China Telecom, kept, ¥10,000 a month kept;
- bob_customer (C, 440106): defence vs China Unicom, lost (互联网专线), ¥4,000 lost;
- backed_up (B1, 440104): retention, partly lost, ¥3,000 kept, ¥1,000 lost, to China Telecom;
- shenzhen_customer (B2, 440304): retention, lost, ¥2,500 lost;
- new D customer in 440106: defence vs China Telecom, kept, ¥500 kept;
- zhejiang_customer (330106): defence kept (outside Guangdong);
- alice_customer again: a retention case closed in 2025-06 (outside the 12 months).
"""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from jiketong import testing
from jiketong.analytics.indicators import REGISTRY, Calculation
from jiketong.customers.models import Customer
from jiketong.defence import queries, services
from jiketong.defence.models import Plan, PlanKind

PERIOD = date(2026, 10, 1)
CLOSED = date(2026, 10, 15)


def closed_plan(customer, owner, kind, outcome, *, stake, kept=None, lost=None, lost_to="", product=None, on=CLOSED):
    plan = Plan.objects.create(
        customer=customer, kind=kind, owner=owner, due_on=on, revenue_at_stake=Decimal(stake),
        competitor=lost_to or ("china_telecom" if kind == PlanKind.DEFENCE else ""),
    )  # fmt: skip
    frank = testing.system_user()
    services.plan_close(
        actor=frank, plan=plan, outcome=outcome, lost_to=lost_to, lost_product=product,
        revenue_kept=None if kept is None else Decimal(kept), revenue_lost=None if lost is None else Decimal(lost),
        closed_on=min(on, timezone.localdate()),
    )  # fmt: skip
    return plan


@pytest.fixture
def world(cast, products):
    Customer.objects.filter(pk=cast.alice_customer.pk).update(grade="A1")
    Customer.objects.filter(pk=cast.backed_up.pk).update(grade="B1")
    Customer.objects.filter(pk=cast.shenzhen_customer.pk).update(grade="B2")
    small = testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice, grade="D")
    closed_plan(cast.alice_customer, cast.alice, PlanKind.DEFENCE, "kept", stake="10000")
    closed_plan(
        cast.bob_customer, cast.bob, PlanKind.DEFENCE, "lost", stake="4000", lost_to="china_unicom",
        product=products["DIA"],
    )  # fmt: skip
    closed_plan(
        cast.backed_up, cast.bob, PlanKind.RETENTION, "partly", stake="4000", kept="3000", lost="1000",
        lost_to="china_telecom", product=products["VNET"],
    )  # fmt: skip
    closed_plan(cast.shenzhen_customer, cast.ivan, PlanKind.RETENTION, "lost", stake="2500")
    closed_plan(small, cast.alice, PlanKind.DEFENCE, "kept", stake="500")
    closed_plan(cast.zhejiang_customer, cast.dave, PlanKind.DEFENCE, "kept", stake="9000")
    closed_plan(cast.alice_customer, cast.alice, PlanKind.RETENTION, "kept", stake="7000", on=date(2025, 6, 1))
    return cast


def figure(user, code, **options):
    return Calculation(user, period=PERIOD, **options).value(code)


def test_the_defence_indicators_are_in_the_registry_with_definitions():
    for code in ("retention_rate", "value_customers_retained", "revenue_defended", "defence_success_rate"):
        assert REGISTRY[code].section == "defence" and str(REGISTRY[code].definition)


def test_retention_rate_counts_kept_and_partly_lost_cases_of_the_12_months(world):
    # Guangdong (frank, admin of 440000 sees everything: Zhejiang has no retention case): 1 partly of 2 closed.
    assert figure(world.frank.user, "retention_rate") == {"": Decimal("50.0")}
    assert figure(world.carol.user, "retention_rate") == {"": Decimal("100.0")}  # Guangzhou: backed_up only


def test_value_customers_retained_counts_a_and_b_customers_once(world):
    assert figure(world.carol.user, "value_customers_retained") == {"": 2}  # alice_customer A1, backed_up B1
    assert figure(world.erin.user, "value_customers_retained") == {"": 2}  # shenzhen B2 was lost


def test_revenue_defended_sums_the_revenue_kept(world):
    # 10,000 (kept) + 3,000 (partly) + 500 (kept) in Guangzhou; + 9,000 in Zhejiang for HQ.
    assert figure(world.carol.user, "revenue_defended") == {"": Decimal("13500.00")}
    assert figure(world.erin.user, "revenue_defended") == {"": Decimal("22500.00")}
    assert figure(world.dave.user, "revenue_defended") == {"": Decimal("9000.00")}


def test_defence_success_rate_is_kept_over_closed(world):
    # Guangzhou: alice kept, bob lost, small kept → 2 / 3.
    assert figure(world.carol.user, "defence_success_rate") == {"": Decimal("66.7")}
    assert figure(world.alice.user, "defence_success_rate") == {"": Decimal("100.0")}  # her portfolio: 2 of 2


def test_the_indicators_group_by_grade_like_the_others(world):
    by_grade = figure(world.carol.user, "revenue_defended", by="grade")
    assert by_grade == {
        "A1": Decimal("10000.00"),
        "B1": Decimal("3000.00"),
        "C": Decimal("0.00"),
        "D": Decimal("500.00"),
    }


def test_a_drill_down_lists_the_customers_behind_the_figure(world):
    calc = Calculation(world.carol.user, period=PERIOD)
    names = set(calc.drill("value_customers_retained").values_list("name", flat=True))
    assert names == {world.alice_customer.name, world.backed_up.name}


def test_the_report_counts_losses_by_competitor_product_area_and_month(world):
    report = queries.report(world.carol.user, date(2026, 1, 1), date(2026, 10, 1))
    by_competitor = {row["_key"]: (row["customers"], row["revenue"]) for row in report["by_competitor"]}
    assert by_competitor == {"china_unicom": (1, Decimal("4000.00")), "china_telecom": (1, Decimal("1000.00"))}
    by_product = {row["label"]: row["revenue"] for row in report["by_product"]}
    assert by_product == {"互联网专线": Decimal("4000.00"), "集团V网": Decimal("1000.00")}
    by_area = {row["label"]: row["customers"] for row in report["by_area"]}
    assert by_area == {"天河区分公司": 1, "越秀区分公司": 1}
    assert [(row["label"], row["customers"]) for row in report["by_month"]] == [("2026-10", 2)]
    assert report["totals"] == {"closed": 3, "kept": 2, "partly": 0, "lost": 1}
    assert report["success_rate"] == Decimal("66.7")
    assert report["lost_customers"] == 2 and report["lost_revenue"] == Decimal("5000.00")


def test_the_report_of_another_province_sees_none_of_guangdong(world):
    report = queries.report(world.dave.user, date(2026, 1, 1), date(2026, 10, 1))
    assert report["totals"] == {"closed": 1, "kept": 1, "partly": 0, "lost": 0}
    assert report["by_competitor"] == []


def test_presence_is_counted_per_competitor_by_industry_and_area(world):
    from jiketong.customers.models import CompetitorPresence

    for customer in (world.alice_customer, world.bob_customer, world.zhejiang_customer):
        CompetitorPresence.objects.create(customer=customer, competitor="china_telecom", products="x")
    report = queries.report(world.carol.user, date(2026, 1, 1), date(2026, 10, 1))
    assert [(r["competitor"], r["_key"], r["customers"]) for r in report["presence_industry"]] == [
        ("china_telecom", "it", 2)
    ]
    assert [(r["competitor"], r["label"], r["customers"]) for r in report["presence_area"]] == [
        ("china_telecom", "天河区分公司", 2)
    ]
