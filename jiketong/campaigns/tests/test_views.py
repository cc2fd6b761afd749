"""The campaign pages: building from the form, bounded queries, the background build, and the lead's win."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jiketong import testing
from jiketong.campaigns import services
from jiketong.campaigns.models import Audience, Campaign, CampaignStatus, CampaignTarget, MemberRule, TargetStatus
from jiketong.customers.models import Network

from .helpers import members


def _client(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


def _form(**fields) -> dict:
    today = timezone.localdate()
    return {"name": "异网成员策反", "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=30)).isoformat(),
            "budget": "2000", "audience": Audience.MEMBERS, "member_rule": MemberRule.OFF_NET} | fields  # fmt: skip


def test_a_supervisor_builds_a_member_campaign_from_the_form(cast):
    members(cast.alice_customer, 3, network=Network.OFF_NET)
    members(cast.bob_customer, 2)  # all on net: not on an off-net list
    response = _client(cast.carol).post(reverse("campaigns:create"), _form())
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("campaigns:detail", args=[campaign.pk])
    assert campaign.status == CampaignStatus.READY
    assert list(campaign.targets.values_list("customer_id", "members")) == [(cast.alice_customer.pk, 3)]


def test_the_form_refuses_an_end_before_the_start(cast):
    response = _client(cast.carol).post(reverse("campaigns:create"), _form(ends_on="2020-01-01"))
    assert response.status_code == 200
    assert Campaign.objects.count() == 0


def test_a_manager_cannot_plan_campaigns(cast):
    assert _client(cast.alice).get(reverse("campaigns:create")).status_code == 403


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


@pytest.mark.parametrize("persona", ["carol", "alice", "frank"])
def test_the_campaign_page_issues_the_same_queries_with_more_targets(cast, persona):
    members(cast.alice_customer, 2, network=Network.OFF_NET)
    members(cast.bob_customer, 2, network=Network.OFF_NET)
    campaign = services.campaign_create(actor=cast.carol.user, name="活动", starts_on=date(2026, 1, 1),
                                        ends_on=date(2026, 12, 31), audience=Audience.MEMBERS)  # fmt: skip
    services.targets_build(actor=cast.carol.user, campaign=campaign)
    services.campaign_launch(actor=cast.carol.user, campaign=Campaign.objects.get())
    client = _client(getattr(cast, persona))
    url = reverse("campaigns:detail", args=[campaign.pk])
    _queries(client, url)
    before = _queries(client, url)
    for _ in range(15):
        for owner in (cast.alice, cast.bob):
            customer = testing.make_customer(org_unit=cast.org["440106"], owner=owner)
            CampaignTarget.objects.create(campaign=campaign, customer=customer, manager=owner,
                                          org_unit=customer.org_unit, members=4)  # fmt: skip
    assert _queries(client, url) == before
    assert _queries(client, reverse("campaigns:list")) <= before


def test_a_big_list_is_built_in_the_background_slice_by_slice(cast, settings, monkeypatch):
    settings.CAMPAIGN_INLINE_TARGETS = 1
    monkeypatch.setattr(services, "BUILD_SLICE", 1)
    campaign = services.campaign_create(actor=cast.carol.user, name="活动", starts_on=date(2026, 1, 1),
                                        ends_on=date(2026, 12, 31))  # fmt: skip
    assert services.targets_build(actor=cast.carol.user, campaign=campaign) is False
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(
        task_path="jiketong.campaigns.services.build_task", args_kwargs__args=[campaign.pk]
    ).exists()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.BUILDING
    page = _client(cast.carol).get(reverse("campaigns:detail", args=[campaign.pk]) + "?progress=1",
                                   HTTP_HX_REQUEST="true")  # fmt: skip
    assert 'hx-trigger="every 2s"' in page.content.decode()
    built = services.run_build(campaign.pk)
    assert built.status == CampaignStatus.READY and built.progress == 100
    assert built.targets_count == 3  # alice's, bob's and the backed-up customer, in carol's city


def test_an_unowned_customer_goes_to_the_nearest_supervisor(cast):
    unowned = testing.make_customer(org_unit=cast.org["440106"], name="无人认领公司")
    campaign = services.campaign_create(actor=cast.carol.user, name="活动", starts_on=date(2026, 1, 1),
                                        ends_on=date(2026, 12, 31))  # fmt: skip
    services.targets_build(actor=cast.carol.user, campaign=campaign)
    assert CampaignTarget.objects.get(campaign=campaign, customer=unowned).manager == cast.carol


def test_a_campaign_lead_whose_opportunity_is_won_converts_its_target(cast, django_capture_on_commit_callbacks):
    from jiketong.sales import services as sales
    from jiketong.sales.models import Stage

    campaign = services.campaign_create(actor=cast.carol.user, name="活动", starts_on=date(2026, 1, 1),
                                        ends_on=date(2026, 12, 31))  # fmt: skip
    services.targets_build(actor=cast.carol.user, campaign=campaign)
    services.campaign_launch(actor=cast.carol.user, campaign=Campaign.objects.get())
    target = CampaignTarget.objects.get(campaign=campaign, customer=cast.alice_customer)
    services.response_record(actor=cast.alice.user, target=target, outcome="interested", make_lead=True)
    target.refresh_from_db()
    lead = sales.lead_convert(actor=cast.alice.user, lead=target.lead, customer=cast.alice_customer,
                              expected_close=date(2026, 12, 31), amount_monthly=800)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        sales.opportunity_move(cast.alice.user, lead.opportunity, Stage.objects.get(is_won=True))
    target.refresh_from_db()
    assert target.status == TargetStatus.CONVERTED
    assert str(target.revenue) == "800.00"
