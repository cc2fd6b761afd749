"""The warning list, its export, the 360 panel, the one-click retention task, and the API."""

from datetime import date

import pytest
from django.urls import reverse

from jiketong import testing
from jiketong.churn.models import ChurnScore, Reason
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.work.models import Task, TaskKind

LIST = reverse("churn:warnings")


def score(customer, value=70, risk="high", reasons=None):
    reasons = reasons if reasons is not None else [{"code": "arrears", "months": 2}]
    flags = sum(Reason(r["code"]).bit for r in reasons)
    return ChurnScore.objects.create(
        customer=customer, scored_on=date(2026, 6, 1), score=value, risk=risk, reasons=reasons, flags=flags,
        model_version="rules",
    )  # fmt: skip


@pytest.fixture
def scored(cast):
    score(cast.alice_customer, 80, reasons=[{"code": "revenue_down", "months": 3, "pct": -35}])
    score(cast.bob_customer, 50, "medium", [{"code": "contract_expiring", "days": 45}])
    score(cast.backed_up, 20, "low", [])
    score(cast.shenzhen_customer, 90)
    score(cast.zhejiang_customer, 95)
    return cast


def names(response) -> list[str]:
    return [s.customer.name for s in response.context["page"].object_list]


def test_manager_sees_own_portfolio_by_score(client_as, scored):
    response = client_as(scored.alice).get(LIST)
    assert names(response) == [scored.alice_customer.name, scored.backed_up.name]


def test_supervisor_sees_the_subtree(client_as, scored):
    response = client_as(scored.carol).get(LIST)
    assert names(response) == [scored.alice_customer.name, scored.bob_customer.name, scored.backed_up.name]


def test_reasons_are_in_chinese_by_default(client_as, scored):
    response = client_as(scored.alice).get(LIST)
    assert "收入连续3个月下降（-35%）" in response.content.decode()


def test_filters_by_risk_reason_and_region(client_as, scored):
    client = client_as(scored.carol)
    assert names(client.get(LIST, {"risk": "medium"})) == [scored.bob_customer.name]
    assert names(client.get(LIST, {"reason": "contract_expiring"})) == [scored.bob_customer.name]
    assert names(client.get(LIST, {"region": "440104"})) == [scored.backed_up.name]


def test_a_region_outside_the_users_subtree_is_a_field_error(client_as, scored):
    response = client_as(scored.carol).get(LIST, {"region": "330000"})
    assert response.context["filter"].errors["region"]


def test_list_queries_do_not_grow_with_rows(client_as, cast, django_assert_max_num_queries):
    for _ in range(3):
        score(testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice))
    client = client_as(cast.carol)
    client.get(LIST)  # warm the session
    with django_assert_max_num_queries(12) as small:
        client.get(LIST)
    for _ in range(30):
        score(testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice))
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(LIST)
    assert len(response.context["page"].object_list) == 20


def test_htmx_filter_answers_the_table_only(client_as, scored):
    response = client_as(scored.carol).get(LIST, {"risk": "high"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="warning-table"' in body and "<html" not in body


def test_export_is_scoped_and_logged(client_as, scored):
    import io

    from openpyxl import load_workbook

    response = client_as(scored.alice).get(reverse("churn:export"), {"risk": "high"})
    rows = list(load_workbook(io.BytesIO(response.getvalue())).active.iter_rows(values_only=True))
    assert [row[1] for row in rows[1:]] == [scored.alice_customer.name]
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert event.after == {"count": 1, "filters": "risk=high"}


# --- 360 panel ----------------------------------------------------------------------------------------
def test_360_panel_shows_the_latest_score(client_as, scored):
    response = client_as(scored.alice).get(reverse("customers:detail", args=[scored.alice_customer.pk]))
    body = response.content.decode()
    assert 'id="churn-panel"' in body and "收入连续3个月下降" in body


def test_360_panel_costs_one_query(rf, scored):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jiketong.churn.panels import customer_panel
    from jiketong.org.models import staff_of

    request = rf.get("/")
    request.user = scored.alice.user
    staff_of(request.user)  # loaded once per request by the page anyway
    with CaptureQueriesContext(connection) as queries:
        panel = customer_panel(request, scored.alice_customer)
    assert len(queries) == 1
    assert panel["score"].score == 80


# --- retention task -----------------------------------------------------------------------------------
def test_one_click_creates_one_retention_task_for_the_owner(client_as, scored):
    url = reverse("churn:retention_task", args=[scored.bob_customer.pk])
    client = client_as(scored.carol)
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "retention-task" in response.content.decode()
    task = Task.objects.get(customer=scored.bob_customer)
    assert (task.owner, task.kind) == (scored.bob, TaskKind.RETENTION)
    assert "Contract expires in 45 days" in task.note or "合同将于45天后到期" in task.note
    client.post(url, HTTP_HX_REQUEST="true")
    assert Task.objects.filter(customer=scored.bob_customer).count() == 1


def test_a_new_task_after_the_last_one_is_done(client_as, scored):
    url = reverse("churn:retention_task", args=[scored.alice_customer.pk])
    client = client_as(scored.alice)
    client.post(url)
    Task.objects.filter(customer=scored.alice_customer).update(status="done")
    client.post(url)
    assert Task.objects.filter(customer=scored.alice_customer, status="open").count() == 1


def test_retention_task_out_of_scope_is_404(client_as, scored):
    response = client_as(scored.alice).post(reverse("churn:retention_task", args=[scored.bob_customer.pk]))
    assert response.status_code == 404
    assert not Task.objects.exists()


def test_an_analyst_cannot_create_retention_tasks(client_as, scored):
    response = client_as(scored.erin).post(reverse("churn:retention_task", args=[scored.alice_customer.pk]))
    assert response.status_code == 403
    assert not Task.objects.exists()


def test_the_list_shows_an_open_task_instead_of_the_button(client_as, scored):
    client = client_as(scored.alice)
    client.post(reverse("churn:retention_task", args=[scored.alice_customer.pk]))
    rows = client.get(LIST).context["page"].object_list
    assert [s.has_task for s in rows] == [True, False]


# --- API ----------------------------------------------------------------------------------------------
def api(staff):
    from django.test import Client

    from jiketong.org.services import token_issue

    return Client(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=staff.user)}")


def test_api_lists_scoped_warnings_with_reasons_in_words(scored):
    response = api(scored.alice).get("/api/v1/churn/warnings", HTTP_ACCEPT_LANGUAGE="en")
    items = response.json()["items"]
    assert [i["customer"] for i in items] == [scored.alice_customer.pk, scored.backed_up.pk]
    assert items[0]["reasons"] == [{"code": "revenue_down", "text": "Revenue down 3 months running (-35%)"}]


def test_api_bad_filter_is_400_on_the_field(scored):
    response = api(scored.alice).get("/api/v1/churn/warnings", {"risk": "extreme"})
    assert response.status_code == 400 and "risk" in response.json()["errors"]


def test_api_score_of_an_out_of_scope_customer_is_404(scored):
    assert api(scored.alice).get(f"/api/v1/churn/customers/{scored.bob_customer.pk}").status_code == 404
    assert api(scored.alice).get(f"/api/v1/churn/customers/{scored.alice_customer.pk}").status_code == 200


def test_api_retention_task_is_idempotent(scored):
    client = api(scored.alice)
    url = f"/api/v1/churn/customers/{scored.alice_customer.pk}/retention-task"
    first = client.post(url, content_type="application/json")
    second = client.post(url, content_type="application/json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"] and second.json()["created"] is False
