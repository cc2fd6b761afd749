"""The staff API goes through the same services as 用户管理: enable, set a password, filter like the page,
and no lost update (If-Match)."""

import pytest
from django.test import Client

from jiketong import testing
from jiketong.api.tests.conftest import API, ApiClient
from jiketong.core.models import AuditEvent
from jiketong.org.models import Role, Staff
from jiketong.org.services import staff_deactivate, staff_update, token_issue

STRONG = "Gz-metro-2026!"


@pytest.fixture
def admin_api(cast) -> ApiClient:
    return ApiClient(token_issue(user=cast.frank.user))


def logs_in(username: str, password: str) -> bool:
    response = Client().post("/accounts/login/", {"username": username, "password": password})
    return response.status_code == 302 and not response.url.startswith("/accounts/login/")


def test_an_admin_enables_a_disabled_account_again(cast, admin_api):
    staff_deactivate(actor=cast.frank.user, staff=cast.bob)
    answer = admin_api.post_json(f"/staff/{cast.bob.pk}/reactivate")
    assert answer.status_code == 200 and answer.json()["is_active"] is True
    assert admin_api.post_json(f"/staff/{cast.bob.pk}/reactivate").status_code == 400  # already active


def test_an_admin_sets_a_password_that_then_works_and_is_never_echoed(cast, admin_api):
    answer = admin_api.post_json(f"/staff/{cast.alice.pk}/password", {"password": STRONG})
    assert answer.status_code == 204 and not answer.content
    assert logs_in("alice", STRONG)
    assert STRONG not in str(list(AuditEvent.objects.values("before", "after", "note")))


def test_a_weak_password_answers_400_at_the_password_field(cast, admin_api):
    answer = admin_api.post_json(f"/staff/{cast.alice.pk}/password", {"password": "12345678"})
    assert answer.status_code == 400 and list(answer.json()["errors"]) == ["password"]


@pytest.mark.parametrize("persona", ["carol", "alice"])
def test_only_admins_enable_accounts_and_set_passwords(cast, persona):
    client = ApiClient(token_issue(user=getattr(cast, persona).user))
    assert client.post_json(f"/staff/{cast.bob.pk}/reactivate").status_code == 403
    assert client.post_json(f"/staff/{cast.bob.pk}/password", {"password": STRONG}).status_code == 403


def test_a_patch_with_an_old_etag_is_refused_and_writes_nothing(cast, admin_api):
    etag = admin_api.get(f"{API}/staff/{cast.alice.pk}")["ETag"]
    staff_update(actor=cast.frank.user, staff=cast.alice, rank="senior_manager")
    answer = admin_api.patch(
        f"{API}/staff/{cast.alice.pk}", {"name": "李小红"}, content_type="application/json", HTTP_IF_MATCH=etag
    )
    assert answer.status_code == 412
    assert Staff.objects.get(pk=cast.alice.pk).name == "李晓红"
    fresh = admin_api.get(f"{API}/staff/{cast.alice.pk}")["ETag"]
    answer = admin_api.patch(
        f"{API}/staff/{cast.alice.pk}", {"name": "李小红"}, content_type="application/json", HTTP_IF_MATCH=fresh
    )
    assert answer.status_code == 200 and answer["ETag"] != fresh


def test_the_api_filters_staff_like_the_page(cast, admin_api):
    staff_deactivate(actor=cast.frank.user, staff=cast.bob)
    testing.make_staff("two", cast.org["440106"], [Role.CUSTOMER_MANAGER, Role.SUPERVISOR], name="双角色")
    names = {i["name"] for i in admin_api.api_get("/staff", role=Role.SUPERVISOR).json()["items"]}
    assert names == {"陈静", "周伟", "双角色"}
    left = admin_api.api_get("/staff", is_active="false").json()["items"]
    assert [i["name"] for i in left] == ["王强"]
    guangzhou = {i["name"] for i in admin_api.api_get("/staff", org_unit=cast.org["440100"].pk).json()["items"]}
    assert guangzhou == {"李晓红", "王强", "陈静", "双角色"}
    assert admin_api.api_get("/staff", role="boss").status_code == 400
