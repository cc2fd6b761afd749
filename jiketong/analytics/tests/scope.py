"""Hooks for the scope matrix (jiketong/tests_scope): a billed month, a pending grade proposal and a target
(on the customer's org unit) for every customer of the matrix world."""

from datetime import date
from decimal import Decimal

from jiketong.analytics.models import GradeProposal, Target, TargetPeriod
from jiketong.billing.models import CustomerMonth

PERIOD = date(2026, 3, 1)


def populate(world, customers) -> None:
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


KINDS = {
    "grade_proposal": lambda customer: GradeProposal.objects.filter(customer=customer).first().pk,
    "target": lambda customer: Target.objects.filter(org_unit=customer.org_unit).first().pk,
    "proposal": lambda customer: GradeProposal.objects.filter(customer=customer).first().pk,
}
NOT_LISTS = {"analytics/grade-proposals/run/"}
