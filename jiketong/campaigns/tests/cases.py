"""Generated tests (jiketong/testing_views.py) for campaigns; the world is tests/scope.py's (a campaign is visible
exactly where its one target is)."""

from jiketong.campaigns.models import Campaign, CampaignTarget, CrossSellOffer
from jiketong.testing_views import Case

CASES = [
    Case(
        Campaign,
        kinds=("campaign",),
        find=lambda customer: CampaignTarget.objects.filter(customer=customer).first().campaign_id,
        list="campaigns:list",
        detail="campaigns:detail",
        api_list="/api/v1/campaigns",
        api_detail="/api/v1/campaigns/{id}",
    ),
    Case(
        CampaignTarget,
        kinds=("campaign_target",),
        find=lambda customer: CampaignTarget.objects.filter(customer=customer).first().pk,
    ),
    Case(
        CrossSellOffer,
        find=lambda customer: CrossSellOffer.objects.filter(customer=customer).first().pk,
        api_list="/api/v1/crosssell/customers/{customer}",
        api_key="product",
        api_value=lambda offer: offer.product_id,
    ),
]
OTHER_ROUTES = {
    "campaigns:create", "campaigns:whitespace", "campaigns:whitespace_export", "campaigns:whitespace_campaign",
    "/api/v1/whitespace",
}  # fmt: skip
