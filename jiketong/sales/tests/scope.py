"""The scope matrix's hook (jiketong/tests_scope): one lead and one opportunity per customer of its world.

Each lead is linked to its customer, in the customer's unit and owned by the customer's manager, and each
opportunity is owned by someone who sees its customer, so both are visible exactly where the customer is.
"""

from datetime import date

from jiketong.catalog.models import Product
from jiketong.org.models import Staff
from jiketong.sales.models import Lead, LeadImportRun, LeadStatus, Opportunity, ReferenceCase, Stage, StageChange


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
        # A reference case of each customer: the whole province reads it, only the customer's scope its name
        # (the list and the opportunities' "cases in the same industry" must not name hidden customers).
        won = Opportunity.objects.create(
            customer=customer,
            name=f"{customer.name}赢单",
            owner=owner,
            stage=Stage.objects.get(is_won=True),
            expected_close=date(2026, 6, 30),
            amount_monthly=2000,
        )
        case = ReferenceCase.objects.create(
            opportunity=won,
            customer=customer,
            title=f"标杆案例{len(name)}",
            industry_id=customer.industry_id,
            value=24000,
            what_won="整体方案与快速交付",
            org_unit=customer.org_unit,
            public_name="某集团客户",
            published_by=owner,
        )
        case.products.set([Product.objects.first()])
    # A large lead import's run: its uploader's, not customer data (unscoped: tests/cases.py).
    LeadImportRun.objects.create(file_name="leads.csv", file_path="/nonexistent/leads.csv")
