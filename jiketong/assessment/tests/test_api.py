"""The scorecard API: the same figures as the pages, scoped, closed months frozen."""

import pytest

from jiketong.assessment import services
from jiketong.org.services import token_issue

from .conftest import MONTH

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(november, client):
    services.month_compute(actor=november.frank.user, period=MONTH)

    def as_(staff):
        return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=staff.user)}"}

    return as_


def test_my_scorecard_answers_the_worked_example(november, client, api):
    body = client.get("/api/v1/assessment/scorecards/me?month=2026-11", **api(november.alice)).json()
    assert body["total"] == "67.5"
    login = next(c for c in body["components"] if c["code"] == "login")
    assert (login["actual"], login["score"], login["weight"]) == ("0.8571", "0.9523", 5)


def test_the_unit_list_is_ranked_and_scoped(november, client, api):
    body = client.get("/api/v1/assessment/scorecards?month=2026-11", **api(november.carol)).json()
    assert body["count"] == 2
    totals = [item["total"] for item in body["items"]]
    assert totals == sorted(totals, key=float, reverse=True)
    response = client.get(f"/api/v1/assessment/managers/{november.bob.pk}/scorecard", **api(november.alice))
    assert response.status_code == 404 and set(response.json()) == {"detail", "errors"}


def test_closing_through_the_api_needs_the_right_role(november, client, api):
    response = client.post(
        "/api/v1/assessment/months/close", {"month": "2026-11"}, content_type="application/json", **api(november.carol)
    )
    assert response.status_code == 403
    response = client.post(
        "/api/v1/assessment/months/close", {"month": "2026-11"}, content_type="application/json", **api(november.frank)
    )
    assert response.status_code == 200 and response.json()["status"] == "closed"
    unit = client.get(
        f"/api/v1/assessment/units/{november.org['440106'].pk}/scorecard?month=2026-11", **api(november.carol)
    ).json()
    assert unit["closed"] is True and unit["managers"] == 2


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "0000-01"])
def test_closing_a_month_that_does_not_exist_is_refused_at_the_field_in_chinese(november, client, api, month):
    response = client.post(
        "/api/v1/assessment/months/close", {"month": month}, content_type="application/json", **api(november.frank)
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"month": ["请输入月份，例如 2026-11。"]}
