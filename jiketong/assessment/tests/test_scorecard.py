"""The scorecard's arithmetic on the worked example (docs/assessment.md): each component, the weighted total,
the unit's roll-up and the ranking."""

from decimal import Decimal

import pytest

from jiketong.assessment.components import score, scorecard
from jiketong.assessment.compute import month_compute, working_days
from jiketong.assessment.models import AssessmentMonth, ManagerScore, UnitScore

from .conftest import MONTH

pytestmark = pytest.mark.django_db


def test_november_2026_has_21_working_days(db):
    assert working_days(MONTH) == 21


def test_each_component_of_alices_month_is_counted(november):
    month_compute(MONTH)
    alice = ManagerScore.objects.get(period=MONTH, staff=november.alice, closed=False)
    assert (alice.customers, alice.visits_done, alice.visits_owed) == (4, 2, 4)
    assert (alice.follow_ups_done, alice.follow_ups_due) == (1, 2)
    assert (alice.login_days, alice.working_days) == (18, 21)
    assert (alice.won_count, alice.won_value) == (1, Decimal("34000.00"))
    assert (alice.revenue, alice.revenue_before) == (Decimal("20200.00"), Decimal("20000.00"))
    assert (alice.served_before, alice.churned) == (3, 1)
    assert (alice.satisfied, alice.rated) == (4, 7)
    assert (alice.archive_done, alice.archive_checks) == (7, 12)


def test_alices_weighted_total_is_the_worked_example(november):
    month_compute(MONTH)
    alice = ManagerScore.objects.get(period=MONTH, staff=november.alice, closed=False)
    expected = {  # actual, score (actual ÷ target, capped at 1.2)
        "visits": ("0.5000", "0.5000"),  # 2 ÷ 4, target 100%
        "follow_up": ("0.5000", "0.5000"),  # 1 ÷ 2, target 100%
        "login": ("0.8571", "0.9523"),  # 18 ÷ 21, target 90%
        "won_count": ("1.00", "0.5000"),  # 1, target 2
        "won_value": ("34000.00", "0.6800"),  # ¥34,000, target ¥50,000
        "revenue_growth": ("1.0100", "1.0000"),  # 20,200 ÷ 20,000, target 101%
        "retention": ("0.6667", "0.6803"),  # (3 − 1) ÷ 3, target 98%
        "satisfaction": ("0.5714", "0.6722"),  # 4 ÷ 7, target 85%
        "archive": ("0.5833", "0.6481"),  # 7 ÷ 12, target 90%
    }
    assert {code: (alice.terms[code]["actual"], alice.terms[code]["score"]) for code in expected} == expected
    # Σ weight × score = 15×0.5 + 10×0.5 + 5×0.9523 + 10×0.5 + 15×0.68 + 15×1 + 10×0.6803 + 10×0.6722 + 10×0.6481
    assert alice.total == Decimal("67.5")


def test_a_component_without_a_base_is_left_out_and_the_others_carry_its_weight():
    class Figures:
        customers = visits_done = visits_owed = follow_ups_done = follow_ups_due = 0
        login_days, working_days = 21, 21
        won_count, won_value = 0, Decimal(0)
        revenue = revenue_before = Decimal(0)
        served_before = churned = satisfied = rated = archive_done = archive_checks = 0

    total, scoring = scorecard(Figures(), {}, Decimal("1.2"))
    assert scoring["visits"]["score"] is None
    # Scored: login (100% ÷ 90% = 1.1111) × 5, won count 0 × 10, won value 0 × 15 → 5.5556 ÷ 30 × 100
    assert total == Decimal("18.5")


def test_a_score_is_capped_and_never_negative():
    assert score(Decimal("3"), Decimal("1"), Decimal("1.2")) == Decimal("1.2")
    assert score(Decimal("-1"), Decimal("1"), Decimal("1.2")) == Decimal("0")
    assert score(None, Decimal("1"), Decimal("1.2")) is None


def test_the_unit_rolls_up_its_managers_and_ranks_them(november):
    month_compute(MONTH)
    county = UnitScore.objects.get(period=MONTH, org_unit=november.org["440106"], closed=False)
    alice = ManagerScore.objects.get(period=MONTH, staff=november.alice)
    bob = ManagerScore.objects.get(period=MONTH, staff=november.bob)
    assert county.managers == 2
    assert county.visits_owed == alice.visits_owed + bob.visits_owed
    assert county.won_value == alice.won_value + bob.won_value
    # Per manager: ¥34,000 won by the two of them is ¥17,000 each against the ¥50,000 target.
    assert county.terms["won_value"]["actual"] == "17000.00"
    assert (alice.rank_in_unit, bob.rank_in_unit) == (1, 2) if alice.total > bob.total else (2, 1)
    city = UnitScore.objects.get(period=MONTH, org_unit=november.org["440100"], closed=False)
    assert city.managers == 2  # Ivan is in 深圳, not 广州
    province = UnitScore.objects.get(period=MONTH, org_unit=november.org["440000"], closed=False)
    assert province.managers == 3
    assert AssessmentMonth.objects.get(period=MONTH).managers == 3


def test_the_monthly_job_costs_the_same_queries_for_more_managers(november, django_assert_max_num_queries):
    from jiketong import testing
    from jiketong.org.models import Role

    with django_assert_max_num_queries(30) as few:
        month_compute(MONTH)
    for n in range(12):
        testing.make_staff(f"m{n}", november.org["440104"], [Role.CUSTOMER_MANAGER], name=f"经理{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        month_compute(MONTH)
