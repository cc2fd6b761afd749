"""Hooks for the scope matrix (jiketong/tests_scope): a billed month, a pending grade proposal and a target
(on the customer's org unit) for every customer of the matrix world, and the month's segments (a segments
run's status card names no customer: anyone who may see segments may follow it)."""

from datetime import date
from decimal import Decimal

from jiketong.analytics.models import AnalyticsRun, GradeProposal, RunKind, Target, TargetPeriod
from jiketong.billing.models import CustomerMonth

PERIOD = date(2026, 3, 1)


def populate(world, customers) -> None:
    from jiketong.analytics import segments

    for customer in customers.values():
        CustomerMonth.objects.get_or_create(
            customer=customer, period=PERIOD, defaults={"revenue": Decimal("1000"), "members": 12, "on_net_members": 12}
        )
        GradeProposal.objects.create(customer=customer, old_grade=customer.grade, new_grade="A1", score=90, reasons="…")
        Target.objects.get_or_create(
            org_unit=customer.org_unit,
            indicator="revenue",
            period_type=TargetPeriod.MONTH,
            period=PERIOD,
            defaults={"value": Decimal("5000")},
        )
    segments.refresh(PERIOD)
    AnalyticsRun.objects.create(kind=RunKind.SEGMENTS, period=PERIOD, status="succeeded", result=len(customers))


NOT_LISTS = {"analytics/grade-proposals/run/", "analytics/segments/prepare/"}
