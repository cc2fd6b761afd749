"""The defence pages: the board (scoped, filtered, paged in the database with a bounded number of queries,
exported and logged), the customer's defence page, the forms, the win-back list and the report."""

import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jiketong import testing
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.customers.models import Customer
from jiketong.defence.models import Plan, Threat

BOARD = reverse("defence:board")


def threaten(customer, value="1000", level="high"):
    return Threat.objects.create(customer=customer, level=level, competitor="china_telecom", offer="专线八折",
                                 value_at_risk=value, last_visit=timezone.localdate() - timedelta(days=12))  # fmt: skip


@pytest.fixture
def board(cast):
    threaten(cast.alice_customer, "90000")
    threaten(cast.bob_customer, "50000", level="medium")
    threaten(cast.zhejiang_customer, "70000")
    return cast


def names(response) -> list[str]:
    return [t.customer.name for t in response.context["page"].object_list]


def test_the_board_lists_the_users_customers_by_value_at_risk(client_as, board):
    assert names(client_as(board.carol).get(BOARD)) == [board.alice_customer.name, board.bob_customer.name]
    assert names(client_as(board.alice).get(BOARD)) == [board.alice_customer.name]
    assert names(client_as(board.dave).get(BOARD)) == [board.zhejiang_customer.name]


def test_the_board_shows_days_since_our_last_visit(client_as, board):
    body = client_as(board.alice).get(BOARD).content.decode()
    assert ">12<" in body and "专线八折" in body


def test_the_board_filters_by_level_grade_and_plan(client_as, board):
    client = client_as(board.carol)
    assert names(client.get(BOARD, {"level": "medium"})) == [board.bob_customer.name]
    Customer.objects.filter(pk=board.alice_customer.pk).update(grade="A1")
    assert names(client.get(BOARD, {"grade": "A"})) == [board.alice_customer.name]
    Plan.objects.create(customer=board.bob_customer, competitor="china_telecom", owner=board.bob, due_on=date.today())
    assert names(client.get(BOARD, {"plan": "yes"})) == [board.bob_customer.name]
    assert names(client.get(BOARD, {"plan": "no"})) == [board.alice_customer.name]


def test_a_region_outside_the_users_subtree_is_a_field_error(client_as, board):
    assert client_as(board.carol).get(BOARD, {"region": "330000"}).context["filter"].errors["region"]


def test_board_queries_do_not_grow_with_rows(client_as, cast, django_assert_max_num_queries):
    for i in range(3):
        threaten(testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice), str(1000 + i))
    client = client_as(cast.carol)
    client.get(BOARD)  # warm the session
    with django_assert_max_num_queries(12) as small:
        client.get(BOARD)
    for i in range(30):
        threaten(testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice), str(2000 + i))
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(BOARD)
    assert len(response.context["page"].object_list) == 20


def test_htmx_filter_answers_the_table_only(client_as, board):
    body = client_as(board.carol).get(BOARD, {"level": "high"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="board-table"' in body and "<html" not in body


def test_the_export_is_scoped_and_logged(client_as, board):
    from openpyxl import load_workbook

    response = client_as(board.alice).get(reverse("defence:export"), {"level": "high"})
    content = b"".join(response.streaming_content)
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert [row[1] for row in rows[1:]] == [board.alice_customer.name]
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert event.target_type == "defence.threat" and event.after == {"count": 1, "filters": "level=high"}


def test_a_manager_records_an_action_and_opens_and_closes_a_plan(client_as, cast, django_capture_on_commit_callbacks):
    client = client_as(cast.alice)
    customer = cast.alice_customer
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("defence:attack_create", args=[customer.pk]),
            {"competitor": "china_unicom", "kind": "price", "description": "联通专线六折", "threat": "high",
             "observed_on": timezone.localdate().isoformat()},
        )  # fmt: skip
    assert response.status_code == 302
    assert Threat.objects.get(customer=customer).offer == "联通专线六折"
    response = client.post(
        reverse("defence:plan_create", args=[customer.pk]),
        {
            "competitor": "china_unicom",
            "due_on": (timezone.localdate() + timedelta(days=20)).isoformat(),
            "goal": "保住",
        },
    )
    plan = Plan.objects.get()
    assert response.url == reverse("defence:plan", args=[plan.pk]) and plan.owner == cast.alice
    client.post(
        reverse("defence:countermeasure_create", args=[plan.pk]),
        {"kind": "executive_visit", "description": "总经理拜访", "due_on": timezone.localdate().isoformat()},
    )
    item = plan.countermeasures.get()
    client.post(reverse("defence:countermeasure_status", args=[item.pk]), {"status": "done"})
    item.refresh_from_db()
    assert item.status == "done" and item.done_on == timezone.localdate()
    response = client.post(reverse("defence:plan_close", args=[plan.pk]), {"outcome": "kept"})
    plan.refresh_from_db()
    assert response.status_code == 302 and (plan.status, plan.outcome) == ("closed", "kept")
    page = client.get(reverse("defence:customer", args=[customer.pk])).content.decode()
    assert "联通专线六折" in page


def test_a_close_form_error_is_shown_at_its_field(client_as, cast):
    plan = Plan.objects.create(customer=cast.alice_customer, competitor="china_telecom", owner=cast.alice,
                               due_on=date.today())  # fmt: skip
    response = client_as(cast.alice).post(reverse("defence:plan_close", args=[plan.pk]), {"outcome": "partly"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"revenue_kept", "revenue_lost"}


def test_an_analyst_reads_the_board_but_gets_no_forms(client_as, board):
    client = client_as(board.erin)
    assert client.get(BOARD).status_code == 200
    assert client.get(reverse("defence:plan_create", args=[board.alice_customer.pk])).status_code == 403


def test_the_report_and_the_win_back_list_answer(client_as, board):
    client = client_as(board.carol)
    assert client.get(reverse("defence:report"), {"start": "2026-01", "end": "2026-10"}).status_code == 200
    assert client.get(reverse("defence:report"), {"start": "nonsense"}).status_code == 200
    assert client.get(reverse("defence:winback")).status_code == 200
    assert client.get(reverse("defence:plans")).status_code == 200


def test_the_360_panel_shows_the_threat(client_as, board):
    body = client_as(board.alice).get(reverse("customers:detail", args=[board.alice_customer.pk])).content.decode()
    assert 'id="defence-panel"' in body


def test_the_api_lists_threats_in_scope(client_as, board):
    response = client_as(board.alice).get("/api/v1/defence/threats")
    assert [row["customer_name"] for row in response.json()["items"]] == [board.alice_customer.name]
