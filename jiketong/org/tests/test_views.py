"""用户管理 pages: the system administrator lists, opens, changes, disables, enables staff accounts and sets
their passwords, through the same services as the API; nobody else gets in."""

import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone, translation

from jiketong import testing
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.org.models import ApiToken, Role, Staff
from jiketong.org.services import staff_deactivate, staff_update, token_issue

LIST = "/org/staff/"
NEW = "/org/staff/new/"
STRONG = "Gz-metro-2026!"


def zh_client(staff) -> Client:
    client = Client()
    client.force_login(staff.user)
    return client


def logs_in(username: str, password: str) -> bool:
    response = Client().post("/accounts/login/", {"username": username, "password": password})
    return response.status_code == 302 and not response.url.startswith("/accounts/login/")


def new_account(**fields) -> dict:
    return {
        "username": "xiaoming",
        "name": "刘小明",
        "org_unit": "",
        "roles": [Role.CUSTOMER_MANAGER],
        "rank": "manager",
        "mobile": "13912345678",
        "password1": STRONG,
        "password2": STRONG,
    } | fields


def rows(response) -> list[str]:
    html = response.content.decode()
    table = html.split('data-testid="staff-table"', 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"<[^>]+>|\s+", " ", row).strip() for row in table.split("<tr>")[2:]]


# --- who gets in ------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", ["alice", "carol", "erin", "grace"])
@pytest.mark.parametrize("path", [LIST, NEW, "/org/staff/{alice}/", "/org/staff/{alice}/password/"])
def test_only_administrators_reach_user_management(cast, persona, path):
    response = zh_client(getattr(cast, persona)).get(path.format(alice=cast.alice.pk))
    assert response.status_code == 403


def test_the_menu_shows_user_management_to_administrators_only(cast):
    assert 'href="/org/staff/"' in zh_client(cast.frank).get("/").content.decode()
    assert 'href="/org/staff/"' not in zh_client(cast.carol).get("/").content.decode()


def test_django_admin_is_branded_and_its_link_is_for_superusers(cast):
    testing.User.objects.filter(pk=cast.frank.pk).update(is_staff=True)
    assert 'href="/admin/"' not in zh_client(cast.frank).get("/").content.decode()
    root = testing.make_staff("root", cast.org["100000"], [Role.ADMIN], name="超级管理员")
    testing.User.objects.filter(pk=root.pk).update(is_staff=True, is_superuser=True)
    client = zh_client(root)
    assert 'href="/admin/"' in client.get("/").content.decode()
    assert "集客通 管理" in client.get("/admin/").content.decode()


# --- the list -------------------------------------------------------------------------------------
def test_the_list_shows_name_login_unit_roles_and_masks_the_mobile(cast):
    staff_update(actor=cast.frank.user, staff=cast.alice, mobile="13912345678")
    response = zh_client(cast.frank).get(LIST, {"search": "李晓红"})
    assert response.status_code == 200
    [row] = rows(response)
    assert "李晓红" in row and "alice" in row and "天河区分公司" in row and "客户经理" in row and "在职" in row
    assert "139****5678" in row and "13912345678" not in response.content.decode()


def test_the_list_filters_by_unit_subtree_role_and_account(cast):
    client = zh_client(cast.frank)
    guangzhou = cast.org["440100"].pk
    names = {row.split()[0] for row in rows(client.get(LIST, {"org_unit": guangzhou}))}
    assert names == {"李晓红", "王强", "陈静"}
    names = {row.split()[0] for row in rows(client.get(LIST, {"role": Role.SUPERVISOR}))}
    assert names == {"陈静", "周伟"}
    staff_deactivate(actor=cast.frank.user, staff=cast.bob)
    assert [row.split()[0] for row in rows(client.get(LIST, {"is_active": "false"}))] == ["王强"]
    assert "王强" not in {row.split()[0] for row in rows(client.get(LIST, {"is_active": "true"}))}
    assert [row.split()[0] for row in rows(client.get(LIST, {"search": "frank"}))] == ["吴刚"]


def test_a_bad_filter_value_is_the_filters_error_not_a_crash(cast):
    response = zh_client(cast.frank).get(LIST, {"org_unit": "99999999999999999999999", "role": "boss"})
    assert response.status_code == 200


def test_the_list_pages_in_the_database_with_a_bounded_number_of_queries(cast, django_assert_max_num_queries, settings):
    for n in range(40):
        testing.make_staff(f"cm{n:02d}", cast.org["440106"], [Role.CUSTOMER_MANAGER, Role.INSIDE_SALES])
    client = zh_client(cast.frank)
    client.get(LIST)  # the session and the user once
    # session, user, staff + roles, count, page rows, their roles, the unit choices, the menu's checks
    with django_assert_max_num_queries(12):
        response = client.get(LIST, {"page": 2})
    assert response.status_code == 200 and len(rows(response)) == 23  # 48 accounts, 25 a page
    with django_assert_max_num_queries(12):
        client.get(LIST, {"page": 1, "role": Role.INSIDE_SALES})


def test_the_table_alone_answers_an_htmx_request(cast):
    response = zh_client(cast.frank).get(LIST, {"search": "王"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="staff-table"') and "<html" not in html


# --- opening an account ---------------------------------------------------------------------------
def test_an_administrator_opens_an_account_that_logs_in(cast):
    response = zh_client(cast.frank).post(NEW, new_account(org_unit=cast.org["440106"].pk))
    staff = Staff.objects.get(user__username="xiaoming")
    assert response.status_code == 302 and response.url == f"/org/staff/{staff.pk}/"
    assert (staff.name, staff.org_unit, staff.rank, staff.role_codes) == (
        "刘小明",
        cast.org["440106"],
        "manager",
        {Role.CUSTOMER_MANAGER},
    )
    assert logs_in("xiaoming", STRONG)
    event = AuditEvent.objects.get(action=AuditAction.CREATE, target_type="org.staff", target_id=staff.pk)
    assert event.after["mobile"] == "139****5678"
    assert STRONG not in str(event.after) + event.note


def test_every_error_of_a_new_account_is_shown_at_once_in_chinese(cast):
    response = zh_client(cast.frank).post(
        NEW, new_account(username="alice", name="", roles=[], mobile="12345", password1="123", password2="123")
    )
    assert response.status_code == 200
    errors = dict(re.findall(r'data-field-error="(\w+)">([^<]+)<', response.content.decode()))
    assert set(errors) == {"username", "name", "org_unit", "roles", "mobile", "password1"}
    assert errors["username"] == "该用户名已被使用。"
    assert not Staff.objects.filter(name="").exists()


def test_the_password_typed_twice_must_match(cast):
    response = zh_client(cast.frank).post(NEW, new_account(org_unit=cast.org["440106"].pk, password2="Gz-metro-2027!"))
    errors = dict(re.findall(r'data-field-error="(\w+)">([^<]+)<', response.content.decode()))
    assert list(errors) == ["password2"]
    assert not testing.User.objects.filter(username="xiaoming").exists()


def test_a_generated_password_is_shown_once_and_works(cast):
    response = zh_client(cast.frank).post(
        NEW, new_account(org_unit=cast.org["440106"].pk, password1="", password2="", generate="on")
    )
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    password = re.search(r'data-testid="generated-password">([^<]+)<', response.content.decode()).group(1)
    assert logs_in("xiaoming", password)
    staff = Staff.objects.get(user__username="xiaoming")
    assert password not in str(list(AuditEvent.objects.filter(target_id=staff.pk).values()))


# --- changing an account --------------------------------------------------------------------------
def edit_data(staff, **fields) -> dict:
    return {
        "name": staff.name,
        "org_unit": staff.org_unit_id,
        "roles": sorted(staff.role_codes),
        "rank": staff.rank,
        "mobile": staff.mobile,
        "row_version": staff.row_version,
        "row_read_at": "",
    } | fields


def test_an_administrator_changes_name_unit_roles_rank_and_mobile_audited(cast):
    alice = Staff.objects.get(pk=cast.alice.pk)
    data = edit_data(alice, name="李小红", org_unit=cast.org["440104"].pk, roles=[Role.SUPERVISOR],
                     rank="senior_manager", mobile="13912345678")  # fmt: skip
    response = zh_client(cast.frank).post(f"/org/staff/{alice.pk}/", data)
    assert response.status_code == 302
    alice = Staff.objects.get(pk=alice.pk)
    assert (alice.name, alice.org_unit, alice.role_codes, alice.rank, alice.mobile) == (
        "李小红",
        cast.org["440104"],
        {Role.SUPERVISOR},
        "senior_manager",
        "13912345678",
    )
    event = AuditEvent.objects.filter(target_type="org.staff", target_id=alice.pk).latest("at")
    assert event.before["roles"] == [Role.CUSTOMER_MANAGER] and event.after["roles"] == [Role.SUPERVISOR]
    assert event.after["mobile"] == "139****5678"


def test_a_save_over_someone_elses_change_is_refused_with_their_change(cast):
    read = Staff.objects.get(pk=cast.alice.pk)
    read_at = (timezone.now() - timedelta(seconds=1)).isoformat()
    olga = testing.make_staff("olga", cast.org["440000"], [Role.ADMIN], name="欧阳")
    staff_update(actor=olga.user, staff=read, rank="senior_manager")
    data = edit_data(read, name="李小红", rank="manager", row_read_at=read_at)
    response = zh_client(cast.frank).post(f"/org/staff/{read.pk}/", data)
    assert response.status_code == 200
    assert Staff.objects.get(pk=read.pk).name == "李晓红"
    assert "欧阳" in response.content.decode() and "高级客户经理" in response.content.decode()


def test_an_edit_error_is_at_its_field(cast):
    alice = Staff.objects.get(pk=cast.alice.pk)
    response = zh_client(cast.frank).post(f"/org/staff/{alice.pk}/", edit_data(alice, roles=[], mobile="123"))
    errors = dict(re.findall(r'data-field-error="(\w+)">([^<]+)<', response.content.decode()))
    assert set(errors) == {"roles", "mobile"}


def test_a_colleague_who_does_not_exist_is_not_found(cast):
    assert zh_client(cast.frank).get("/org/staff/999999/").status_code == 404


# --- disabling, enabling, passwords --------------------------------------------------------------
def test_disabling_ends_sessions_revokes_tokens_and_offers_a_handover(cast):
    alice_browser = zh_client(cast.alice)
    assert alice_browser.get("/").status_code == 200
    token_issue(user=cast.alice.user)
    client = zh_client(cast.frank)
    response = client.post(f"/org/staff/{cast.alice.pk}/deactivate/")
    assert response.status_code == 302
    assert not ApiToken.objects.filter(user=cast.alice.user).exists()
    sessions = [s.get_decoded().get("_auth_user_id") for s in Session.objects.all()]
    assert str(cast.alice.pk) not in sessions and str(cast.frank.pk) in sessions
    assert alice_browser.get("/").status_code == 302
    page = client.get(f"/org/staff/{cast.alice.pk}/").content.decode()
    assert 'data-testid="handover-offer"' in page and 'href="/work/handovers/new/"' in page


def test_an_administrator_cannot_disable_themself_from_the_page(cast):
    response = zh_client(cast.frank).post(f"/org/staff/{cast.frank.pk}/deactivate/", follow=True)
    assert "不能停用自己的账号" in response.content.decode()
    assert Staff.objects.get(pk=cast.frank.pk).is_active


def test_enabling_again_lets_the_colleague_log_in(cast):
    staff_deactivate(actor=cast.frank.user, staff=cast.bob)
    response = zh_client(cast.frank).post(f"/org/staff/{cast.bob.pk}/reactivate/")
    assert response.status_code == 302
    bob = Staff.objects.get(pk=cast.bob.pk)
    assert bob.is_active and bob.left_on is None
    assert logs_in("bob", testing.PASSWORD)
    event = AuditEvent.objects.filter(target_type="org.staff", target_id=bob.pk).latest("at")
    assert event.action == AuditAction.STATUS and event.after["is_active"] is True


def test_setting_a_password_works_ends_sessions_and_is_audited_without_it(cast):
    alice_browser = zh_client(cast.alice)
    response = zh_client(cast.frank).post(
        f"/org/staff/{cast.alice.pk}/password/", {"password1": STRONG, "password2": STRONG}
    )
    assert response.status_code == 302
    assert logs_in("alice", STRONG)
    assert alice_browser.get("/").status_code == 302
    event = AuditEvent.objects.filter(target_type="org.staff", target_id=cast.alice.pk).latest("at")
    assert STRONG not in str(event.before) + str(event.after) + event.note


def test_a_weak_password_is_refused_at_its_field(cast):
    response = zh_client(cast.frank).post(
        f"/org/staff/{cast.alice.pk}/password/", {"password1": "12345678", "password2": "12345678"}
    )
    errors = dict(re.findall(r'data-field-error="(\w+)">([^<]+)<', response.content.decode()))
    assert list(errors) == ["password1"]
    assert logs_in("alice", testing.PASSWORD)


def test_english_pages_read_in_english(cast):
    client = zh_client(cast.frank)
    with translation.override("en"):
        client.cookies["django_language"] = "en"
    assert "User management" in client.get(LIST).content.decode()
