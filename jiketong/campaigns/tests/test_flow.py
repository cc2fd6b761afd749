"""The campaign loop end to end: a supervisor's member campaign, a manager's responses, the results."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from jiketong.campaigns import queries, services
from jiketong.campaigns.models import Audience, CampaignAssignment, CampaignStatus, CampaignTarget, MemberRule
from jiketong.core.models import Notification
from jiketong.customers.models import Network
from jiketong.work.models import Task

from .helpers import members, product, subscribe


def _campaign(cast, **fields):
    today = timezone.localdate()
    values = {"name": "彩铃进万家", "starts_on": today, "ends_on": today + timedelta(days=30), "budget": 3000,
              "audience": Audience.MEMBERS, "criteria": {"member_rule": MemberRule.NO_CRBT}} | fields  # fmt: skip
    return services.campaign_create(actor=cast.carol.user, **values)


@pytest.fixture
def crbt(cast):
    item = product("CRBT", "集团彩铃", per_member=True, price="5.00")
    on_alice = members(cast.alice_customer, 5)
    subscribe(cast.alice_customer, item, on_alice[:2])  # 3 of alice's 5 lack 彩铃
    members(cast.alice_customer, 4, network=Network.OFF_NET)  # off-net members cannot take it
    members(cast.bob_customer, 2)  # both lack it
    return item


def test_a_member_campaign_lists_customers_with_the_members_it_reaches(cast, crbt):
    campaign = _campaign(cast, products=[crbt])
    assert services.targets_build(actor=cast.carol.user, campaign=campaign) is True
    campaign.refresh_from_db()
    reached = dict(CampaignTarget.objects.filter(campaign=campaign).values_list("customer_id", "members"))
    assert reached == {cast.alice_customer.pk: 3, cast.bob_customer.pk: 2}
    assert campaign.status == CampaignStatus.READY
    assert (campaign.targets_count, campaign.members_count) == (2, 5)


def test_launch_gives_each_manager_one_task_with_all_their_targets(cast, crbt):
    campaign = _campaign(cast, products=[crbt])
    services.targets_build(actor=cast.carol.user, campaign=campaign)
    assert services.campaign_launch(actor=cast.carol.user, campaign=campaign) == 2
    tasks = Task.objects.filter(owner__in=[cast.alice, cast.bob])
    assert tasks.count() == 2
    assert "1" in tasks.get(owner=cast.alice).title
    assert CampaignAssignment.objects.filter(campaign=campaign, task__isnull=False).count() == 2
    assert Notification.objects.filter(recipient=cast.alice.user, kind="campaign").count() == 1


def test_an_interested_response_becomes_a_lead_and_counts_in_the_results(
    cast, crbt, django_capture_on_commit_callbacks
):
    campaign = _campaign(cast, products=[crbt])
    services.targets_build(actor=cast.carol.user, campaign=campaign)
    services.campaign_launch(actor=cast.carol.user, campaign=campaign)
    target = CampaignTarget.objects.get(campaign=campaign, customer=cast.alice_customer)
    services.response_record(
        actor=cast.alice.user, target=target, outcome="interested", make_lead=True, note="下周报价"
    )
    target.refresh_from_db()
    assert target.lead.source == "campaign"
    assert target.lead.owner == cast.alice
    result = queries.results(cast.carol.user, campaign).total
    assert (result.reached, result.responded, result.leads, result.converted) == (1, 1, 1, 0)
    assert result.members_reached == 3


def test_a_converted_response_orders_the_product_for_the_members_reached(cast, crbt):
    campaign = _campaign(cast, products=[crbt])
    services.targets_build(actor=cast.carol.user, campaign=campaign)
    services.campaign_launch(actor=cast.carol.user, campaign=campaign)
    target = CampaignTarget.objects.get(campaign=campaign, customer=cast.alice_customer)
    services.response_record(actor=cast.alice.user, target=target, outcome="converted")
    target.refresh_from_db()
    assert target.order is not None
    assert target.order.lines.get().quantity == 3
    assert target.revenue == Decimal("15.00")  # 3 members × 5 yuan a month
    campaign.refresh_from_db()
    result = queries.results(cast.carol.user, campaign).total
    assert result.converted == 1
    assert result.cost_per_conversion == Decimal("3000.00")


def test_a_manager_cannot_record_for_another_managers_target(cast, crbt):
    from django.http import Http404

    campaign = _campaign(cast, products=[crbt])
    services.targets_build(actor=cast.carol.user, campaign=campaign)
    services.campaign_launch(actor=cast.carol.user, campaign=campaign)
    target = CampaignTarget.objects.get(campaign=campaign, customer=cast.alice_customer)
    with pytest.raises(Http404):
        services.response_record(actor=cast.bob.user, target=target, outcome="contacted")


def test_a_manager_sees_the_campaign_with_only_their_own_targets(cast, crbt):
    campaign = _campaign(cast, products=[crbt])
    services.targets_build(actor=cast.carol.user, campaign=campaign)
    assert list(queries.campaigns(cast.alice.user)) == [campaign]
    assert [t.customer for t in queries.targets(cast.alice.user, campaign)] == [cast.alice_customer]
    assert list(queries.campaigns(cast.dave.user)) == []
