"""Hooks for the scope matrix (jiketong/tests_scope): a billed month, a points entry, a credit grade, a redemption
and a benefit use per customer, and one import run and one club benefit. Import runs are not customer data but a
job of analysts and admins (none of the matrix's personas), and the club's benefit catalogue is the same for
everyone, so both are declared unscoped (tests/cases.py): the matrix only checks that nothing leaks."""

from datetime import date
from decimal import Decimal

from django.utils import timezone

from jiketong.billing.models import (
    BenefitUse,
    ClubBenefit,
    CreditGrade,
    CustomerMonth,
    ImportRun,
    PointsLedger,
    Redemption,
)


def populate(world, customers) -> None:
    benefit = ClubBenefit.objects.create(name="上门维修", kind="repair")
    this_month = timezone.localdate().replace(day=1)
    for customer in customers.values():
        CustomerMonth.objects.create(customer=customer, period=date(2026, 1, 1), revenue=Decimal("100"), members=3)
        PointsLedger.objects.create(customer=customer, period=date(2026, 1, 1), earned=11, balance=11)
        CreditGrade.objects.create(customer=customer, grade="AA", as_of=date(2026, 1, 1), months=1,
                                   computed_at=timezone.now())  # fmt: skip
        # Redemptions of the month the list opens on, so the list pages would show hidden customers' names.
        Redemption.objects.create(customer=customer, points=100, benefit=Decimal("10"), kind="amount",
                                  from_period=date(2026, 1, 1), applied_period=this_month)  # fmt: skip
        BenefitUse.objects.create(customer=customer, benefit=benefit, used_on=date(2026, 1, 5),
                                  note=f"维修{customer.name}")  # fmt: skip
    ImportRun.objects.create(kind="facts", file_name="facts.csv", file_path="/nonexistent/facts.csv")
