"""A campaign that reaches members (打线), in Debian's chromium: the city supervisor (陈静) builds a campaign from a
filter over members (those on another operator's network) and launches it; the customer manager (李晓红) records
that her customer is interested and opens a lead in the same step; the campaign's results count the response, the
lead and the members reached."""

from datetime import date

import pytest

from jiketong.campaigns.models import Campaign, CampaignStatus, CampaignTarget, TargetStatus
from jiketong.catalog.models import BillingUnit, Product, ProductCategory
from jiketong.customers.models import Member, Network
from jiketong.sales.models import Lead
from jiketong.tests_browser.journeys import expect, zh


@pytest.fixture
def groups(cast):
    """Three of 广州地铁's members are on another network; 天河软件园's two members are all ours."""
    Product.objects.create(code="CRBT", name="集团彩铃", category=ProductCategory.MESSAGING,
                           billing_unit=BillingUnit.PER_MEMBER, standard_price="5.00")  # fmt: skip
    for n in range(3):
        Member.objects.create(customer=cast.alice_customer, phone=f"1335550000{n}", joined_on=date(2024, 1, 1),
                              network=Network.OFF_NET)  # fmt: skip
    for n in range(2):
        Member.objects.create(customer=cast.bob_customer, phone=f"1386660000{n}", joined_on=date(2024, 1, 1))
    return cast


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_member_campaign_from_filter_to_a_counted_lead(groups, journey):
    carol = journey("supervisor")
    page = carol.page
    carol.log_in("carol", "陈静")
    carol.menu("/campaigns/")
    page.click("[data-testid=new-campaign]")
    page.fill("#id_name", "异网成员策反")
    page.fill("#id_budget", "1500")
    page.select_option("#id_audience", "members")
    page.select_option("#id_member_rule", "off_net")
    page.select_option("#id_products", label="集团彩铃")
    carol.shot("campaign-form")
    page.click("[data-testid=save]")
    campaign = Campaign.objects.get()
    page.wait_for_url(f"**/campaigns/{campaign.pk}/")
    expect(page.locator("[data-testid=campaign-status]")).to_have_text(zh(CampaignStatus.READY.label))
    expect(page.locator(f"[data-testid=target-{groups.alice_customer.pk}]")).to_contain_text("广州地铁")
    expect(page.locator(f"[data-testid=target-{groups.bob_customer.pk}]")).to_have_count(0)
    page.click("[data-testid=launch]")
    expect(page.locator("[data-testid=campaign-status]")).to_have_text(zh(CampaignStatus.ACTIVE.label))
    carol.shot("campaign-launched")
    carol.log_out()

    alice = journey("manager")
    page = alice.page
    alice.log_in("alice", "李晓红")
    alice.go(f"/campaigns/{campaign.pk}/?mine=1")
    form = page.locator(f"[data-testid=respond-{groups.alice_customer.pk}]")
    form.locator("select[name=outcome]").select_option("interested")
    form.locator("input[name=note]").fill("想了解彩铃和异网携号")
    form.locator("input[name=make_lead]").check()
    form.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=total-leads]")).to_have_text("1")
    expect(page.locator("[data-testid=total-responded]")).to_have_text("1")
    expect(page.locator("[data-testid=total-members]")).to_have_text("3 / 3")
    row = page.locator(f"[data-testid=target-{groups.alice_customer.pk}]")
    expect(row).to_contain_text(zh(TargetStatus.INTERESTED.label))
    alice.shot("campaign-response")

    target = CampaignTarget.objects.get(campaign=campaign)
    assert target.status == TargetStatus.INTERESTED
    assert Lead.objects.get(pk=target.lead_id).owner_id == groups.alice.pk
    carol_page = journey("supervisor2")
    carol_page.log_in("carol", "陈静")
    results = carol_page.api(f"/campaigns/{campaign.pk}/results")
    assert (results["total"]["responded"], results["total"]["leads"], results["total"]["members_reached"]) == (1, 1, 3)
