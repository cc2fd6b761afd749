"""Compliance reports on worked examples: follow-ups overdue and users who stopped logging in."""

import io
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from openpyxl import load_workbook

from jiketong.core.models import AuditEvent
from jiketong.sales.models import Lead, Opportunity, Stage
from jiketong.work import queries, services

from .conftest import at

pytestmark = pytest.mark.django_db
NOW = at(2026, 6, 30, 12)


@pytest.fixture
def pipeline(cast, monkeypatch):
    """Four open records in 天河 and one in Zhejiang, followed up at different times; now is 30 June."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    stage = Stage.objects.filter(is_won=False, is_lost=False).first()
    won = Stage.objects.filter(is_won=True).first()
    unit = cast.org["440106"]
    c = cast
    c.fresh_lead = Lead.objects.create(source="visit", name="近期跟进线索", org_unit=unit, owner=c.alice)
    c.stale_lead = Lead.objects.create(source="visit", name="久未跟进线索", org_unit=unit, owner=c.alice)
    c.never_lead = Lead.objects.create(source="visit", name="从未跟进线索", org_unit=unit, owner=c.bob)
    c.closed_lead = Lead.objects.create(
        source="visit", name="已关闭线索", org_unit=unit, owner=c.bob, status="disqualified", disqualify_reason="重复"
    )
    c.zj_lead = Lead.objects.create(source="visit", name="浙江线索", org_unit=c.org["330106"])
    c.fresh_opp = Opportunity.objects.create(
        customer=c.alice_customer, name="近期商机", owner=c.alice, stage=stage, expected_close=date(2026, 9, 1)
    )
    c.stale_opp = Opportunity.objects.create(
        customer=c.bob_customer, name="久未跟进商机", owner=c.bob, stage=stage, expected_close=date(2026, 9, 1)
    )
    Opportunity.objects.create(
        customer=c.bob_customer, name="已赢商机", owner=c.bob, stage=won, expected_close=date(2026, 5, 1)
    )
    services.activity_create(c.alice.user, lead=c.fresh_lead, kind="call", happened_at=at(2026, 6, 10))
    services.activity_create(c.alice.user, lead=c.stale_lead, kind="call", happened_at=at(2026, 5, 20))
    services.activity_create(
        c.alice.user, customer=c.alice_customer, opportunity=c.fresh_opp, happened_at=at(2026, 6, 29)
    )
    services.activity_create(c.bob.user, customer=c.bob_customer, opportunity=c.stale_opp, happened_at=at(2026, 5, 1))
    return c


def test_open_leads_and_opportunities_without_a_follow_up_in_the_last_month(pipeline):
    c = pipeline
    # 30 days before 30 June is 31 May: the 20 May call is too old, the 10 June one counts.
    assert {lead.name for lead in queries.stale_leads(c.carol.user, NOW)} == {"久未跟进线索", "从未跟进线索"}
    assert {opp.name for opp in queries.stale_opportunities(c.carol.user, NOW)} == {"久未跟进商机"}
    # Bob's view: his own records only.
    assert {lead.name for lead in queries.stale_leads(c.bob.user, NOW)} == {"从未跟进线索"}


def test_users_without_login_for_two_weeks(cast, monkeypatch):
    """Alice logged in 15 days ago (reported), Bob 13 days ago (not), Ivan (深圳, not in Carol's subtree)
    never; Carol's account opened 20 days ago and was never used (reported); a disabled account is not."""
    User = get_user_model()
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    User.objects.filter(pk=cast.alice.pk).update(last_login=NOW - timedelta(days=15))
    User.objects.filter(pk=cast.bob.pk).update(last_login=NOW - timedelta(days=13))
    User.objects.filter(pk__in=[cast.carol.pk, cast.ivan.pk]).update(
        last_login=None, date_joined=NOW - timedelta(days=20)
    )
    absent = [s.name for s in queries.absent_users(cast.carol.user, NOW)]
    assert absent == [cast.carol.name, cast.alice.name]
    User.objects.filter(pk=cast.alice.pk).update(is_active=False)
    assert [s.name for s in queries.absent_users(cast.carol.user, NOW)] == [cast.carol.name]


def test_reports_are_for_supervisors_and_exports_are_logged(pipeline, client_as):
    c = pipeline
    assert client_as(c.alice).get("/work/compliance/follow-ups/").status_code == 403
    client = client_as(c.carol)
    page = client.get("/work/compliance/follow-ups/").content.decode()
    assert "久未跟进线索" in page and "近期跟进线索" not in page and "浙江线索" not in page
    response = client.get("/work/compliance/follow-ups.xlsx")
    cells = [
        cell
        for row in load_workbook(io.BytesIO(response.getvalue())).active.iter_rows(values_only=True)
        for cell in row
    ]
    assert "久未跟进商机" in cells and "近期商机" not in cells
    event = AuditEvent.objects.get(action="export", target_type="work.follow_ups")
    assert event.after["count"] == 3
    assert client.get("/work/compliance/logins.xlsx").status_code == 200
    assert AuditEvent.objects.filter(action="export", target_type="work.absent_users").exists()
    assert client.get("/work/compliance/coverage/").status_code == 200


def test_the_api_answers_the_same_reports(pipeline, client_as):
    body = client_as(pipeline.carol).get("/api/v1/compliance/follow-ups").json()
    assert body["count"] == 3
    assert {item["name"] for item in body["items"]} == {"久未跟进线索", "从未跟进线索", "久未跟进商机"}
    assert client_as(pipeline.alice).get("/api/v1/compliance/follow-ups").status_code == 403


def test_a_follow_up_recorded_from_the_report_takes_the_lead_off_it(pipeline, client_as):
    c = pipeline
    client = client_as(c.alice)
    form = client.get(f"/work/leads/{c.stale_lead.pk}/follow-up/")
    assert form.status_code == 200 and "久未跟进线索" in form.content.decode()
    response = client.post(
        f"/work/leads/{c.stale_lead.pk}/follow-up/",
        {"kind": "call", "happened_at": "2026-06-30T09:00", "notes": "电话回访"},
    )
    assert response.status_code == 302
    assert {lead.name for lead in queries.stale_leads(c.carol.user, NOW)} == {"从未跟进线索"}
    # Bob's opportunity is not Alice's to follow up: answered like a missing one.
    assert client.get(f"/work/opportunities/{c.stale_opp.pk}/follow-up/").status_code == 404
