"""/org-units and /staff: contract fields, filters, directory scope, and account management by admins."""

import pytest
from django.test import Client

from jiketong.core.models import AuditAction, AuditEvent
from jiketong.org.models import ApiToken, Staff
from jiketong.org.services import token_issue
from jiketong.testing import PASSWORD, make_staff

from .conftest import ApiClient

NEW_STAFF = {
    "username": "henry",
    "password": "Tianhe-Grid-2026",
    "name": "黄海",
    "roles": ["customer_manager"],
    "rank": "manager",
    "mobile": "+86 138-0013-8000",
}


def _login(username: str, password: str) -> bool:
    """Log in through the real login page (django-axes needs the request), as a browser would."""
    client = Client()
    client.post("/accounts/login/", {"username": username, "password": password})
    return "_auth_user_id" in client.session


def test_org_units_list_answers_the_contract_fields(cast, api_as):
    body = api_as(cast.alice).api_get("/org-units").json()
    assert body["count"] == 10
    hq, guangdong = body["items"][0], body["items"][1]
    assert set(hq) == {"id", "code", "name", "level", "parent"}
    assert hq == {"id": cast.org["100000"].pk, "code": "100000", "name": "集团公司", "level": "hq", "parent": None}
    assert guangdong["parent"] == hq["id"]


def test_org_units_filter_by_level_parent_and_search(cast, api_as):
    client = api_as(cast.alice)
    counties = client.api_get("/org-units", level="county").json()
    assert {u["code"] for u in counties["items"]} == {"440106", "440104", "440304", "330106"}
    children = client.api_get("/org-units", parent=cast.org["440100"].pk).json()
    assert {u["code"] for u in children["items"]} == {"440106", "440104"}
    assert [u["code"] for u in client.api_get("/org-units", search="天河").json()["items"]] == ["440106"]
    assert [u["code"] for u in client.api_get("/org-units", search="3301").json()["items"]] == ["330100", "330106"]


def test_org_unit_detail_and_404(cast, api_as):
    client = api_as(cast.dave)
    assert client.api_get(f"/org-units/{cast.org['440106'].pk}").json()["parent"] == cast.org["440100"].pk
    assert client.api_get("/org-units/999999").status_code == 404


def test_org_unit_list_queries_do_not_grow_with_rows(cast, api_as, django_assert_max_num_queries):
    client = api_as(cast.alice)
    with django_assert_max_num_queries(5):
        assert client.api_get("/org-units").status_code == 200


def test_staff_list_answers_the_contract_fields_and_never_a_password(cast, api_as):
    response = api_as(cast.alice).api_get("/staff")
    item = next(i for i in response.json()["items"] if i["username"] == "alice")
    assert item == {
        "id": cast.alice.pk,
        "username": "alice",
        "name": "李晓红",
        "org_unit": cast.org["440106"].pk,
        "roles": ["customer_manager"],
        "rank": "manager",
        "is_active": True,
    }
    assert b"password" not in response.content and b"argon2" not in response.content


def test_staff_directory_is_scoped_to_the_province(cast, api_as):
    alice_sees = {i["username"] for i in api_as(cast.alice).api_get("/staff").json()["items"]}
    assert alice_sees == {"alice", "bob", "ivan", "carol", "frank", "grace"}
    dave_sees = {i["username"] for i in api_as(cast.dave).api_get("/staff").json()["items"]}
    assert dave_sees == {"dave"}
    assert api_as(cast.dave).api_get(f"/staff/{cast.alice.pk}").status_code == 404
    assert api_as(cast.erin).api_get("/staff").json()["count"] == 8


def test_staff_search_and_filters(cast, api_as):
    client = api_as(cast.frank)
    assert [i["username"] for i in client.api_get("/staff", search="王").json()["items"]] == ["bob"]
    supervisors = client.api_get("/staff", role="supervisor").json()["items"]
    assert {i["username"] for i in supervisors} == {"carol", "dave"}
    in_guangzhou = client.api_get("/staff", org_unit=cast.org["440100"].pk).json()["items"]
    assert {i["username"] for i in in_guangzhou} == {"alice", "bob", "carol"}


def test_staff_list_queries_are_bounded(cast, api_as, django_assert_max_num_queries):
    client = api_as(cast.frank)
    for n in range(40):
        make_staff(f"extra{n}", cast.org["440106"], ["customer_manager"])
    with django_assert_max_num_queries(8):
        assert client.api_get("/staff", limit=50).json()["count"] == 48


def test_admin_creates_staff_with_a_password_that_logs_in(cast, api_as):
    response = api_as(cast.frank).post_json("/staff", NEW_STAFF | {"org_unit": cast.org["440106"].pk})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["username"] == "henry" and body["roles"] == ["customer_manager"] and body["is_active"]
    assert "password" not in body
    assert _login(username="henry", password=NEW_STAFF["password"])
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, target_type="org.staff", target_id=body["id"]).exists()


def test_staff_mobile_is_normalised(cast, api_as):
    response = api_as(cast.frank).post_json("/staff", NEW_STAFF | {"org_unit": cast.org["440106"].pk})
    assert Staff.objects.get(pk=response.json()["id"]).mobile == "13800138000"


@pytest.mark.parametrize("persona", ["alice", "carol", "erin", "grace"])
def test_non_admins_cannot_create_staff(cast, api_as, persona):
    response = api_as(getattr(cast, persona)).post_json("/staff", NEW_STAFF | {"org_unit": cast.org["440106"].pk})
    assert response.status_code == 403


def test_staff_creation_errors_name_each_field(cast, api_as):
    client = api_as(cast.frank)
    bad = {"username": "alice", "password": "123", "roles": ["wizard"], "mobile": "12345"}
    response = client.post_json("/staff", NEW_STAFF | bad | {"org_unit": 999999})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"org_unit"}
    response = client.post_json("/staff", NEW_STAFF | bad | {"org_unit": cast.org["440106"].pk})
    errors = response.json()["errors"]
    assert set(errors) == {"username", "password", "roles", "mobile"}
    assert "already taken" in errors["username"][0]
    missing = client.post_json("/staff", {"username": "x"})
    assert missing.status_code == 422
    assert {"password", "name", "org_unit", "roles"} <= set(missing.json()["errors"])


def test_admin_changes_staff_and_it_is_audited(cast, api_as):
    client = api_as(cast.frank)
    response = client.patch_json(
        f"/staff/{cast.bob.pk}", {"roles": ["customer_manager", "supervisor"], "org_unit": cast.org["440104"].pk}
    )
    assert response.status_code == 200, response.content
    assert response.json()["roles"] == ["customer_manager", "supervisor"]
    assert response.json()["org_unit"] == cast.org["440104"].pk
    event = AuditEvent.objects.get(action=AuditAction.UPDATE, target_type="org.staff", target_id=cast.bob.pk)
    assert event.before["roles"] == ["customer_manager"]
    assert api_as(cast.carol).patch_json(f"/staff/{cast.bob.pk}", {"name": "x"}).status_code == 403


def test_deactivation_by_admin_kills_tokens_and_login(cast, api_as):
    bob_token = token_issue(user=cast.bob.user)
    response = api_as(cast.frank).post_json(f"/staff/{cast.bob.pk}/deactivate")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert not ApiToken.objects.filter(user=cast.bob.user).exists()
    assert ApiClient(bob_token).api_get("/customers").status_code == 401
    assert not _login(username="bob", password=PASSWORD)


def test_non_admin_cannot_deactivate(cast, api_as):
    assert api_as(cast.carol).post_json(f"/staff/{cast.bob.pk}/deactivate").status_code == 403
    assert api_as(cast.dave).post_json(f"/staff/{cast.bob.pk}/deactivate").status_code == 404


def test_admin_cannot_deactivate_themselves_and_keeps_their_token(cast):
    token = token_issue(user=cast.frank.user)
    client = ApiClient(token)
    response = client.post_json(f"/staff/{cast.frank.pk}/deactivate")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Invalid input.",
        "errors": {"__all__": ["You cannot disable your own account: ask another administrator to do it."]},
    }
    assert client.api_get("/staff").status_code == 200
