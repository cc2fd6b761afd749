"""Pages and API: scope, forms with field errors, and bounded query counts."""

import pytest
from django.conf import settings
from django.urls import reverse

from jiketong.service import services
from jiketong.service.models import Ticket

from .factories import at, receive

pytestmark = pytest.mark.django_db


def en(client):
    """The client as a user who picked English with the language switch (pages ignore Accept-Language)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _many(cast, n):
    return [receive(cast.alice, cast.alice_customer, opened_at=at(2026, 11, 20, 9), title=f"问题{i}") for i in range(n)]


@pytest.mark.parametrize("url_name", ["service:ticket_list", "service:breach_board"])
def test_lists_have_bounded_queries(cast, client_as, django_assert_max_num_queries, url_name):
    client = client_as(cast.carol)
    _many(cast, 3)
    with django_assert_max_num_queries(14) as few:
        assert client.get(reverse(url_name)).status_code == 200
    _many(cast, 30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse(url_name))
    assert response.status_code == 200


def test_ticket_detail_has_bounded_queries(cast, client_as, django_assert_max_num_queries):
    ticket = receive(cast.alice, cast.alice_customer)
    client = client_as(cast.alice)
    with django_assert_max_num_queries(16) as few:
        client.get(reverse("service:ticket_detail", args=[ticket.pk]))
    for i in range(10):
        services.transfer_request(actor=cast.alice.user, ticket=ticket, to=cast.bob, reason=f"理由{i}")
        services.transfer_decline(actor=cast.bob.user, ticket=ticket, reason="不接")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("service:ticket_detail", args=[ticket.pk]))
    assert response.status_code == 200 and "不接" in response.content.decode()


def test_out_of_scope_ticket_is_404_like_a_missing_one(cast, client_as):
    ticket = receive(cast.bob, cast.bob_customer)
    client = client_as(cast.alice)
    assert client.get(reverse("service:ticket_detail", args=[ticket.pk])).status_code == 404
    assert client.get(reverse("service:ticket_detail", args=[987654])).status_code == 404
    assert client.post(reverse("service:ticket_respond", args=[ticket.pk])).status_code == 404
    assert client_as(cast.carol).get(reverse("service:ticket_detail", args=[ticket.pk])).status_code == 200


def test_ticket_list_is_scoped(cast, client_as):
    receive(cast.bob, cast.bob_customer, title="鲍勃的问题")
    receive(cast.alice, cast.alice_customer, title="爱丽丝的问题")
    body = client_as(cast.alice).get(reverse("service:ticket_list")).content.decode()
    assert "爱丽丝的问题" in body and "鲍勃的问题" not in body


def test_breach_board_is_for_supervisors(cast, client_as):
    assert client_as(cast.alice).get(reverse("service:breach_board")).status_code == 403
    assert client_as(cast.carol).get(reverse("service:breach_board")).status_code == 200


def test_new_ticket_from_the_customer_page(cast, client_as):
    client = client_as(cast.alice)
    url = reverse("service:ticket_create", args=[cast.alice_customer.pk])
    response = en(client).post(url, {"type": "complaint", "channel": "hotline", "priority": "high", "title": ""})
    assert response.status_code == 200 and 'data-field-error="title"' in response.content.decode()
    response = client.post(url, {"type": "complaint", "channel": "hotline", "priority": "high", "title": "断网"})
    ticket = Ticket.objects.get(title="断网")
    assert response.url == reverse("service:ticket_detail", args=[ticket.pk])
    assert ticket.owner == cast.alice
    assert client_as(cast.alice).get(reverse("service:ticket_create", args=[cast.bob_customer.pk])).status_code == 404


def test_transfer_form_shows_the_missing_reason_on_its_field(cast, client_as):
    ticket = receive(cast.alice, cast.backed_up)
    client = client_as(cast.alice)
    url = reverse("service:ticket_transfer", args=[ticket.pk])
    response = en(client).post(url, {"transfer-to": cast.bob.pk, "transfer-reason": ""})
    assert response.status_code == 400
    assert 'data-field-error="reason"' in response.content.decode()
    client.post(url, {"transfer-to": cast.bob.pk, "transfer-reason": "客户归王强"})
    response = client_as(cast.bob).post(reverse("service:ticket_accept", args=[ticket.pk]))
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.owner == cast.bob


def test_customer_panel_lists_open_tickets(cast, client_as):
    receive(cast.alice, cast.alice_customer, title="面板里的工单")
    body = client_as(cast.alice).get(reverse("customers:detail", args=[cast.alice_customer.pk])).content.decode()
    assert "面板里的工单" in body and reverse("service:ticket_create", args=[cast.alice_customer.pk]) in body


def test_quadrant_page_draws_the_chart(cast, client_as):
    from datetime import date

    answers = {"network": (5, 4), "service": (4, 2), "price": (2, 2), "product": (2, 5), "manager": (4, 4)}
    services.survey_create(
        actor=cast.alice.user,
        customer=cast.alice_customer,
        period="2026-Q4",
        surveyed_on=date(2026, 11, 2),
        answers=answers,
    )
    body = en(client_as(cast.carol)).get(reverse("service:quadrant")).content.decode()
    assert body.count("<circle") == 5 and 'data-quadrant="fix_first"' in body
    assert "Churn driver: fix first" in body
    assert "data-quadrant" not in client_as(cast.dave).get(reverse("service:quadrant")).content.decode()


def test_api_receive_and_work_a_ticket(cast, client_as):
    client = client_as(cast.alice)
    payload = {"customer": cast.alice_customer.pk, "type": "fault", "channel": "email", "title": "专线中断"}
    response = client.post("/api/v1/tickets", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    ticket_id = response.json()["id"]
    response = client.post(f"/api/v1/tickets/{ticket_id}/resolve", {"resolution": ""}, content_type="application/json")
    assert response.status_code == 400 and "resolution" in response.json()["errors"]
    response = client.post(
        f"/api/v1/tickets/{ticket_id}/resolve", {"resolution": "已修复"}, content_type="application/json"
    )
    assert response.json()["status"] == "resolved"
    assert client_as(cast.bob).get(f"/api/v1/tickets/{ticket_id}").status_code == 404
    assert client.get("/api/v1/tickets").json()["count"] == 1


def test_customer_panel_costs_at_most_two_queries(cast, rf, django_assert_max_num_queries):
    from jiketong.org.models import staff_of
    from jiketong.service.panels import customer_panel

    for i in range(12):
        receive(cast.alice, cast.alice_customer, title=f"工单{i}")
    request = rf.get("/")
    request.user = cast.alice.user
    staff_of(request.user)  # loaded once per request by the page already
    with django_assert_max_num_queries(2):
        panel = customer_panel(request, cast.alice_customer)
    assert panel["open_ticket_count"] == 12 and len(panel["open_tickets"]) == 10


def test_survey_pages_and_api(cast, client_as):
    client = client_as(cast.alice)
    url = reverse("service:survey_create", args=[cast.alice_customer.pk])
    data = {"period": "2026Q4", "surveyed_on": "2026-11-02"}
    data |= {
        f"{d}_{k}": 3
        for d in ("network", "service", "price", "product", "manager")
        for k in ("importance", "satisfaction")
    }
    response = en(client).post(url, data)
    assert 'data-field-error="period"' in response.content.decode()
    response = client.post(url, data | {"period": "2026-Q4"})
    assert response.status_code == 302
    assert "2026-Q4" in client.get(reverse("service:survey_list")).content.decode()
    assert client_as(cast.bob).get(response.url).status_code == 404
    api = client.get("/api/v1/surveys").json()
    assert api["count"] == 1 and api["items"][0]["answers"]["price"] == [3, 3]
    quadrant = client.get("/api/v1/satisfaction/quadrant?period=2026-Q4").json()
    assert {p["quadrant"] for p in quadrant["points"]} == {"advantage"}


def test_calendar_page_lists_coming_exceptions_and_policies(cast, client_as):
    from datetime import timedelta

    from django.utils import timezone

    from jiketong.service.models import CalendarDay

    day = timezone.localdate() + timedelta(days=3)
    CalendarDay.objects.update_or_create(date=day, defaults={"is_workday": True, "name": "测试调休日"})
    body = en(client_as(cast.alice)).get(reverse("service:calendar")).content.decode()
    assert "测试调休日" in body and "Complaint" in body
