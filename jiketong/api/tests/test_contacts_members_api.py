"""/customers/{id}/contacts and /members: masking, reveal logging, validation, bulk operations, scope."""

from datetime import date

import pytest

from jiketong.core.models import AuditAction, AuditEvent
from jiketong.customers.models import Contact, Member
from jiketong.customers.services import contact_create, member_add, members_bulk_add
from jiketong.testing import system_user


@pytest.fixture
def key_person(cast) -> Contact:
    return contact_create(
        actor=system_user(),
        customer=cast.alice_customer,
        name="张伟",
        title="信息中心主任",
        decision_role="decider",
        is_key_person=True,
        mobile="13800138000",
        email="zhangwei@gzmtr.example.cn",
        birthday=date(1975, 6, 1),
        dates=[("入职纪念日", date(2005, 3, 1))],
    )


@pytest.fixture
def member(cast) -> Member:
    return member_add(
        actor=system_user(), customer=cast.alice_customer, phone="13912345678", joined_on=date(2024, 1, 1)
    )


def contacts_url(customer, contact=None, action="") -> str:
    url = f"/customers/{customer.pk}/contacts"
    if contact is not None:
        url += f"/{contact.pk}"
    return url + (f"/{action}" if action else "")


def members_url(customer, member=None, action="") -> str:
    url = f"/customers/{customer.pk}/members"
    if member is not None:
        url += f"/{member.pk}"
    return url + (f"/{action}" if action else "")


# --- contacts ------------------------------------------------------------------------------------
def test_contact_list_masks_mobile_and_email(cast, api_as, key_person):
    response = api_as(cast.alice).api_get(contacts_url(cast.alice_customer))
    body = response.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert set(item) == {
        "id",
        "row_version",
        "name",
        "title",
        "department",
        "decision_role",
        "is_key_person",
        "mobile",
        "email",
        "birthday",
        "preferences",
        "closeness",
        "notes",
        "dates",
        "left_on",
        "counterpart",
        "counterpart_name",
    }
    assert item["mobile"] == "138****8000"
    assert item["email"] == "z***@gzmtr.example.cn"
    assert item["birthday"] == "1975-06-01"
    assert item["dates"] == [{"label": "入职纪念日", "date": "2005-03-01"}]
    assert b"13800138000" not in response.content


def test_contact_create_normalises_the_mobile_and_answers_masked(cast, api_as):
    response = api_as(cast.alice).post_json(
        contacts_url(cast.alice_customer),
        {"name": "李娜", "mobile": "+86 １３９-1234-5678", "dates": [{"label": "结婚纪念日", "date": "2010-10-10"}]},
    )
    assert response.status_code == 201, response.content
    assert response.json()["mobile"] == "139****5678"
    assert Contact.objects.get(pk=response.json()["id"]).mobile == "13912345678"


def test_contact_bad_mobile_is_named(cast, api_as):
    response = api_as(cast.alice).post_json(contacts_url(cast.alice_customer), {"name": "李娜", "mobile": "12345"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"mobile"}
    assert "not a valid mainland China mobile number" in response.json()["errors"]["mobile"][0]


def test_contact_missing_name_is_422(cast, api_as):
    response = api_as(cast.alice).post_json(contacts_url(cast.alice_customer), {"mobile": "13912345678"})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"name"}


def test_contact_patch_and_delete_are_audited(cast, api_as, key_person):
    client = api_as(cast.alice)
    response = client.patch_json(contacts_url(cast.alice_customer, key_person), {"mobile": "139 0000 1111"})
    assert response.status_code == 200, response.content
    assert response.json()["mobile"] == "139****1111"
    assert client.delete("/api/v1" + contacts_url(cast.alice_customer, key_person)).status_code == 204
    assert not Contact.objects.filter(pk=key_person.pk).exists()
    history = client.api_get(f"/customers/{cast.alice_customer.pk}/history").json()["items"]
    assert [e["action"] for e in history[:2]] == ["delete", "update"]
    # History shows what changed, with the numbers masked like everywhere else in the API.
    assert history[1]["before"] == {"mobile": "138****8000"} and history[1]["after"] == {"mobile": "139****1111"}
    assert history[0]["before"]["email"] == "z***@gzmtr.example.cn"


def test_contact_patch_replaces_dates_atomically(cast, api_as, key_person):
    client = api_as(cast.alice)
    url = contacts_url(cast.alice_customer, key_person)
    response = client.patch_json(url, {"dates": [{"label": "结婚纪念日", "date": "2001-05-20"}]})
    assert response.status_code == 200, response.content
    assert response.json()["dates"] == [{"label": "结婚纪念日", "date": "2001-05-20"}]
    # A bad mobile rejects the whole change: the dates stay as they were.
    response = client.patch_json(url, {"mobile": "123", "dates": []})
    assert response.status_code == 400 and set(response.json()["errors"]) == {"mobile"}
    assert client.api_get(url).json()["dates"] == [{"label": "结婚纪念日", "date": "2001-05-20"}]


def test_contact_reveal_returns_full_number_and_is_logged(cast, api_as, key_person):
    response = api_as(cast.alice).post_json(contacts_url(cast.alice_customer, key_person, "reveal"))
    assert response.status_code == 200
    assert response.json() == {"mobile": "13800138000"}
    event = AuditEvent.objects.get(action=AuditAction.REVEAL)
    assert (event.actor, event.target_id, event.customer_id) == (cast.alice.user, key_person.pk, cast.alice_customer.pk)


@pytest.mark.parametrize("persona", ["erin", "grace", "frank"])
def test_roles_without_reveal_rights_get_403_and_no_number(cast, api_as, key_person, persona):
    response = api_as(getattr(cast, persona)).post_json(contacts_url(cast.alice_customer, key_person, "reveal"))
    assert response.status_code == 403
    assert b"13800138000" not in response.content
    assert not AuditEvent.objects.filter(action=AuditAction.REVEAL).exists()


def test_contacts_of_an_invisible_customer_are_404(cast, api_as, key_person):
    client = api_as(cast.bob)
    assert client.api_get(contacts_url(cast.alice_customer)).status_code == 404
    assert client.api_get(contacts_url(cast.alice_customer, key_person)).status_code == 404
    assert client.post_json(contacts_url(cast.alice_customer, key_person, "reveal")).status_code == 404
    assert client.patch_json(contacts_url(cast.alice_customer, key_person), {"name": "x"}).status_code == 404
    assert client.delete("/api/v1" + contacts_url(cast.alice_customer, key_person)).status_code == 404
    # Nor can a contact be reached through another customer's URL.
    assert api_as(cast.alice).api_get(contacts_url(cast.backed_up, key_person)).status_code == 404


def test_read_only_roles_cannot_change_contacts(cast, api_as, key_person):
    client = api_as(cast.erin)
    assert client.post_json(contacts_url(cast.alice_customer), {"name": "x"}).status_code == 403
    assert client.patch_json(contacts_url(cast.alice_customer, key_person), {"name": "x"}).status_code == 403
    assert client.delete("/api/v1" + contacts_url(cast.alice_customer, key_person)).status_code == 403


@pytest.mark.parametrize("rows", [3, 50])
def test_contact_list_queries_do_not_grow_with_rows(cast, api_as, django_assert_max_num_queries, rows):
    for n in range(rows):
        contact_create(
            actor=system_user(), customer=cast.alice_customer, name=f"联系人{n}", dates=[("生日宴", date(2020, 1, 1))]
        )
    client = api_as(cast.alice)
    # token (+ its last-used stamp), staff + roles, customer scope check, count, page, dates of the page.
    with django_assert_max_num_queries(8):
        assert client.api_get(contacts_url(cast.alice_customer), limit=200).json()["count"] == rows


# --- members -------------------------------------------------------------------------------------
def test_member_list_masks_phones(cast, api_as, member):
    response = api_as(cast.alice).api_get(members_url(cast.alice_customer))
    item = response.json()["items"][0]
    assert set(item) == {"id", "phone", "department", "joined_on", "left_on", "paid_by", "network", "short_number"}
    assert item["phone"] == "139****5678"
    assert item["joined_on"] == "2024-01-01" and item["left_on"] is None
    assert b"13912345678" not in response.content


def test_member_create_and_errors(cast, api_as):
    client = api_as(cast.alice)
    url = members_url(cast.alice_customer)
    response = client.post_json(url, {"phone": "+86 137 0000 0001", "joined_on": "2024-05-01", "paid_by": "group"})
    assert response.status_code == 201, response.content
    assert response.json()["phone"] == "137****0001"
    bad = client.post_json(url, {"phone": "2345", "joined_on": "2024-05-01"})
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"phone"}
    backwards = client.post_json(url, {"phone": "13700000002", "joined_on": "2024-05-01", "left_on": "2024-04-01"})
    assert backwards.status_code == 400
    assert backwards.json()["errors"] == {"left_on": ["The leave date cannot be before the join date."]}
    duplicate = client.post_json(url, {"phone": "13700000001", "joined_on": "2024-06-01"})
    assert duplicate.status_code == 400 and set(duplicate.json()["errors"]) == {"phone"}
    missing = client.post_json(url, {"phone": "13700000003"})
    assert missing.status_code == 422 and set(missing.json()["errors"]) == {"joined_on"}


def test_member_filters_current_and_phone_tail(cast, api_as, member):
    client = api_as(cast.alice)
    url = members_url(cast.alice_customer)
    client.post_json(url, {"phone": "13700000001", "joined_on": "2020-01-01", "left_on": "2021-01-01"})
    assert client.api_get(url).json()["count"] == 2
    assert [i["phone"] for i in client.api_get(url, current="true").json()["items"]] == ["139****5678"]
    assert [i["phone"] for i in client.api_get(url, current="false").json()["items"]] == ["137****0001"]
    assert [i["phone"] for i in client.api_get(url, search="5678").json()["items"]] == ["139****5678"]
    assert client.api_get(url, search="139 1234 5678").json()["count"] == 1
    assert client.api_get(url, search="abc").json()["count"] == 0


def test_member_patch_and_leave_before_join(cast, api_as, member):
    client = api_as(cast.alice)
    response = client.patch_json(members_url(cast.alice_customer, member), {"left_on": "2023-12-31"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"left_on": ["The leave date cannot be before the join date."]}
    changes = {"department": "运营部", "network": "off_net"}
    response = client.patch_json(members_url(cast.alice_customer, member), changes)
    assert response.status_code == 200, response.content
    assert response.json()["department"] == "运营部" and response.json()["phone"] == "139****5678"


def test_bulk_add_all_or_nothing_rejects_the_batch(cast, api_as):
    client = api_as(cast.alice)
    rows = [
        {"phone": "13700000001", "joined_on": "2024-01-01"},
        {"phone": "999", "joined_on": "2024-01-01"},
        {"phone": "13700000003", "joined_on": "2024-02-01", "left_on": "2024-01-01"},
    ]
    response = client.post_json(members_url(cast.alice_customer, action="bulk-add"), {"rows": rows})
    assert response.status_code == 400
    body = response.json()
    assert body["added"] == 0
    assert [(e["row"], set(e["errors"])) for e in body["errors"]] == [(2, {"phone"}), (3, {"left_on"})]
    assert not Member.objects.filter(customer=cast.alice_customer).exists()


def test_bulk_add_lands_good_rows_when_asked(cast, api_as):
    client = api_as(cast.alice)
    rows = [{"phone": "13700000001", "joined_on": "2024-01-01"}, {"phone": "999", "joined_on": "2024-01-01"}]
    response = client.post_json(
        members_url(cast.alice_customer, action="bulk-add"), {"rows": rows, "all_or_nothing": False}
    )
    assert response.status_code == 200
    assert response.json()["added"] == 1
    assert [e["row"] for e in response.json()["errors"]] == [2]


def test_bulk_remove_sets_leave_dates(cast, api_as, member):
    client = api_as(cast.alice)
    url = members_url(cast.alice_customer, action="bulk-remove")
    early = client.post_json(url, {"phones": ["139-1234-5678"], "left_on": "2023-01-01"})
    assert early.status_code == 400
    assert set(early.json()["errors"][0]["errors"]) == {"left_on"}
    unknown = client.post_json(url, {"phones": ["13700000009", "13912345678"], "left_on": "2025-01-01"})
    assert unknown.status_code == 400 and unknown.json()["removed"] == 0
    response = client.post_json(url, {"phones": ["+8613912345678"], "left_on": "2025-01-01"})
    assert response.status_code == 200 and response.json() == {"detail": "", "removed": 1, "errors": []}
    member.refresh_from_db()
    assert member.left_on == date(2025, 1, 1)


def test_member_reveal_is_logged_and_restricted(cast, api_as, member):
    url = members_url(cast.alice_customer, member, "reveal")
    assert api_as(cast.alice).post_json(url).json() == {"phone": "13912345678"}
    assert AuditEvent.objects.filter(action=AuditAction.REVEAL, target_id=member.pk, actor=cast.alice.user).count() == 1
    assert api_as(cast.erin).post_json(url).status_code == 403
    assert api_as(cast.bob).post_json(url).status_code == 404


def test_bulk_added_numbers_are_masked_in_history(cast, api_as):
    client = api_as(cast.alice)
    rows = [{"phone": "13700000001", "joined_on": "2024-01-01"}]
    client.post_json(members_url(cast.alice_customer, action="bulk-add"), {"rows": rows})
    response = client.api_get(f"/customers/{cast.alice_customer.pk}/history")
    assert response.json()["items"][0]["after"]["members_added"] == ["137****0001"]
    assert b"13700000001" not in response.content


def test_members_of_an_invisible_customer_are_404(cast, api_as, member):
    client = api_as(cast.dave)
    assert client.api_get(members_url(cast.alice_customer)).status_code == 404
    assert client.api_get(members_url(cast.alice_customer, member)).status_code == 404
    rows = {"rows": [{"phone": "13700000001", "joined_on": "2024-01-01"}]}
    assert client.post_json(members_url(cast.alice_customer, action="bulk-add"), rows).status_code == 404
    assert client.patch_json(members_url(cast.alice_customer, member), {"department": "x"}).status_code == 404


def test_read_only_roles_cannot_change_members(cast, api_as, member):
    client = api_as(cast.grace)
    rows = {"rows": [{"phone": "13700000001", "joined_on": "2024-01-01"}]}
    assert client.post_json(members_url(cast.alice_customer, action="bulk-add"), rows).status_code == 403
    assert client.patch_json(members_url(cast.alice_customer, member), {"department": "x"}).status_code == 403


@pytest.mark.parametrize("rows", [3, 50])
def test_member_list_queries_do_not_grow_with_rows(cast, api_as, django_assert_max_num_queries, rows):
    batch = [{"phone": f"137{n:08d}", "joined_on": date(2024, 1, 1)} for n in range(rows)]
    members_bulk_add(actor=system_user(), customer=cast.alice_customer, rows=batch, all_or_nothing=True)
    client = api_as(cast.alice)
    # token (+ its last-used stamp), staff + roles, customer scope check, count, page.
    with django_assert_max_num_queries(7):
        assert client.api_get(members_url(cast.alice_customer), limit=200).json()["count"] == rows
