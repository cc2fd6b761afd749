"""The scope matrix's hook (jiketong/tests_scope): for each customer of its world, a running campaign owned in the
customer's unit (by the customer's manager, or Dave for Zhejiang's unowned ones) with that customer as its one
target, and one cross-sell offer. A campaign is then visible exactly where its target is (and to its owner)."""

from datetime import date

from jiketong.catalog.models import Product
from jiketong.org.models import Staff

from ..models import Campaign, CampaignStatus, CampaignTarget, CrossSellOffer


def populate(world, customers: dict) -> None:
    product = Product.objects.first()
    for number, customer in enumerate(customers.values(), start=1):
        owner = customer.owner or Staff.objects.get(pk=world.dave.pk)
        campaign = Campaign.objects.create(
            name=f"营销活动{number}", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31), owner=owner,
            org_unit=customer.org_unit, status=CampaignStatus.ACTIVE, targets_count=1,
        )  # fmt: skip
        CampaignTarget.objects.create(campaign=campaign, customer=customer, manager=owner, org_unit=customer.org_unit)
        CrossSellOffer.objects.create(
            customer=customer, product=product, rank=1, industry_id=customer.industry_id, size_band="na", peers=10,
            holders=8, share="0.8000", computed_on=date(2026, 6, 1),
        )  # fmt: skip
