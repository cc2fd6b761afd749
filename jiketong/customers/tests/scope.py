"""Hooks for the scope matrix (jiketong/tests_scope): one archive import run, and for each customer a decision
maker related to its first contact on the key-person map, with the kept gaps rebuilt so the supervisor's list has
rows to leak. A run is its uploader's (and an administrator's), not customer data, so its id is listed as
unscoped (tests/cases.py): the matrix checks only that nothing leaks."""

from django.utils import timezone

from jiketong.customers import keypersons
from jiketong.customers.models import Contact, ContactRelation, CustomerImportRun


def populate(world, customers) -> None:
    CustomerImportRun.objects.create(file_name="archive.csv", file_path="/nonexistent/archive.csv")
    for customer in customers.values():
        first = Contact.objects.filter(customer=customer).first()
        boss = Contact.objects.create(customer=customer, name=f"决策者{customer.name}", decision_role="decider")
        ContactRelation.objects.create(customer=customer, from_contact=first, to_contact=boss, kind="reports_to")
    keypersons.refresh(timezone.localdate())
