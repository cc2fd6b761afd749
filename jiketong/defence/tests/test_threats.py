"""The board's facts and the high-threat alert: a rival recorded in the archive or the attack log, or a rival's
contract ending within 90 days, puts the customer on the board; a high threat tells the owner and the nearest
supervisor once."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from jiketong import testing
from jiketong.core.models import Notification
from jiketong.customers import jobs as customer_jobs
from jiketong.customers.models import Competitor, CompetitorPresence, LifecycleStatus, ThreatLevel
from jiketong.customers.services import competitor_save
from jiketong.deals.models import Contract, ContractStatus
from jiketong.defence import services
from jiketong.defence.models import Threat
from jiketong.work.models import Activity, ActivityKind

from .conftest import bill

TODAY = date(2026, 11, 2)


def alerts(staff) -> list[str]:
    return list(
        Notification.objects.filter(recipient=staff.user, kind="defence_threat").values_list("title", flat=True)
    )


def record_high(cast, customer=None, competitor=Competitor.TELECOM, threat=ThreatLevel.HIGH):
    return competitor_save(
        actor=cast.alice.user, customer=customer or cast.alice_customer, competitor=competitor,
        products="互联网专线八折", threat=threat,
    )  # fmt: skip


def test_a_high_threat_recorded_tells_the_owner_and_the_nearest_supervisor_once(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        presence = record_high(cast)
    (title,) = alerts(cast.alice)  # in the site's language (the competitor's name too)
    assert "中国电信" in title and "广州地铁集团有限公司" in title
    assert len(alerts(cast.carol)) == 1
    assert alerts(cast.bob) == [] and alerts(cast.dave) == []
    with django_capture_on_commit_callbacks(execute=True):
        competitor_save(actor=cast.alice.user, customer=cast.alice_customer, presence=presence, note="又来了")
        services.attack_record(
            actor=cast.alice.user, customer=cast.alice_customer, competitor=Competitor.TELECOM, kind="visit",
            description="电信政企部上门", threat=ThreatLevel.HIGH, observed_on=timezone.localdate(),
        )  # fmt: skip
    assert len(alerts(cast.alice)) == 1 and len(alerts(cast.carol)) == 1


def test_a_medium_threat_puts_the_customer_on_the_board_without_an_alert(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record_high(cast, threat=ThreatLevel.MEDIUM)
    assert Threat.objects.get(customer=cast.alice_customer).level == ThreatLevel.MEDIUM
    assert alerts(cast.alice) == []


def test_a_threat_raised_to_high_alerts_and_a_second_rival_alerts_again(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        presence = record_high(cast, threat=ThreatLevel.MEDIUM)
        competitor_save(actor=cast.alice.user, customer=cast.alice_customer, presence=presence, threat="high")
    assert len(alerts(cast.alice)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        record_high(cast, competitor=Competitor.UNICOM)
    assert len(alerts(cast.alice)) == 2


def test_a_high_threat_action_in_the_attack_log_alerts(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.attack_record(
            actor=cast.alice.user, customer=cast.alice_customer, competitor=Competitor.UNICOM, kind="poaching",
            description="联通挖走30个成员", threat=ThreatLevel.HIGH, observed_on=timezone.localdate(),
            members_targeted=30,
        )  # fmt: skip
    (title,) = alerts(cast.alice)
    assert "中国联通" in title
    threat = Threat.objects.get(customer=cast.alice_customer)
    assert (threat.level, threat.competitor, threat.offer) == ("high", "china_unicom", "联通挖走30个成员")


def test_an_action_cannot_be_observed_in_the_future(cast):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.attack_record(
            actor=cast.alice.user, customer=cast.alice_customer, competitor=Competitor.UNICOM, kind="offer",
            description="", threat=ThreatLevel.HIGH, observed_on=timezone.localdate() + timedelta(days=1),
        )  # fmt: skip
    assert set(error.value.message_dict) == {"observed_on", "description"}


def test_a_manager_cannot_log_an_action_at_another_managers_customer(cast):
    from django.http import Http404

    with pytest.raises(Http404):
        services.attack_record(
            actor=cast.bob.user, customer=cast.alice_customer, competitor=Competitor.UNICOM, kind="offer",
            description="降价", threat=ThreatLevel.HIGH, observed_on=timezone.localdate(),
        )  # fmt: skip


def test_the_board_row_carries_the_facts_worked_example(cast, products):
    """Revenue ¥10,000 a month, medium threat (weight 0.5): value at risk = 10,000 × 12 × 0.5 = ¥60,000."""
    customer = cast.alice_customer
    bill(customer, "10000.00", members=120)
    CompetitorPresence.objects.create(
        customer=customer, competitor=Competitor.TELECOM, products="天翼云", contract_end=TODAY + timedelta(days=200),
        threat=ThreatLevel.MEDIUM,
    )  # fmt: skip
    CompetitorPresence.objects.create(
        customer=customer, competitor=Competitor.UNICOM, products="宽带", contract_end=TODAY + timedelta(days=40),
        threat=ThreatLevel.LOW,
    )  # fmt: skip
    Contract.objects.create(
        number="HT-1", customer=customer, value=Decimal("100000"), start_on=date(2025, 1, 1),
        end_on=date(2027, 3, 31), status=ContractStatus.ACTIVE,
    )  # fmt: skip
    Activity.objects.create(
        customer=customer, owner=cast.alice, subject="拜访", kind=ActivityKind.VISIT,
        happened_at=timezone.make_aware(datetime(2026, 10, 20, 10)),
    )  # fmt: skip
    services.threats_refresh(today=TODAY)
    threat = Threat.objects.get(customer=customer)
    assert threat.level == "medium" and threat.competitor == "china_telecom" and threat.offer == "天翼云"
    assert threat.competitors == 2
    assert threat.their_contract_end == TODAY + timedelta(days=40)  # the nearest rival contract end
    assert threat.our_contract_end == date(2027, 3, 31)
    assert (threat.revenue, threat.members) == (Decimal("10000.00"), 120)
    assert threat.last_visit == date(2026, 10, 20)
    assert threat.value_at_risk == Decimal("60000.00")


def test_a_low_threat_rival_is_on_the_board_only_while_its_contract_end_is_within_90_days(cast):
    presence = CompetitorPresence.objects.create(
        customer=cast.alice_customer, competitor=Competitor.TELECOM, products="专线",
        contract_end=TODAY + timedelta(days=91), threat=ThreatLevel.LOW,
    )  # fmt: skip
    services.threats_refresh(today=TODAY)
    assert not Threat.objects.exists()
    services.threats_refresh(today=TODAY + timedelta(days=1))  # exactly 90 days left
    assert Threat.objects.get().customer_id == presence.customer_id
    services.threats_refresh(today=presence.contract_end + timedelta(days=1))  # ended: off the board
    assert not Threat.objects.exists()


def test_a_rivals_contract_ending_within_90_days_boards_and_reminds_the_owner_and_supervisor_once(
    cast, django_capture_on_commit_callbacks
):
    end = TODAY + timedelta(days=80)
    CompetitorPresence.objects.create(
        customer=cast.alice_customer, competitor=Competitor.TELECOM, products="专线", contract_end=end,
        threat=ThreatLevel.LOW,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        customer_jobs.daily(TODAY)
        customer_jobs.daily(TODAY + timedelta(days=1))
    assert Threat.objects.filter(customer=cast.alice_customer).exists()
    for staff in (cast.alice, cast.carol):
        assert Notification.objects.filter(recipient=staff.user, kind="competitor_contract").count() == 1


def test_a_churned_or_prospect_customer_is_not_on_the_board(cast):
    prospect = testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice, status=LifecycleStatus.PROSPECT)
    for customer in (prospect, cast.alice_customer):
        CompetitorPresence.objects.create(customer=customer, competitor="china_telecom", products="x", threat="high")
    type(prospect).objects.filter(pk=cast.alice_customer.pk).update(status=LifecycleStatus.CHURNED)
    assert services.threats_refresh(today=TODAY) == 0


def test_the_nightly_refresh_drops_customers_no_longer_threatened(cast):
    presence = CompetitorPresence.objects.create(
        customer=cast.alice_customer, competitor="china_telecom", products="x", threat="high"
    )
    services.threats_refresh(today=TODAY)
    CompetitorPresence.objects.filter(pk=presence.pk).update(threat="low")
    services.threats_refresh(today=TODAY)
    assert not Threat.objects.exists()


def test_threat_weights_are_configurable(cast, settings):
    settings.DEFENCE_THREAT_WEIGHTS = {"high": "0.8"}
    bill(cast.alice_customer, "1000")
    CompetitorPresence.objects.create(
        customer=cast.alice_customer, competitor="china_telecom", products="x", threat="high"
    )
    services.threats_refresh(today=TODAY)
    assert Threat.objects.get().value_at_risk == Decimal("9600.00")  # 1,000 × 12 × 0.8
