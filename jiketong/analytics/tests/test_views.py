"""Dashboards, indicator tables, drill-downs, segments, exports, proposals and the API, as the personas."""

import io
import json
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from jiketong import testing
from jiketong.analytics import segments
from jiketong.analytics.models import AnalyticsRun, GradeProposal, RunStatus, SegmentPeriod, Target
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.org.models import Role
from jiketong.org.services import token_issue

from .conftest import P, month

pytestmark = pytest.mark.django_db
DASHBOARD_MAX_QUERIES = 35


def api(staff):
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=staff.user)}")


def test_supervisor_dashboard_shows_their_subtree_by_county(world, client_as):
    response = client_as(world.carol).get("/analytics/?period=2026-05")
    assert response.status_code == 200
    grouped = response.context["grouped"]
    assert {row["label"] for row in grouped.rows} == {"天河区分公司", "越秀区分公司"}
    assert response.context["kpis"].rows[0]["values"][0] == 2  # A and B in service; D is in Shenzhen
    assert "vendor/echarts.min.js" in response.content.decode()


def test_manager_gets_the_portfolio_dashboard(world, client_as):
    segments.refresh(P)
    response = client_as(world.alice).get("/analytics/?period=2026-05")
    assert response.status_code == 200
    assert response.context["portfolio"]
    names = {c.customer.name for c in response.context["rfm_top"]}
    assert names == {world.alice_customer.name, world.backed_up.name}
    assert world.bob_customer.name not in response.content.decode()


@pytest.mark.parametrize("persona", ["carol", "alice"])
def test_dashboard_queries_do_not_grow_with_customers(world, client_as, django_assert_max_num_queries, persona):
    client = client_as(getattr(world, persona))
    segments.refresh(P)
    with django_assert_max_num_queries(DASHBOARD_MAX_QUERIES):
        client.get("/analytics/?period=2026-05")
    for _ in range(30):
        customer = testing.make_customer(org_unit=world.org["440106"], owner=world.alice)
        month(customer, P, 100, members=11)
    Target.objects.create(org_unit=world.org["440100"], indicator="revenue", period_type="month", period=P, value=1)
    segments.refresh(P)
    with django_assert_max_num_queries(DASHBOARD_MAX_QUERIES):
        response = client.get("/analytics/?period=2026-05")
    assert response.context["kpis"].rows[0]["values"][0] == (2 if persona == "carol" else 1) + 30


def test_indicator_table_by_month_and_bad_input(world, client_as):
    client = client_as(world.erin)
    response = client.get("/analytics/indicators/?section=revenue&by=month&start=2026-04&period=2026-05")
    assert response.status_code == 200
    assert [row["label"] for row in response.context["table"].rows] == ["2026-04", "2026-05"]
    assert client.get("/analytics/indicators/?by=colour").status_code == 400
    assert client.get("/analytics/indicators/?period=May").status_code == 400


def test_drill_lists_the_customers_behind_a_figure_in_scope(world, client_as):
    tianhe = world.org["440106"].path
    url = f"/analytics/drill/?code=in_service&period=2026-05&by=org&key={tianhe}"
    page = client_as(world.carol).get(url).context["page"]
    assert {c.name for c in page.object_list} == {world.alice_customer.name, world.bob_customer.name}
    page = client_as(world.alice).get(url).context["page"]
    assert {c.name for c in page.object_list} == {world.alice_customer.name}
    shenzhen = client_as(world.carol).get("/analytics/drill/?code=new_customers&period=2026-05")
    assert list(shenzhen.context["page"].object_list) == []  # D is new, but in Shenzhen


def test_exports_are_logged_and_scoped(world, client_as):
    client = client_as(world.carol)
    response = client.get("/analytics/drill.xlsx?code=in_service&period=2026-05")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    names = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert names == {world.alice_customer.name, world.bob_customer.name}
    event = AuditEvent.objects.get(action=AuditAction.EXPORT, target_type="analytics.drill")
    assert event.actor == world.carol.user and event.after["count"] == 2
    for url in ("/analytics/indicators.xlsx?section=development&by=org", "/analytics/segments.xlsx?view=rfm"):
        assert client.get(url).status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).count() == 3


def test_segments_pages(world, client_as):
    client = client_as(world.alice)
    segments.refresh(P)
    rfm = client.get("/analytics/segments/?view=rfm&period=2026-05")
    assert {c.customer.name for c in rfm.context["page"].object_list} == {
        world.alice_customer.name,
        world.backed_up.name,
    }
    value = client.get("/analytics/segments/?view=value&period=2026-05&value_class=bz")
    assert value.status_code == 200
    assert all(c.value_class == "bz" for c in value.context["page"].object_list)


def test_a_month_without_segments_offers_to_compute_them_in_the_background(
    world, client_as, django_capture_on_commit_callbacks
):
    client = client_as(world.carol)
    page = client.get("/analytics/segments/?view=value&period=2026-05")
    assert page.status_code == 200 and page.context["page"] is None
    assert 'data-testid="segments-not-ready"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/analytics/segments/prepare/?period=2026-05", {"view": "rfm"})
    assert response.status_code == 302 and response["Location"].endswith("?view=rfm&period=2026-05")
    run = AnalyticsRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED and SegmentPeriod.objects.filter(period=P).exists()
    rows = client.get("/analytics/segments/?view=rfm&period=2026-05").context["page"].object_list
    assert {c.customer for c in rows} == {world.alice_customer, world.bob_customer, world.backed_up}
    card = client.get(f"/analytics/runs/{run.pk}/")
    assert card.status_code == 200 and "hx-trigger" not in card.content.decode()  # done: it stops polling


def test_a_running_run_polls_and_only_its_starter_follows_a_regrade(world, client_as):
    run = AnalyticsRun.objects.create(kind="regrade", period=P, created_by=world.carol.user, progress=40)
    card = client_as(world.carol).get(f"/analytics/runs/{run.pk}/")
    assert "hx-trigger" in card.content.decode() and "40%" in card.content.decode()
    assert client_as(world.erin).get(f"/analytics/runs/{run.pk}/").status_code == 404


def test_proposals_page_confirm_and_run(world, client_as, django_capture_on_commit_callbacks):
    client = client_as(world.carol)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/analytics/grade-proposals/run/").status_code == 302
    proposal = GradeProposal.objects.get(customer=world.alice_customer)
    listing = client.get("/analytics/grade-proposals/")
    assert proposal in listing.context["page"].object_list
    assert listing.context["run"].status == RunStatus.SUCCEEDED
    client.post(f"/analytics/grade-proposals/{proposal.pk}/decide/", {"decision": "confirm"})
    world.alice_customer.refresh_from_db()
    assert world.alice_customer.grade == proposal.new_grade
    assert client_as(world.alice).get("/analytics/grade-proposals/").status_code == 403


def test_api_indicator_values(world):
    response = api(world.carol).get("/api/v1/analytics/indicators?code=revenue&period=2026-05&by=org")
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == "3500.00" or Decimal(str(body["total"])) == Decimal(3500)
    assert {row["label"] for row in body["rows"]} == {"天河区分公司"}
    bad = api(world.carol).get("/api/v1/analytics/indicators?code=nope")
    assert bad.status_code == 400 and "code" in bad.json()["errors"]


def test_api_targets_crud_with_progress(world):
    client = api(world.erin)
    guangdong = world.org["440000"]
    body = {
        "org_unit": guangdong.pk,
        "indicator": "revenue",
        "period_type": "year",
        "period": "2026-03",
        "value": "20000",
    }
    created = client.post("/api/v1/analytics/targets", data=json.dumps(body), content_type="application/json")
    assert created.status_code == 201, created.content
    target_id = created.json()["id"]
    assert created.json()["period"] == "2026-01-01"
    detail = client.get(f"/api/v1/analytics/targets/{target_id}").json()
    # Guangdong's 2026 revenue: April 1,000 + 2,000 + 500, May 1,500 + 2,000 + 3,000 = 10,000 of 20,000.
    assert Decimal(str(detail["actual"])) == Decimal(10000)
    assert Decimal(str(detail["progress"])) == Decimal("50.0")
    duplicate = client.post("/api/v1/analytics/targets", data=json.dumps(body), content_type="application/json")
    assert duplicate.status_code == 400 and "period" in duplicate.json()["errors"]
    bad = client.post(
        "/api/v1/analytics/targets",
        data=json.dumps(body | {"indicator": "coverage_rate"}),
        content_type="application/json",
    )
    assert "indicator" in bad.json()["errors"]
    patched = client.patch(
        f"/api/v1/analytics/targets/{target_id}", data=json.dumps({"value": "40000"}), content_type="application/json"
    )
    assert patched.json()["value"] == "40000.00" or Decimal(str(patched.json()["value"])) == 40000
    assert api(world.dave).get(f"/api/v1/analytics/targets/{target_id}").status_code == 404  # Zhejiang
    assert api(world.grace).delete(f"/api/v1/analytics/targets/{target_id}").status_code == 403  # an auditor
    assert api(world.carol).get(f"/api/v1/analytics/targets/{target_id}").status_code == 404  # Guangzhou only
    assert client.delete(f"/api/v1/analytics/targets/{target_id}").status_code == 204


def test_api_targets_only_in_own_subtree_and_only_by_analysts(world):
    guangdong_analyst = testing.make_staff("ann", world.org["440000"], [Role.ANALYST])
    body = {"period_type": "month", "period": "2026-05", "value": "1", "indicator": "revenue"}
    zhejiang = json.dumps(body | {"org_unit": world.org["330000"].pk})
    response = api(guangdong_analyst).post("/api/v1/analytics/targets", data=zhejiang, content_type="application/json")
    assert response.status_code == 400 and "org_unit" in response.json()["errors"]
    guangzhou = json.dumps(body | {"org_unit": world.org["440100"].pk})
    response = api(guangdong_analyst).post("/api/v1/analytics/targets", data=guangzhou, content_type="application/json")
    assert response.status_code == 201
    response = api(world.carol).post("/api/v1/analytics/targets", data=guangzhou, content_type="application/json")
    assert response.status_code == 403  # supervisors do not set targets


def test_api_grade_proposals_confirm_and_reject(world):
    from jiketong.analytics import services

    services.regrade_run(actor=world.carol.user, period=P)
    client = api(world.carol)
    listing = client.get("/api/v1/analytics/grade-proposals").json()
    assert listing["count"] == 3
    first, second = listing["items"][0]["id"], listing["items"][1]["id"]
    assert (
        client.post(
            f"/api/v1/analytics/grade-proposals/{first}/confirm", data="{}", content_type="application/json"
        ).json()["status"]
        == "confirmed"
    )
    assert (
        client.post(
            f"/api/v1/analytics/grade-proposals/{second}/reject", data="{}", content_type="application/json"
        ).json()["status"]
        == "rejected"
    )
    assert (
        api(world.dave)
        .post(f"/api/v1/analytics/grade-proposals/{first}/reject", data="{}", content_type="application/json")
        .status_code
        == 404
    )


def test_dashboard_shows_churn_warnings_and_forecast_in_scope(world, client_as):
    from jiketong.churn.models import ChurnScore

    for customer, score in ((world.alice_customer, 80), (world.shenzhen_customer, 95)):
        ChurnScore.objects.create(customer=customer, scored_on=P, score=score, risk="high", model_version="t")
    response = client_as(world.carol).get("/analytics/?period=2026-05")
    assert [w.customer for w in response.context["warnings"]] == [world.alice_customer]
    assert response.context["forecast"].total == 0  # no open opportunities: the sales forecast is still shown


def test_a_long_segment_list_is_counted_up_to_a_cap_and_says_so(world, client_as, monkeypatch):
    from jiketong.analytics import queries

    monkeypatch.setattr(queries.CappedPaginator.__init__, "__defaults__", (2,))
    segments.refresh(P)
    page = client_as(world.erin).get("/analytics/segments/?view=rfm&period=2026-05")
    assert page.context["page"].paginator.count == 2 and page.context["page"].paginator.capped
    assert 'data-testid="list-capped"' in page.content.decode()
    few = client_as(world.alice).get("/analytics/segments/?view=rfm&period=2026-05")
    assert few.context["page"].paginator.count == 2 and not few.context["page"].paginator.capped


PAGES = [
    "/analytics/indicators/?section=categories&period=2026-05",
    "/analytics/indicators/?section=health&by=org&period=2026-05",
    "/analytics/indicators/?section=health&by=month&start=2025-06&period=2026-05",
    "/analytics/indicators/?section=coverage&by=grade&product=VNET&period=2026-05",
    "/analytics/drill/?code=integrated&period=2026-05",
    "/analytics/segments/?view=rfm&period=2026-05",
    "/analytics/segments/?view=value&value_class=bz&period=2026-05",
    "/api/v1/analytics/indicators?code=category_total&by=org&period=2026-05",
]
PAGE_MAX_QUERIES = 30  # by month on SQLite: top-10 is one query per month shown (PostgreSQL: one UNION)


@pytest.mark.parametrize("persona", ["alice", "carol", "erin"])
def test_analytics_pages_issue_the_same_few_queries_however_many_customers(world, client_as, persona):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jiketong.analytics import jobs

    staff = getattr(world, persona)
    browser, client = client_as(staff), api(staff)

    def counts() -> list[int]:
        jobs.daily(P)
        found = []
        for url in PAGES:
            visitor = client if url.startswith("/api/") else browser
            visitor.get(url)  # a first API call also notes the token's use
            with CaptureQueriesContext(connection) as queries:
                response = visitor.get(url)
            assert response.status_code == 200, url
            found.append(len(queries))
        return found

    small = counts()
    assert max(small) <= PAGE_MAX_QUERIES
    for _ in range(30):
        customer = testing.make_customer(org_unit=world.org["440106"], owner=world.alice)
        month(customer, P, 100, members=11)
    assert counts() == small


def test_the_indicator_chart_gives_each_unit_its_own_axis(world, client_as):
    """A rate (%) and an amount (yuan) on one axis draws 1200% as a bar of 1,200: each unit gets its axis."""
    response = client_as(world.carol).get("/analytics/indicators/", {"section": "revenue", "period": P})
    chart = response.context["chart"]
    units = [indicator.unit for indicator in response.context["table"].indicators]
    assert len(set(units)) > 1, units  # the section mixes units, so the rule is exercised
    assert len(chart["axes"]) == len(set(units))
    for series, unit in zip(chart["series"], units, strict=True):
        assert chart["axes"][series.get("axis", 0)]["unit"] == unit
