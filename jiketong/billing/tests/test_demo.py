"""The demo's billing history: consistent with itself and with the archive, and deterministic."""

from django.db.models import Max, Sum

from jiketong.billing.demo import MONTHS
from jiketong.billing.models import (
    BenefitUse,
    BillingFact,
    ClubBenefit,
    CreditGrade,
    CustomerMonth,
    PointsLedger,
    Redemption,
)
from jiketong.catalog.models import Subscription, SubscriptionStatus
from jiketong.customers.models import Customer, LifecycleStatus
from jiketong.demo.generator import generate, reset


def history() -> list[tuple]:
    return list(BillingFact.objects.order_by("period", "customer_id", "product_id").values_list(
        "period", "customer_id", "product_id", "revenue", "billed_members", "paid_on_time"
    ))  # fmt: skip


def test_demo_billing_history(db):
    generate(groups=150, seed=7)
    periods = sorted(set(BillingFact.objects.values_list("period", flat=True)))
    assert len(periods) == MONTHS and all(p.day == 1 for p in periods)
    # CustomerMonth and points are the import's own roll-up of the facts.
    sums = dict(BillingFact.objects.filter(period=periods[-1]).values_list("customer_id").annotate(s=Sum("revenue")))
    assert dict(CustomerMonth.objects.filter(period=periods[-1]).values_list("customer_id", "revenue")) == sums
    assert PointsLedger.objects.count() == CustomerMonth.objects.count()
    # Leavers: no facts after their last month, status churned, no subscription still open.
    last = dict(BillingFact.objects.values_list("customer_id").annotate(m=Max("period")))
    leavers = [c for c, month in last.items() if month < periods[-1]]
    assert leavers and len(leavers) < 0.25 * len(last)
    for customer in Customer.objects.filter(pk__in=leavers):
        assert customer.status == LifecycleStatus.CHURNED
        open_subs = Subscription.objects.filter(customer=customer, status=SubscriptionStatus.ACTIVE, end_on=None)
        assert not open_subs.exists()
    # Some arrears; February (春节) bills dip against January.
    assert 0 < BillingFact.objects.filter(paid_on_time=False).count() < 0.1 * BillingFact.objects.count()
    by_month = dict(CustomerMonth.objects.values_list("period").annotate(s=Sum("revenue")))
    february = next(p for p in periods if p.month == 2 and p.replace(month=1) in by_month)
    assert by_month[february] < by_month[february.replace(month=1)]
    # Days to pay on every line; a credit grade for every customer billed in the last 12 months, of several
    # levels; redemptions spent from last month's balance; the club's catalogue and some uses.
    assert not BillingFact.objects.filter(days_to_pay=None).exists()
    recent = CustomerMonth.objects.filter(period__gte=periods[-12]).values("customer").distinct()
    assert CreditGrade.objects.count() == recent.count()
    assert len(set(CreditGrade.objects.values_list("grade", flat=True))) >= 3
    assert Redemption.objects.exists() and ClubBenefit.objects.count() == 5 and BenefitUse.objects.exists()
    spent = PointsLedger.objects.filter(period=periods[-1], redeemed__gt=0)
    assert spent.count() == Redemption.objects.count()
    first = history()
    reset()
    generate(groups=150, seed=7)
    assert history() == first
