"""The business calendar and the SLA policies kept in the app: the system administrator adds and removes holidays
and 调休 make-up working days and changes SLA policies through service.services; nobody else may; every step is
audited; tickets received afterwards count their deadlines on the new calendar."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from jiketong.core.models import AuditAction, AuditEvent
from jiketong.service import queries, services
from jiketong.service.models import CalendarDay, SlaPolicy

from .factories import at, receive

pytestmark = pytest.mark.django_db

PAGE = reverse("service:calendar")
ADD = reverse("service:calendar_day_add")
TUESDAY, WEDNESDAY, SATURDAY = date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 28)


def policy() -> SlaPolicy:
    return SlaPolicy.objects.get(ticket_type="complaint", grade="")


def sla_url(p: SlaPolicy) -> str:
    return reverse("service:sla_policy_edit", args=[p.pk])


# --- who may ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", ["alice", "carol", "erin", "grace"])
def test_only_administrators_change_the_calendar_and_the_sla(cast, client_as, persona):
    client = client_as(getattr(cast, persona))
    day = CalendarDay.objects.first()
    assert client.post(ADD, {"date": "2026-11-25", "kind": "holiday", "name": "测试"}).status_code == 403
    assert client.post(reverse("service:calendar_day_remove", args=[day.pk])).status_code == 403
    assert client.get(sla_url(policy())).status_code == 403
    assert client.post(sla_url(policy()), {"response_minutes": 1, "resolution_minutes": 2}).status_code == 403
    assert CalendarDay.objects.filter(pk=day.pk).exists() and not CalendarDay.objects.filter(date=WEDNESDAY).exists()
    assert policy().response_minutes == 30


def test_the_calendar_page_offers_editing_to_administrators_only(cast, client_as):
    html = client_as(cast.frank).get(PAGE).content.decode()
    assert ADD in html and sla_url(policy()) in html and "/admin/" not in html
    html = client_as(cast.alice).get(PAGE).content.decode()
    assert ADD not in html and sla_url(policy()) not in html


# --- holidays and make-up days ----------------------------------------------------------------------
def test_administrator_adds_a_holiday_audited(cast, client_as):
    response = client_as(cast.frank).post(ADD, {"date": "2026-11-25", "kind": "holiday", "name": "公司年会"})
    assert response.status_code == 302
    day = CalendarDay.objects.get(date=WEDNESDAY)
    assert not day.is_workday and day.name == "公司年会"
    event = AuditEvent.objects.get(target_type="service.calendarday", target_id=day.pk)
    assert event.action == AuditAction.CREATE and event.actor == cast.frank.user
    assert event.after == {"date": "2026-11-25", "is_workday": False, "name": "公司年会"}


def test_administrator_adds_a_make_up_working_day_on_a_weekend(cast, client_as):
    client_as(cast.frank).post(ADD, {"date": "2026-11-28", "kind": "workday", "name": "调休"})
    assert CalendarDay.objects.get(date=SATURDAY).is_workday


def test_bad_days_are_refused_at_their_fields_in_chinese(cast, client_as):
    seeded = CalendarDay.objects.filter(is_workday=False).first()
    client = client_as(cast.frank)
    response = client.post(ADD, {"date": seeded.date.isoformat(), "kind": "holiday", "name": "重复"})
    assert response.status_code == 200
    assert "已有" in response.context["day_form"].errors["date"][0]
    response = client.post(ADD, {"date": "2026-11-25", "kind": "workday", "name": "x" * 41})
    errors = response.context["day_form"].errors
    assert "工作日" in errors["date"][0]  # a make-up working day on a Wednesday changes nothing
    assert errors["name"]
    response = client.post(ADD, {"date": "", "kind": ""})
    assert {"date", "kind"} <= set(response.context["day_form"].errors)
    assert not CalendarDay.objects.filter(date=WEDNESDAY).exists()


def test_administrator_removes_a_day_audited(cast, client_as):
    day = CalendarDay.objects.filter(is_workday=True).first()
    assert client_as(cast.frank).post(reverse("service:calendar_day_remove", args=[day.pk])).status_code == 302
    assert not CalendarDay.objects.filter(pk=day.pk).exists()
    event = AuditEvent.objects.get(target_type="service.calendarday", target_id=day.pk)
    assert event.action == AuditAction.DELETE and event.before["date"] == day.date.isoformat()


def test_a_ticket_received_after_a_new_holiday_skips_it(cast, client_as, monkeypatch):
    monkeypatch.setattr(services, "_now", lambda: at(2026, 11, 24, 17, 30))
    before = receive(cast.alice, cast.alice_customer, opened_at=at(2026, 11, 24, 17, 20))
    assert timezone.localtime(before.response_due).date() == WEDNESDAY
    client_as(cast.frank).post(ADD, {"date": "2026-11-25", "kind": "holiday", "name": "公司年会"})
    after = receive(cast.alice, cast.alice_customer, opened_at=at(2026, 11, 24, 17, 20))
    assert timezone.localtime(after.response_due).date() == date(2026, 11, 26)
    before.refresh_from_db()
    assert timezone.localtime(before.response_due).date() == WEDNESDAY  # deadlines already set stay


# --- SLA policies -----------------------------------------------------------------------------------
def test_administrator_changes_an_sla_policy_audited(cast, client_as):
    p = policy()
    response = client_as(cast.frank).post(sla_url(p), {"response_minutes": 20, "resolution_minutes": 240})
    assert response.status_code == 302
    p.refresh_from_db()
    assert p.response_minutes == 20
    event = AuditEvent.objects.get(target_type="service.slapolicy", target_id=p.pk)
    assert event.before == {"response_minutes": 30} and event.after == {"response_minutes": 20}


def test_a_ticket_received_after_an_sla_change_uses_it(cast, monkeypatch):
    monkeypatch.setattr(services, "_now", lambda: at(2026, 11, 24, 10, 0))
    used = queries.sla_for("complaint", cast.alice_customer.grade)
    services.sla_policy_update(actor=cast.frank.user, policy=used, response_minutes=60, resolution_minutes=480)
    ticket = receive(cast.alice, cast.alice_customer, opened_at=at(2026, 11, 24, 9, 0))
    assert ticket.response_due == at(2026, 11, 24, 10, 0)
    assert ticket.resolve_due == at(2026, 11, 25, 10, 0)  # 8 working hours: 09:00–12:00, 13:30–17:30, 09:00–10:00


def test_bad_sla_minutes_are_refused_at_their_fields_in_chinese(cast, client_as):
    response = client_as(cast.frank).post(sla_url(policy()), {"response_minutes": 0, "resolution_minutes": ""})
    errors = response.context["form"].errors
    assert response.status_code == 200 and {"response_minutes", "resolution_minutes"} <= set(errors)
    response = client_as(cast.frank).post(sla_url(policy()), {"response_minutes": 300, "resolution_minutes": 240})
    assert "不能晚于" in response.context["form"].errors["response_minutes"][0]
    assert policy().response_minutes == 30
