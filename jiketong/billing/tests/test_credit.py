"""Credit grade worked by hand (docs/loyalty-points.md): 12 billed months up to the latest month loaded, average
days to pay, months in arrears, current consecutive months in arrears; the best level whose thresholds hold."""

from datetime import date
from decimal import Decimal

import pytest

from jiketong.billing import queries
from jiketong.billing.credit import refresh_credit_grades, window_start
from jiketong.billing.models import CreditGrade, CreditLevel, CreditRule, CustomerMonth

pytestmark = pytest.mark.django_db
MONTHS_2026 = [date(2026, m, 1) for m in range(1, 13)]


def bill(customer, days, arrears=(), periods=MONTHS_2026):
    """One row per month: days to pay (a number, a list per month, or None) and the months in arrears."""
    for i, period in enumerate(periods):
        CustomerMonth.objects.create(
            customer=customer, period=period, revenue=Decimal("100"), arrears=period.month in arrears,
            days_to_pay=days[i] if isinstance(days, list) else days,
        )  # fmt: skip


def figures(customer) -> tuple:
    g = CreditGrade.objects.get(customer=customer)
    return g.grade, g.months, g.avg_days_to_pay, g.arrears_months, g.consecutive_arrears, g.as_of


def test_the_window_counts_twelve_months_back_from_the_latest():
    assert window_start(date(2026, 12, 1), 12) == date(2026, 1, 1)
    assert window_start(date(2026, 3, 1), 12) == date(2025, 4, 1)


def test_worked_examples_of_the_default_rule(cast):
    bill(cast.alice_customer, 20)  # pays in 20 days, never late
    bill(cast.bob_customer, [40] * 6 + [35, 45, 40, 40, 40, 35], arrears={3})  # one late month, paid since
    bill(cast.backed_up, 50, arrears={11, 12})  # the last two months unpaid
    bill(cast.shenzhen_customer, None, arrears={2, 4, 6, 8, 10})  # no days from BOSS, five late months
    # A month before the window does not count: the arrears of December 2025 are forgotten.
    CustomerMonth.objects.create(customer=cast.alice_customer, period=date(2025, 12, 1), arrears=True, days_to_pay=200)

    assert refresh_credit_grades() == 4

    dec = date(2026, 12, 1)
    assert figures(cast.alice_customer) == (CreditLevel.AAA, 12, Decimal("20.0"), 0, 0, dec)
    # 40 days ≤ 45 and one month in arrears ≤ 1: AA (AAA wants ≤ 30 days and none).
    assert figures(cast.bob_customer) == (CreditLevel.AA, 12, Decimal("39.6"), 1, 0, dec)
    # Two months in arrears in a row now: A allows 1, so B (≤ 90 days, ≤ 4 months, ≤ 2 in a row).
    assert figures(cast.backed_up) == (CreditLevel.B, 12, Decimal("50.0"), 2, 2, dec)
    # No days to pay at all: only the arrears decide; five months > B's four: C.
    assert figures(cast.shenzhen_customer) == (CreditLevel.C, 12, None, 5, 0, dec)


def test_a_customer_late_in_every_month_counts_them_all_as_consecutive(cast):
    bill(cast.alice_customer, 10, arrears=set(range(1, 13)), periods=MONTHS_2026[-3:])
    refresh_credit_grades()
    assert figures(cast.alice_customer)[:5] == (CreditLevel.C, 3, Decimal("10.0"), 3, 3)


def test_a_stricter_rule_grades_the_same_customer_lower(cast):
    bill(cast.alice_customer, 20)
    refresh_credit_grades(CreditRule(aaa_max_days=15))
    assert CreditGrade.objects.get(customer=cast.alice_customer).grade == CreditLevel.AA


def test_a_rule_whose_better_grade_is_more_lenient_is_refused_at_its_field():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        CreditRule(aaa_max_days=50).full_clean()
    assert list(refused.value.message_dict) == ["aaa_max_days"]


def test_running_again_replaces_the_grades(cast):
    bill(cast.alice_customer, 20)
    refresh_credit_grades()
    CustomerMonth.objects.filter(customer=cast.alice_customer, period=date(2026, 12, 1)).update(arrears=True)
    refresh_credit_grades()
    # December unpaid: one month in arrears (AA allows it) but in arrears right now (AA allows none): A.
    assert figures(cast.alice_customer)[:5] == (CreditLevel.A, 12, Decimal("20.0"), 1, 1)
    assert CreditGrade.objects.count() == 1


def test_other_apps_read_grades_by_customer_id_in_one_query(cast, django_assert_num_queries):
    bill(cast.alice_customer, 20)
    bill(cast.bob_customer, 100)
    refresh_credit_grades()
    with django_assert_num_queries(1):
        grades = queries.credit_grades([cast.alice_customer.pk, cast.bob_customer.pk, cast.backed_up.pk])
    assert {pk: g.grade for pk, g in grades.items()} == {
        cast.alice_customer.pk: CreditLevel.AAA, cast.bob_customer.pk: CreditLevel.C,
    }  # fmt: skip


def test_the_nightly_job_grades_everyone(cast):
    from jiketong.billing.jobs import daily

    bill(cast.alice_customer, 20)
    assert daily(date(2027, 1, 2)) == "billing: 1 customers credit-graded"
    assert CreditGrade.objects.get(customer=cast.alice_customer).grade == CreditLevel.AAA
