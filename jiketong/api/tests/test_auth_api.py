"""Bearer tokens, session auth, the token command and the public OpenAPI document."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from jiketong.org.models import ApiToken
from jiketong.org.services import staff_deactivate, token_issue

from .conftest import API, ApiClient


def test_request_without_token_is_401(cast):
    response = ApiClient().api_get("/customers")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_unknown_token_is_401(cast):
    assert ApiClient("jkt_not-a-real-token").api_get("/customers").status_code == 401


def test_expired_token_is_401(cast):
    token = token_issue(user=cast.alice.user)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert ApiClient(token).api_get("/customers").status_code == 401


def test_valid_token_authenticates_as_its_user(cast):
    response = ApiClient(token_issue(user=cast.alice.user)).api_get("/customers")
    assert response.status_code == 200
    assert {item["name"] for item in response.json()["items"]} == {"广州地铁集团有限公司", "越秀区人民医院"}


def test_deactivated_users_token_stops_working_at_once(cast):
    token = token_issue(user=cast.alice.user)
    client = ApiClient(token)
    assert client.api_get("/customers").status_code == 200
    staff_deactivate(actor=cast.frank.user, staff=cast.alice)
    assert client.api_get("/customers").status_code == 401
    assert not ApiToken.objects.filter(user=cast.alice.user).exists()


def test_token_of_user_disabled_elsewhere_is_refused(cast):
    # Even if a user is disabled without the service (e.g. in Django admin), the token check refuses them.
    token = token_issue(user=cast.alice.user)
    cast.alice.user.is_active = False
    cast.alice.user.save()
    assert ApiClient(token).api_get("/customers").status_code == 401


def test_browser_session_also_authenticates(cast):
    client = Client()
    client.force_login(cast.alice.user)
    assert client.get(f"{API}/customers").status_code == 200


def test_session_writes_need_the_csrf_token(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.alice.user)
    response = client.post(f"{API}/customers/{cast.alice_customer.pk}/members", {}, content_type="application/json")
    assert response.status_code in (401, 403)


def test_openapi_document_is_public_and_lists_the_contract_paths(db):
    # The schema describes no data, so it is served without a token (tools fetch it before they have one).
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/v1/org-units",
        "/api/v1/staff",
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
        "/api/v1/customers/{customer_id}/contacts",
        "/api/v1/customers/{customer_id}/members",
        "/api/v1/customers/{customer_id}/history",
        "/api/v1/products",
        "/api/v1/subscriptions",
    ]:
        assert path in paths, path
    assert "delete" not in paths["/api/v1/customers/{customer_id}"]
    assert "archive" in paths["/api/v1/customers/{customer_id}"]["patch"]["description"]


def test_docs_page_is_served(db):
    assert Client().get(f"{API}/docs").status_code == 200


def test_token_command_prints_a_working_token(cast):
    out = StringIO()
    call_command("token", "alice", stdout=out)
    token = out.getvalue().strip()
    assert token.startswith("jkt_")
    assert ApiClient(token).api_get("/customers").status_code == 200


def test_token_command_refuses_unknown_user(db):
    with pytest.raises(CommandError, match="nobody"):
        call_command("token", "nobody")


def test_token_command_refuses_disabled_user(cast):
    cast.bob.user.is_active = False
    cast.bob.user.save()
    with pytest.raises(CommandError, match="bob"):
        call_command("token", "bob")
