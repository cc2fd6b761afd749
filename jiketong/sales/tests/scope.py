"""The scope matrix's hook (jiketong/tests_scope): one lead and one opportunity per customer of its world.

Each lead is linked to its customer, in the customer's unit and owned by the customer's manager, and each
opportunity is owned by someone who sees its customer, so both are visible exactly where the customer is.
"""

from datetime import date

from jiketong.org.models import Staff
from jiketong.sales.models import Lead, LeadImportRun, LeadStatus, Opportunity, Stage, StageChange


def populate(world, customers: dict) -> None:
    first = Stage.objects.filter(is_won=False, is_lost=False).first()
    for name, customer in customers.items():
        owner = customer.owner or Staff.objects.get(pk=world.dave.pk)  # both unowned customers are in Zhejiang
        lead = Lead.objects.create(
            source="visit",
            name=f"{customer.name}扩容线索",
            name_key=f"{customer.name}扩容线索",
            org_unit=customer.org_unit,
            owner=customer.owner,
            customer=customer,
            status=LeadStatus.WORKING,
            contact_mobile=f"1355555000{len(name) % 10}",
        )
        opportunity = Opportunity.objects.create(
            customer=customer,
            name=f"{customer.name}专线商机",
            owner=owner,
            stage=first,
            expected_close=date(2026, 12, 31),
            amount_monthly=1000,
            lead=lead,
        )
        StageChange.objects.create(opportunity=opportunity, to_stage=first)
    # A large lead import's run: its uploader's, not customer data (listed as unscoped below).
    LeadImportRun.objects.create(file_name="leads.csv", file_path="/nonexistent/leads.csv")


UNSCOPED = {"lead_run": lambda: LeadImportRun.objects.first().pk}
KINDS = {
    "lead": lambda customer: Lead.objects.filter(customer=customer).first().pk,
    "opportunity": lambda customer: Opportunity.objects.filter(customer=customer).first().pk,
}
