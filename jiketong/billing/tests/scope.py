"""Hooks for the scope matrix (jiketong/tests_scope): a billed month and a points entry per customer, and
one import run. Import runs are not customer data but a job of analysts and admins (none of the
matrix's personas), so they are listed as unscoped ids: the matrix only checks that nothing leaks."""

from datetime import date
from decimal import Decimal

from jiketong.billing.models import CustomerMonth, ImportRun, PointsLedger


def populate(world, customers) -> None:
    for customer in customers.values():
        CustomerMonth.objects.create(customer=customer, period=date(2026, 1, 1), revenue=Decimal("100"), members=3)
        PointsLedger.objects.create(customer=customer, period=date(2026, 1, 1), earned=11, balance=11)
    ImportRun.objects.create(kind="facts", file_name="facts.csv", file_path="/nonexistent/facts.csv")


KINDS: dict = {}
UNSCOPED = {"import": lambda: ImportRun.objects.first().pk}
