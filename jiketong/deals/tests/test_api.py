"""The deals API: the same rules as the pages, JSON errors of one shape, 409 for impossible order states."""

import json

import pytest
from django.test import Client

from jiketong.catalog.models import Subscription
from jiketong.core.models import AuditEvent
from jiketong.deals import services
from jiketong.deals.models import OrderStatus, QuoteStatus
from jiketong.deals.tests.conftest import make_quote
from jiketong.org.services import token_issue

pytestmark = pytest.mark.django_db


def api(staff) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=staff.user)}", HTTP_ACCEPT_LANGUAGE="en")


def post(client, url, body=None):
    return client.post(f"/api/v1{url}", data=json.dumps(body or {}), content_type="application/json")


def test_build_submit_and_approve_a_quote(deals):
    alice, carol = api(deals.alice), api(deals.carol)
    quote = post(alice, "/quotes", {"customer": deals.alice_customer.pk, "title": "专线报价"})
    assert quote.status_code == 201
    qid = quote.json()["id"]
    line = post(alice, f"/quotes/{qid}/lines", {"product": deals.line.pk, "quantity": 2, "discount_pct": "25"})
    assert line.status_code == 201 and line.json()["total"] == "3000.00"
    submitted = post(alice, f"/quotes/{qid}/submit").json()
    assert (submitted["status"], submitted["required_level"]) == ("pending", "province")
    assert carol.get("/api/v1/approvals").json()["count"] == 0
    assert api(deals.hank).get("/api/v1/approvals").json()["items"][0]["id"] == qid
    refused = post(carol, f"/quotes/{qid}/approve")
    assert refused.status_code == 403
    rejected = post(api(deals.hank), f"/quotes/{qid}/reject", {"comment": ""})
    assert rejected.status_code == 400 and "comment" in rejected.json()["errors"]
    assert post(api(deals.hank), f"/quotes/{qid}/approve").json()["status"] == QuoteStatus.APPROVED


def test_changing_an_approved_quote_answers_400_and_a_new_version_works(deals, quote_at):
    quote = quote_at("0")
    client = api(deals.alice)
    response = post(client, f"/quotes/{quote.pk}/lines", {"product": deals.vnet.pk})
    assert response.status_code == 400
    assert "new version" in response.json()["errors"]["__all__"][0]
    patch = client.patch(f"/api/v1/quotes/{quote.pk}", data='{"title": "x"}', content_type="application/json")
    assert patch.status_code == 400
    new = post(client, f"/quotes/{quote.pk}/new-version")
    assert new.status_code == 201 and new.json()["previous"] == quote.pk and new.json()["version"] == 2


def test_out_of_scope_quote_is_404(deals, quote_at):
    quote = quote_at("0")
    assert api(deals.bob).get(f"/api/v1/quotes/{quote.pk}").status_code == 404
    assert post(api(deals.bob), "/quotes", {"customer": deals.alice_customer.pk}).status_code == 400


def test_contract_create_and_renew(deals, quote_at):
    quote = quote_at("0")
    client = api(deals.alice)
    body = {"customer": deals.alice_customer.pk, "quote": quote.pk, "start_on": "2026-01-01", "end_on": "2026-12-31"}
    contract = post(client, "/contracts", body).json()
    assert contract["value"] == "12000.00" and contract["status"] == "draft"
    assert post(client, f"/contracts/{contract['id']}/activate").json()["status"] == "active"
    renewal = post(client, f"/contracts/{contract['id']}/renew")
    assert renewal.status_code == 201 and renewal.json()["previous"] == contract["id"]
    assert client.get(f"/api/v1/contracts/{contract['id']}").json()["status"] == "renewed"
    listed = client.get("/api/v1/contracts?status=active").json()
    assert [c["id"] for c in listed["items"]] == [renewal.json()["id"]]


@pytest.fixture
def order(deals):
    quote = services.quote_submit(
        actor=deals.carol.user, quote=make_quote(deals.carol, deals.alice_customer, (deals.vnet, 5, "5"))
    )
    response = post(api(deals.alice), "/orders", {"quote": quote.pk})
    assert response.status_code == 201
    return response.json()


def test_boss_state_updates_are_idempotent(deals, order):
    client = api(deals.alice)
    url = f"/orders/{order['id']}/state"
    assert post(client, url, {"state": "submitted"}).json()["changed"] is True
    first = post(client, url, {"state": "completed", "external_ref": "BOSS-77"})
    assert first.status_code == 200 and first.json()["changed"] is True
    assert first.json()["lines"][0]["subscription"] is not None
    events = AuditEvent.objects.count()
    again = post(client, url, {"state": "completed", "external_ref": "BOSS-77"})
    assert again.status_code == 200 and again.json()["changed"] is False
    assert AuditEvent.objects.count() == events
    assert Subscription.objects.filter(customer=deals.alice_customer).count() == 1


def test_an_impossible_state_answers_409_with_a_clear_error(deals, order):
    response = post(api(deals.alice), f"/orders/{order['id']}/state", {"state": "completed"})
    assert response.status_code == 409
    body = response.json()
    assert "cannot become" in body["detail"] and "state" in body["errors"]
    assert api(deals.alice).get(f"/api/v1/orders/{order['id']}").json()["status"] == OrderStatus.DRAFT


def test_unknown_state_is_a_schema_error(deals, order):
    assert post(api(deals.alice), f"/orders/{order['id']}/state", {"state": "teleported"}).status_code == 422


def test_order_export_csv_through_the_api(deals, order):
    response = api(deals.alice).get("/api/v1/orders/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert order["number"] in b"".join(response.streaming_content).decode("utf-8-sig")


def test_order_needs_exactly_one_source(deals):
    response = post(api(deals.alice), "/orders", {})
    assert response.status_code == 400 and "__all__" in response.json()["errors"]
