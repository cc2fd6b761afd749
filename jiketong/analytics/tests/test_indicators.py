"""Every indicator on the hand-worked world of conftest.py (expected numbers computed here, by hand)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from jiketong import testing
from jiketong.analytics import jobs
from jiketong.analytics.indicators import REGISTRY, Calculation

from .conftest import PREV, P, month

pytestmark = pytest.mark.django_db


def pct(part, whole) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def total(user, code, **options):
    return Calculation(user.user, period=P, **options).value(code)[""]


def test_development_counts_new_churned_and_net_adds(world):
    hq = world.erin
    # In service in May: A, B, D, E; in April: A, B, C, E.
    assert total(hq, "in_service") == 4
    assert total(hq, "new_customers") == 1  # D
    assert total(hq, "churned_customers") == 1  # C
    assert total(hq, "net_adds") == 4 - 4
    assert total(hq, "members_end") == 12 + 10 + 2 + 1
    assert total(hq, "new_members") == 3 + 1 + 2
    assert total(hq, "net_member_adds") == (3 + 1 + 2) - 1


def test_churn_rates_are_against_the_month_before(world):
    hq = world.erin
    assert total(hq, "customer_churn_rate") == pct(1, 4)
    assert total(hq, "churned_members") == 1
    assert total(hq, "member_churn_rate") == pct(1, 10 + 9 + 5 + 1)


def test_revenue_growth_and_share(world):
    hq = world.erin
    may, april, may_last_year = 1500 + 2000 + 3000 + 100, 1000 + 2000 + 500 + 100, 500
    assert total(hq, "revenue") == Decimal(may)
    assert total(hq, "revenue_mom") == pct(may - april, april)
    assert total(hq, "revenue_yoy") == pct(may - may_last_year, may_last_year)
    assert total(hq, "revenue_share") == Decimal("100.0")
    by_province = Calculation(hq.user, period=P, by="org").value("revenue_share")
    guangdong, zhejiang = world.org["440000"].path, world.org["330000"].path
    assert by_province == {guangdong: pct(1500 + 2000 + 3000, may), zhejiang: pct(100, may)}


def test_coverage_is_signed_over_every_record_surveyed(world):
    # Five active customers, one prospect and one churned record.
    assert total(world.erin, "coverage_rate") == pct(5, 7)


def test_penetration_counts_customers_using_the_product(world):
    assert total(world.erin, "penetration", product="MAS") == pct(1, 4)
    with pytest.raises(ValidationError) as error:
        total(world.erin, "penetration")
    assert "product" in error.value.message_dict


def test_mobile_group_needs_ten_members_on_our_network(world):
    # A has exactly 10 on net (in); B has 10 members but 9 on net (out).
    assert total(world.erin, "mobile_group") == 1
    assert set(Calculation(world.erin.user, period=P).drill("mobile_group")) == {world.alice_customer}


def test_integrated_needs_two_basic_services_one_paid_by_the_group(world):
    # A: V网 + broadband both on the group bill; B: broadband on the bill + V网 paid by members (in);
    # D: MAS is not basic; E: two basic services but neither on the group bill (out).
    assert total(world.erin, "integrated") == 2
    drilled = set(Calculation(world.erin.user, period=P).drill("integrated"))
    assert drilled == {world.alice_customer, world.bob_customer}


def test_a_customer_in_two_categories_is_counted_once(world):
    # A is mobile and integrated, B integrated only.
    assert total(world.erin, "mobile_group") + total(world.erin, "integrated") == 3
    assert total(world.erin, "category_total") == 2


def test_health_indicators(world):
    hq = world.erin
    revenues = [1500, 2000, 3000, 100]
    assert total(hq, "sticky_share") == pct(1000 + 3000, sum(revenues))  # V网 (identity) + MAS (embedded)
    hhi = Decimal(sum(r * r for r in revenues)) * 10000 / Decimal(sum(revenues)) ** 2
    assert total(hq, "hhi") == hhi.quantize(Decimal("1"))
    assert total(hq, "products_per_customer") == Decimal(2 + 2 + 1 + 3) / 4
    assert total(hq, "top10_share") == Decimal("100.0")  # fewer than ten customers


def test_top10_share_takes_the_ten_biggest(cast, products):
    revenues = [100 * n for n in range(1, 13)]
    for revenue in revenues:
        month(testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice), P, revenue)
    assert total(cast.erin, "top10_share") == pct(sum(revenues[2:]), sum(revenues))


def test_cross_province_and_national_groups_are_counted_at_the_head(cast, products):
    gz, hz = cast.org["440106"], cast.org["330106"]
    over = testing.make_customer(org_unit=gz, owner=cast.alice)
    month(over, P, "600000")
    month(testing.make_customer(org_unit=hz, parent=over), date(2025, 7, 1), "400000.01")
    exactly = testing.make_customer(org_unit=gz, owner=cast.alice)
    month(exactly, P, "600000")
    month(testing.make_customer(org_unit=hz, parent=exactly), P, "400000")
    one_province = testing.make_customer(org_unit=gz, owner=cast.alice)
    month(one_province, P, "2000000")
    month(testing.make_customer(org_unit=gz, parent=one_province), P, "1")
    old = testing.make_customer(org_unit=gz, owner=cast.alice)  # the other province billed 13 months ago
    month(old, P, "2000000")
    month(testing.make_customer(org_unit=hz, parent=old), date(2025, 4, 1), "1")

    calc = Calculation(cast.erin.user, period=P)
    assert calc.value("cross_province")[""] == 2  # over and exactly
    assert calc.value("national")[""] == 1  # exactly ¥1,000,000 is not more than ¥1,000,000
    assert set(calc.drill("national")) == {over}
    assert set(calc.drill("cross_province")) == {over, exactly}
    # The national head is in the category total once, though it is in no other category.
    assert calc.value("category_total")[""] == 1
    # The daily job keeps the groups' spread: the same answers from it.
    jobs.daily(P)
    held = Calculation(cast.erin.user, period=P)
    assert held.spread_held
    assert (held.value("cross_province")[""], held.value("national")[""]) == (2, 1)
    assert set(held.drill("national")) == {over}
    assert Calculation(cast.alice.user, period=P).value("national")[""] == 1  # alice owns the head


def test_a_manager_sees_their_portfolio_only(world):
    alice = world.alice.user  # owns A, backs up C
    calc = Calculation(alice, period=P)
    assert calc.value("in_service")[""] == 1
    assert calc.value("churned_customers")[""] == 1
    assert calc.value("revenue")[""] == Decimal(1500)
    assert set(calc.drill("churned_customers")) == {world.backed_up}


def test_a_city_supervisor_groups_by_county(world):
    calc = Calculation(world.carol.user, period=P, by="org")
    tianhe, yuexiu = world.org["440106"].path, world.org["440104"].path
    assert calc.value("in_service") == {tianhe: 2}
    assert calc.value("churned_customers") == {tianhe: 0, yuexiu: 1}
    assert set(calc.drill("churned_customers", yuexiu)) == {world.backed_up}
    assert calc.labels([tianhe]) == {tianhe: "天河区分公司"}


def test_by_month_gives_a_series(world):
    calc = Calculation(world.erin.user, period=P, start=PREV, by="month")
    assert calc.value("revenue") == {PREV: Decimal(1000 + 2000 + 500 + 100), P: Decimal(1500 + 2000 + 3000 + 100)}
    # Nobody was billed in March, so all four April customers are new then.
    assert calc.value("new_customers") == {PREV: 4, P: 1}
    assert calc.value("churned_customers") == {PREV: 0, P: 1}
    assert set(calc.drill("new_customers", P)) == {world.shenzhen_customer}


def test_by_industry_and_grade(world):
    assert Calculation(world.erin.user, period=P, by="industry").value("in_service") == {"it": 4}
    assert Calculation(world.erin.user, period=P, by="grade").value("in_service") == {"C": 4}


def test_point_in_time_indicators_refuse_month_grouping(world):
    with pytest.raises(ValidationError) as error:
        Calculation(world.erin.user, period=P, start=PREV, by="month").value("coverage_rate")
    assert "by" in error.value.message_dict


def test_unknown_grouping_and_indicator_are_field_errors(world):
    with pytest.raises(ValidationError) as error:
        Calculation(world.erin.user, by="colour")
    assert "by" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        Calculation(world.erin.user).value("nope")
    assert "code" in error.value.message_dict


def test_every_indicator_has_a_definition_and_computes(world):
    calc = Calculation(world.erin.user, period=P, product="MAS")
    for code, indicator in REGISTRY.items():
        assert str(indicator.definition), code
        assert "" in calc.value(code), code
        calc.drill(code).count()


def test_another_province_sees_nothing_of_guangdong(world):
    calc = Calculation(world.dave.user, period=P)  # Zhejiang supervisor: E only
    assert calc.value("revenue")[""] == Decimal(100)


def test_every_indicator_is_documented():
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[3] / "docs" / "indicators.md").read_text(encoding="utf-8")
    assert [code for code in REGISTRY if f"`{code}`" not in docs] == []
