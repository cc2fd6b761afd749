"""Points that buy benefits, worked by hand (docs/loyalty-points.md): whole blocks of points turn into an amount
or a share off next month's bill, capped per month; a customer in arrears cannot redeem."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jiketong.billing import services
from jiketong.billing.models import CreditRule, CustomerMonth, PointsLedger, PointsRule, Redemption, RedemptionRule
from jiketong.billing.points import refresh_points
from jiketong.core.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db
SEP, OCT, NOV = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)
TODAY = date(2026, 11, 5)  # October's bills are in; November's bill is the next one


def months(customer, *rows, rule=None):
    for period, revenue, arrears in rows:
        CustomerMonth.objects.create(customer=customer, period=period, revenue=Decimal(revenue), arrears=arrears)
    refresh_points(SEP, rule)


def balance(customer) -> int:
    return PointsLedger.objects.filter(customer=customer).order_by("-period").first().balance


def redeem(cast, points, customer=None, actor=None):
    return services.redemption_create(
        actor=(actor or cast.alice).user, customer=customer or cast.alice_customer, points=points, today=TODAY
    )


@pytest.fixture
def paid(cast):
    """alice's customer paid on time: September 1,000.00 → 1 + 100 = 101; October 2,000.00 → 1 + 200 = 201.
    Balance 302."""
    months(cast.alice_customer, (SEP, "1000.00", False), (OCT, "2000.00", False))
    assert balance(cast.alice_customer) == 302
    return cast


def test_without_arrears_300_points_take_30_yuan_off_novembers_bill(paid):
    redemption = redeem(paid, 300)
    # Default rule: every 100 points take 10.00 yuan off: 3 blocks → 30.00, on the bill after October's.
    assert (redemption.points, redemption.benefit, redemption.from_period, redemption.applied_period) == (
        300, Decimal("30.00"), OCT, NOV,
    )  # fmt: skip
    assert balance(paid.alice_customer) == 2
    assert PointsLedger.objects.get(customer=paid.alice_customer, period=OCT).redeemed == 300
    event = AuditEvent.objects.get(target_type="billing.redemption")
    assert (event.action, event.customer_id, event.actor) == (
        AuditAction.CREATE,
        paid.alice_customer.pk,
        paid.alice.user,
    )


def test_a_share_of_the_bill_is_worked_out_from_the_latest_bill(paid):
    RedemptionRule.objects.create(kind="ratio", points_per_block=100, percent_per_block=Decimal("1.00"),
                                  cap_per_month=Decimal("500"))  # fmt: skip
    # 1 % of October's 2,000.00 per 100 points: 300 points → 3 % → 60.00.
    assert redeem(paid, 300).benefit == Decimal("60.00")


def test_with_arrears_the_customer_cannot_redeem_even_with_points_left(cast):
    # The balance is kept through arrears under this rule, so only the arrears stand in the way.
    keep = PointsRule(arrears_forfeits_balance=False)
    months(cast.alice_customer, (SEP, "1000.00", False), (OCT, "500.00", True), rule=keep)
    assert balance(cast.alice_customer) == 101  # September's 101; October in arrears earns 0
    with pytest.raises(ValidationError) as refused:
        redeem(cast, 100)
    assert refused.value.message_dict["points"] == [
        "The customer is in arrears for 2026-10: points can be redeemed once the bill is paid."
    ]
    assert not Redemption.objects.exists() and balance(cast.alice_customer) == 101
    # November paid: 1 + 10 = 11 more, 112 in all; 100 points now buy 10.00 yuan off December's bill.
    CustomerMonth.objects.create(customer=cast.alice_customer, period=NOV, revenue=Decimal("100.00"))
    refresh_points(SEP, keep)
    redemption = redeem(cast, 100)
    assert (redemption.benefit, redemption.applied_period, balance(cast.alice_customer)) == (
        Decimal("10.00"), date(2026, 12, 1), 12,
    )  # fmt: skip


def test_the_monthly_cap_counts_what_was_already_redeemed_for_that_bill(paid):
    RedemptionRule.objects.create(points_per_block=50, yuan_per_block=Decimal("10.00"), cap_per_month=Decimal("50"))
    redeem(paid, 100)  # 20.00
    redeem(paid, 50)  # 10.00: 30.00 so far for November's bill
    with pytest.raises(ValidationError) as refused:
        redeem(paid, 150)  # 30.00 more would make 60.00
    assert refused.value.message_dict["points"] == [
        "At most 50.00 yuan a month comes off the bill: 30.00 yuan already for 2026-11, 20.00 yuan left; these "
        "points are worth 30.00 yuan."
    ]
    assert redeem(paid, 100).benefit == Decimal("20.00")  # exactly what was left
    assert balance(paid.alice_customer) == 302 - 250


def test_whole_blocks_within_the_balance_only(paid):
    for points, message in (
        (50, "Redeem whole blocks of 100 points (100, 200, …)."),
        (150, "Redeem whole blocks of 100 points (100, 200, …)."),
        (400, "Only 302 points to redeem."),
    ):
        with pytest.raises(ValidationError) as refused:
            redeem(paid, points)
        assert refused.value.message_dict["points"] == [message]


def test_a_rebuild_of_the_ledger_keeps_the_points_spent(paid):
    redeem(paid, 300)
    CustomerMonth.objects.create(customer=paid.alice_customer, period=NOV, revenue=Decimal("100.00"))
    refresh_points(SEP)
    # October: 302 − 300 = 2; November: 2 + 1 + 10 = 13.
    rows = PointsLedger.objects.filter(customer=paid.alice_customer).order_by("period")
    assert list(rows.values_list("period", "redeemed", "balance")) == [(SEP, 0, 101), (OCT, 300, 2), (NOV, 0, 13)]


def test_an_auditor_or_analyst_cannot_redeem(paid):
    for persona in (paid.grace, paid.erin):
        with pytest.raises(PermissionDenied):
            redeem(paid, 100, actor=persona)


def test_rules_are_new_rows_made_by_an_admin_and_audited(cast):
    with pytest.raises(PermissionDenied):
        services.redemption_rule_create(actor=cast.carol.user, cap_per_month=Decimal("100"))
    rule = services.redemption_rule_create(actor=cast.frank.user, kind="ratio", cap_per_month=Decimal("100"))
    assert RedemptionRule.current() == rule
    credit = services.credit_rule_create(actor=cast.frank.user, aaa_max_days=20)
    assert AuditEvent.objects.filter(target_type__in=["billing.redemptionrule", "billing.creditrule"]).count() == 2
    assert credit.aaa_max_days == 20
    with pytest.raises(ValidationError) as refused:
        services.credit_rule_create(actor=cast.frank.user, aa_max_days=100)
    assert "aa_max_days" in refused.value.message_dict


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (PointsRule, services.POINTS_RULE_FIELDS),
        (RedemptionRule, services.REDEMPTION_RULE_FIELDS),
        (CreditRule, services.CREDIT_RULE_FIELDS),
    ],
)
def test_a_rule_added_in_the_admin_is_a_new_audited_row_and_never_edited(admin_client, model, fields):
    from django.forms.models import model_to_dict

    data = {name: value for name, value in model_to_dict(model(), fields=fields).items() if value is not False}
    base = f"/admin/billing/{model._meta.model_name}/"
    assert admin_client.post(base + "add/", data).status_code == 302
    rule = model.objects.get()
    event = AuditEvent.objects.get(target_type=f"billing.{model._meta.model_name}")
    assert (event.action, event.target_id) == (AuditAction.CREATE, rule.pk)
    assert admin_client.post(f"{base}{rule.pk}/delete/", {"post": "yes"}).status_code == 403
    assert model.objects.count() == 1
