"""Points worked by hand (DOMAIN §9): 1 point a month + 1 per 10 yuan; arrears forfeit per the rule."""

from datetime import date
from decimal import Decimal

import pytest

from jiketong.billing.models import ClubTier, CustomerMonth, PointsLedger, PointsRule
from jiketong.billing.points import refresh_points

JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)


@pytest.fixture
def months(cast):
    """alice's customer: Jan 1000.00 paid, Feb 259.99 in arrears, Mar 50.00 paid.
    bob's customer: Jan 95.00 and Mar 10.00, nothing in February."""
    a, b = cast.alice_customer, cast.bob_customer
    for customer, period, revenue, arrears in (
        (a, JAN, "1000.00", False),
        (a, FEB, "259.99", True),
        (a, MAR, "50.00", False),
        (b, JAN, "95.00", False),
        (b, MAR, "10.00", False),
    ):
        CustomerMonth.objects.create(customer=customer, period=period, revenue=Decimal(revenue), arrears=arrears)
    return cast


def ledger(customer) -> list[tuple]:
    return list(
        PointsLedger.objects.filter(customer=customer)
        .order_by("period")
        .values_list("tenure_points", "spend_points", "arrears", "earned", "balance", "cumulative_spend", "tier")
    )


RULE = {"silver_from": Decimal("1000"), "gold_from": Decimal("1300"), "diamond_from": Decimal("5000")}


def test_default_rule_arrears_forfeit_the_month_and_the_balance(months):
    refresh_points(JAN, PointsRule(**RULE))
    assert ledger(months.alice_customer) == [
        (1, 100, False, 101, 101, Decimal("1000.00"), ClubTier.SILVER),
        (1, 25, True, 0, 0, Decimal("1259.99"), ClubTier.SILVER),
        (1, 5, False, 6, 6, Decimal("1309.99"), ClubTier.GOLD),
    ]


def test_arrears_forfeit_only_the_month(months):
    refresh_points(JAN, PointsRule(arrears_forfeits_balance=False, **RULE))
    assert [row[3:5] for row in ledger(months.alice_customer)] == [(101, 101), (0, 101), (6, 107)]


def test_without_arrears_rules_everything_counts(months):
    refresh_points(JAN, PointsRule(arrears_forfeits_accrual=False, arrears_forfeits_balance=False, **RULE))
    assert [row[3:5] for row in ledger(months.alice_customer)] == [(101, 101), (26, 127), (6, 133)]


def test_balance_carries_over_a_month_without_billing(months):
    refresh_points(JAN, PointsRule(**RULE))
    # 95 yuan → 9 spend points (rounded down); March adds 1 + 1 to January's 10.
    assert [row[1:5] for row in ledger(months.bob_customer)] == [(9, False, 10, 10), (1, False, 2, 12)]


def test_recomputing_from_a_month_is_idempotent_and_uses_the_rule_in_force(months):
    refresh_points(JAN, PointsRule(**RULE))
    first = ledger(months.alice_customer)
    refresh_points(FEB, PointsRule(**RULE))
    assert ledger(months.alice_customer) == first
    PointsRule.objects.create(points_per_month=2, yuan_per_point=Decimal("5"), **RULE)
    refresh_points(MAR)
    # March under the new rule: 2 + 50 / 5 = 12 on top of February's 0.
    assert ledger(months.alice_customer)[2][:5] == (2, 10, False, 12, 12)
    assert ledger(months.alice_customer)[:2] == first[:2]


def test_only_admins_add_a_rule_and_it_is_audited_and_checked(cast):
    from django.core.exceptions import PermissionDenied, ValidationError

    from jiketong.billing.services import points_rule_create
    from jiketong.core.models import AuditEvent

    with pytest.raises(PermissionDenied):
        points_rule_create(actor=cast.erin.user, points_per_month=2)
    with pytest.raises(ValidationError) as error:
        points_rule_create(actor=cast.frank.user, silver_from=Decimal("5000"), gold_from=Decimal("100"))
    assert "Tier thresholds must rise" in str(error.value)
    rule = points_rule_create(actor=cast.frank.user, points_per_month=2)
    assert PointsRule.current() == rule and rule.yuan_per_point == Decimal("10")
    assert AuditEvent.objects.get(target_id=rule.pk, target_type="billing.pointsrule").after["points_per_month"] == 2
