"""The nightly risk-alert detector (decision 0705): each kind fires at its threshold and not below, once, routed
to the customer's manager and nearest supervisor."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone, translation

from jiketong.churn import jobs, services
from jiketong.churn.models import AlertKind, RiskAlert
from jiketong.churn.tests.helpers import bill
from jiketong.core.models import Event, Notification
from jiketong.core.notes import readable
from jiketong.customers.models import CompetitorPresence, Contact, LifecycleStatus
from jiketong.defence.models import Attack

TODAY = date(2026, 11, 20)
SEP = date(2026, 9, 1)  # the month before the latest billed month (October: November's bill is not in yet)


def raised(customer=None, kind=None) -> list[RiskAlert]:
    alerts = RiskAlert.objects.order_by("pk")
    if customer is not None:
        alerts = alerts.filter(customer=customer)
    if kind is not None:
        alerts = alerts.filter(kind=kind)
    return list(alerts)


def reason_zh(alert: RiskAlert) -> str:
    with translation.override("zh-hans"):
        return readable(alert.reason)


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


# --- members down sharply -----------------------------------------------------------------------------
def test_members_down_35_percent_raises_one_alert_with_the_reason_in_words(cast):
    bill(cast.alice_customer, SEP, [1000, 1000], members=[120, 78])
    assert services.alerts_raise(TODAY) == 1
    (alert,) = raised(cast.alice_customer)
    assert alert.kind == AlertKind.MEMBERS_DOWN
    assert alert.key == "2026-10" and alert.occurred_on == date(2026, 10, 1) and alert.raised_on == TODAY
    assert reason_zh(alert) == "成员数较上月下降 35%（120→78）"


def test_members_down_exactly_20_percent_fires_and_19_does_not(cast):
    bill(cast.alice_customer, SEP, [1000, 1000], members=[100, 80])
    bill(cast.bob_customer, SEP, [1000, 1000], members=[100, 81])
    services.alerts_raise(TODAY)
    assert [a.customer_id for a in raised(kind=AlertKind.MEMBERS_DOWN)] == [cast.alice_customer.pk]


def test_a_small_group_losing_members_is_not_an_alert(cast):
    bill(cast.alice_customer, SEP, [1000, 1000], members=[9, 4])  # under 10 members last month
    services.alerts_raise(TODAY)
    assert raised() == []


def test_the_members_threshold_follows_the_setting(cast, settings):
    settings.CHURN_ALERTS = {"members_drop_pct": 40}
    bill(cast.alice_customer, SEP, [1000, 1000], members=[120, 78])  # 35 %
    bill(cast.bob_customer, SEP, [1000, 1000], members=[100, 60])  # 40 %
    services.alerts_raise(TODAY)
    assert [a.customer_id for a in raised(kind=AlertKind.MEMBERS_DOWN)] == [cast.bob_customer.pk]


def test_an_unknown_alert_setting_fails_loudly(cast, settings):
    settings.CHURN_ALERTS = {"member_drop": 40}
    with pytest.raises(ValueError, match="member_drop"):
        services.alerts_raise(TODAY)


# --- revenue down sharply -----------------------------------------------------------------------------
def test_revenue_down_30_percent_fires_and_29_does_not(cast):
    bill(cast.alice_customer, SEP, [12000, 8400])  # 30 %
    bill(cast.bob_customer, SEP, [1000, 710])  # 29 %
    services.alerts_raise(TODAY)
    (alert,) = raised(kind=AlertKind.REVENUE_DOWN)
    assert alert.customer_id == cast.alice_customer.pk
    assert reason_zh(alert) == "收入较上月下降 30%（¥12,000.00→¥8,400.00）"


def test_a_small_bill_falling_is_not_an_alert(cast):
    bill(cast.alice_customer, SEP, [90, 0])  # under ¥100 last month
    services.alerts_raise(TODAY)
    assert raised() == []


# --- arrears beginning -------------------------------------------------------------------------------
def test_arrears_this_month_and_not_last_fire_once(cast):
    bill(cast.alice_customer, SEP, [1000, 1000], arrears=[False, True])
    bill(cast.bob_customer, SEP, [1000, 1000], arrears=[True, True])  # not beginning
    bill(cast.backed_up, SEP, [1000, 1000], arrears=[True, False])  # paid
    services.alerts_raise(TODAY)
    (alert,) = raised(kind=AlertKind.ARREARS_BEGAN)
    assert alert.customer_id == cast.alice_customer.pk
    assert reason_zh(alert) == "2026-10 开始欠费（上月无欠费）"


def test_arrears_in_the_first_billed_month_begin_too(cast):
    bill(cast.alice_customer, date(2026, 10, 1), [1000], arrears=[True])
    services.alerts_raise(TODAY)
    assert [a.kind for a in raised()] == [AlertKind.ARREARS_BEGAN]


def test_only_the_latest_billed_month_is_compared(cast):
    bill(cast.alice_customer, date(2026, 8, 1), [1000, 1000, 1000], members=[120, 60, 60])  # fell in September
    services.alerts_raise(TODAY)
    assert raised() == []


# --- a key person leaving -----------------------------------------------------------------------------
def contact(customer, *, left_on=None, key=True, title="总经理"):
    return Contact.objects.create(customer=customer, name="张伟", title=title, is_key_person=key, left_on=left_on)


def test_a_key_person_who_left_raises_one_alert(cast):
    person = contact(cast.alice_customer, left_on=TODAY - timedelta(days=3))
    contact(cast.bob_customer, left_on=TODAY - timedelta(days=3), key=False)  # not a key person
    contact(cast.backed_up, left_on=TODAY - timedelta(days=30))  # left too long ago: history
    contact(cast.shenzhen_customer)  # still there
    services.alerts_raise(TODAY)
    (alert,) = raised()
    assert (alert.kind, alert.customer_id, alert.key) == (AlertKind.KEY_PERSON_LEFT, cast.alice_customer.pk,
                                                          f"contact:{person.pk}")  # fmt: skip
    assert alert.occurred_on == TODAY - timedelta(days=3)
    assert reason_zh(alert) == "关键人 张伟（总经理）已于 2026-11-17 离职"


def test_a_key_person_left_29_days_ago_still_counts(cast):
    contact(cast.alice_customer, left_on=TODAY - timedelta(days=29), title="")
    services.alerts_raise(TODAY)
    (alert,) = raised()
    assert reason_zh(alert) == "关键人 张伟 已于 2026-10-22 离职"


# --- a complaint surge --------------------------------------------------------------------------------
def ticket(customer, staff, opened: date, type="complaint"):
    from jiketong.service.models import Ticket

    n = Ticket.objects.count() + 1
    return Ticket.objects.create(
        number=f"T{n}", type=type, customer=customer, title="信号差", owner=staff, received_by=staff,
        opened_at=at(opened), response_due=at(opened, 11), resolve_due=at(opened, 15),
    )  # fmt: skip


def test_three_complaints_in_30_days_raise_a_surge_and_two_do_not(cast):
    for days in (1, 10, 29):
        ticket(cast.alice_customer, cast.alice, TODAY - timedelta(days=days))
    for days in (1, 10):
        ticket(cast.bob_customer, cast.bob, TODAY - timedelta(days=days))
    ticket(cast.bob_customer, cast.bob, TODAY - timedelta(days=30))  # outside the 30 days
    ticket(cast.bob_customer, cast.bob, TODAY - timedelta(days=2), type="inquiry")
    services.alerts_raise(TODAY)
    (alert,) = raised()
    assert (alert.kind, alert.customer_id) == (AlertKind.COMPLAINT_SURGE, cast.alice_customer.pk)
    assert alert.occurred_on == TODAY - timedelta(days=1)
    assert reason_zh(alert) == "近 30 天 3 起投诉"


def test_a_lasting_surge_is_not_raised_again_the_next_nights(cast):
    for days in (1, 2, 3):
        ticket(cast.alice_customer, cast.alice, TODAY - timedelta(days=days))
    assert services.alerts_raise(TODAY) == 1
    ticket(cast.alice_customer, cast.alice, TODAY)
    assert services.alerts_raise(TODAY + timedelta(days=1)) == 0
    assert services.alerts_raise(TODAY + timedelta(days=12)) == 0


def test_the_complaint_threshold_follows_the_setting(cast, settings):
    settings.CHURN_ALERTS = {"complaints": 2, "complaint_days": 7}
    for days in (1, 6):
        ticket(cast.alice_customer, cast.alice, TODAY - timedelta(days=days))
    for days in (1, 7):
        ticket(cast.bob_customer, cast.bob, TODAY - timedelta(days=days))
    services.alerts_raise(TODAY)
    assert [a.customer_id for a in raised()] == [cast.alice_customer.pk]


# --- a competitor's high threat -----------------------------------------------------------------------
def test_a_high_threat_presence_or_attack_raises_once_each(cast):
    presence = CompetitorPresence.objects.create(
        customer=cast.alice_customer, competitor="china_telecom", products="专线", threat="high"
    )
    CompetitorPresence.objects.create(customer=cast.bob_customer, competitor="china_unicom", products="宽带")
    attack = Attack.objects.create(
        customer=cast.bob_customer, competitor="china_unicom", kind="price", description="专线五折",
        threat="high", observed_on=TODAY - timedelta(days=2),
    )  # fmt: skip
    Attack.objects.create(
        customer=cast.backed_up, competitor="china_unicom", kind="price", description="专线八折",
        threat="medium", observed_on=TODAY - timedelta(days=2),
    )  # fmt: skip
    services.alerts_raise(TODAY)
    alerts = raised()
    assert [(a.customer_id, a.key) for a in alerts] == [
        (cast.alice_customer.pk, f"presence:{presence.pk}"),
        (cast.bob_customer.pk, f"attack:{attack.pk}"),
    ]
    assert reason_zh(alerts[0]) == "记录到中国电信的高威胁：专线"
    assert services.alerts_raise(TODAY + timedelta(days=1)) == 0


# --- once, scope of the watch, routing -------------------------------------------------------------------
def test_running_the_job_again_raises_nothing_new(cast):
    bill(cast.alice_customer, SEP, [12000, 6000], members=[120, 78], arrears=[False, True])
    contact(cast.alice_customer, left_on=TODAY - timedelta(days=1))
    assert services.alerts_raise(TODAY) == 4
    assert services.alerts_raise(TODAY) == 0
    assert services.alerts_raise(TODAY + timedelta(days=5)) == 0
    assert RiskAlert.objects.count() == 4
    assert Event.objects.filter(name="churn.alert_raised").count() == 4


def test_the_nightly_job_raises_the_alerts_after_scoring(cast):
    bill(cast.alice_customer, SEP, [1000, 1000], members=[120, 78])
    assert jobs.daily(TODAY).endswith("; risk alerts raised: 1")
    assert jobs.daily(TODAY).endswith("; risk alerts raised: 0")


def test_churned_and_prospect_customers_raise_nothing(cast):
    type(cast.alice_customer).objects.filter(pk=cast.alice_customer.pk).update(status=LifecycleStatus.CHURNED)
    type(cast.bob_customer).objects.filter(pk=cast.bob_customer.pk).update(status=LifecycleStatus.PROSPECT)
    for customer in (cast.alice_customer, cast.bob_customer):
        bill(customer, SEP, [1000, 0], members=[120, 0], arrears=[False, True])
        contact(customer, left_on=TODAY - timedelta(days=1))
    services.alerts_raise(TODAY)
    assert raised() == []


def test_an_alert_is_routed_to_the_manager_and_the_nearest_supervisor(cast, django_capture_on_commit_callbacks):
    bill(cast.alice_customer, SEP, [1000, 1000], members=[120, 78])
    bill(cast.backed_up, SEP, [1000, 1000], members=[120, 78])
    bill(cast.zhejiang_customer, SEP, [1000, 1000], members=[120, 78])  # no manager
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_raise(TODAY)
    routes = {a.customer_id: (a.owner_id, a.supervisor_id) for a in raised()}
    assert routes == {
        cast.alice_customer.pk: (cast.alice.pk, cast.carol.pk),
        cast.backed_up.pk: (cast.bob.pk, cast.carol.pk),
        cast.zhejiang_customer.pk: (None, cast.dave.pk),
    }
    told = sorted(Notification.objects.filter(kind="risk_alert").values_list("recipient__username", "customer_id"))
    assert told == sorted([
        ("alice", cast.alice_customer.pk), ("carol", cast.alice_customer.pk), ("bob", cast.backed_up.pk),
        ("carol", cast.backed_up.pk), ("dave", cast.zhejiang_customer.pk),
    ])  # fmt: skip
    note = Notification.objects.get(recipient=cast.alice.user)
    assert note.title == "风险提醒：广州地铁集团有限公司 — 成员数骤降"
    assert note.body == "成员数较上月下降 35%（120→78）"


def test_each_alert_is_told_once(cast, django_capture_on_commit_callbacks):
    bill(cast.alice_customer, SEP, [1000, 1000], members=[120, 78])
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_raise(TODAY)
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_raise(TODAY)
    from jiketong.churn.reactions import notify_alert_raised

    notify_alert_raised(Event.objects.get(name="churn.alert_raised"))  # a second handling of the same event
    assert Notification.objects.filter(kind="risk_alert").count() == 2  # alice and carol, once each


def test_a_high_threat_alert_is_not_told_twice(cast, django_capture_on_commit_callbacks):
    """The defence app tells the owner and supervisor when the high threat is recorded; the alert only lists it."""
    CompetitorPresence.objects.create(
        customer=cast.alice_customer, competitor="china_telecom", products="专线", threat="high"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.alerts_raise(TODAY)
    assert len(raised()) == 1
    assert not Notification.objects.filter(kind="risk_alert").exists()


def test_no_personal_data_travels_in_the_event(cast):
    Contact.objects.create(customer=cast.alice_customer, name="张伟", is_key_person=True, mobile="13800138000",
                           left_on=TODAY - timedelta(days=1))  # fmt: skip
    services.alerts_raise(TODAY)
    event = Event.objects.get(name="churn.alert_raised")
    assert "13800138000" not in str(event.payload)
    assert set(event.payload) == {"alert", "kind", "reason"}


def test_the_detector_runs_by_hand(cast):
    from io import StringIO

    from django.core.management import call_command

    bill(cast.alice_customer, SEP, [1000, 1000], members=[120, 78])
    out = StringIO()
    call_command("churn", "alerts", "--at", TODAY.isoformat(), stdout=out)
    assert "risk alerts raised: 1" in out.getvalue()
