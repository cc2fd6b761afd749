"""/customers: contract fields, paging, filters and search, scope, writes, validation errors and history."""

import pytest

from jiketong.core.models import AuditAction, AuditEvent
from jiketong.core.validators import uscc_check_digit
from jiketong.customers.models import Customer, GradeChange
from jiketong.testing import make_customer, make_uscc

CUSTOMER_FIELDS = {
    "id",
    "row_version",
    "number",
    "name",
    "short_name",
    "uscc",
    "type",
    "industry",
    "size",
    "address",
    "org_unit",
    "owner",
    "backup_owner",
    "grade",
    "status",
    "service_level",
    "source",
    "cooperation_since",
    "parent",
    "note",
    "created_at",
    "updated_at",
}


def names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["name"] for item in response.json()["items"]}


def new_customer(cast, **fields) -> dict:
    return {
        "name": "广州白云机场股份有限公司",
        "type": "enterprise",
        "industry": "transport",
        "org_unit": cast.org["440106"].pk,
        "uscc": make_uscc("440106"),
    } | fields


def bad_check_digit(uscc: str) -> str:
    wrong = "0" if uscc[-1] != "0" else "1"
    return uscc[:17] + wrong


# --- reading -------------------------------------------------------------------------------------
def test_a_list_counts_up_to_the_cap_and_says_there_are_more(cast, api_as, monkeypatch):
    """Decision 0606: the count stops at the cap (10,000; 1 here), so HQ's list costs what a county's does;
    the items are still every row, page by page."""
    from jiketong.core import paging

    monkeypatch.setattr(paging.capped_count, "__defaults__", (1,))
    client = api_as(cast.erin)
    body = client.api_get("/customers?limit=2").json()
    assert (body["count"], body["count_capped"], len(body["items"])) == (1, True, 2)
    assert client.api_get("/customers?limit=2&search=广州地铁").json()["count_capped"] is False


def test_list_answers_count_items_and_the_contract_fields(cast, api_as):
    body = api_as(cast.alice).api_get("/customers").json()
    assert set(body) == {"count", "count_capped", "items"}
    assert (body["count"], body["count_capped"]) == (2, False)
    item = next(i for i in body["items"] if i["id"] == cast.alice_customer.pk)
    assert set(item) == CUSTOMER_FIELDS
    assert item["name"] == "广州地铁集团有限公司"
    assert item["short_name"] == "广州地铁"
    assert item["industry"] == "it"
    assert item["org_unit"] == cast.org["440106"].pk
    assert item["owner"] == cast.alice.pk
    assert item["backup_owner"] is None
    assert item["parent"] is None


def test_limit_and_offset_page_through_the_list(cast, api_as):
    client = api_as(cast.erin)
    everything = client.api_get("/customers", limit=200).json()
    assert everything["count"] == 5
    first = client.api_get("/customers", limit=2, offset=0).json()
    second = client.api_get("/customers", limit=2, offset=2).json()
    last = client.api_get("/customers", limit=2, offset=4).json()
    assert first["count"] == second["count"] == last["count"] == 5
    ids = [i["id"] for page in (first, second, last) for i in page["items"]]
    assert ids == [i["id"] for i in everything["items"]]
    assert len(last["items"]) == 1


def test_limit_is_capped_at_200(cast, api_as):
    assert api_as(cast.erin).api_get("/customers", limit=100000).status_code == 200


@pytest.mark.parametrize("text", ["gzdt", "广州地铁", "GZDT", "guangzhouditie"])
def test_search_finds_by_name_short_name_and_pinyin(cast, api_as, text):
    assert names(api_as(cast.alice).api_get("/customers", search=text)) == {"广州地铁集团有限公司"}


def test_search_by_uscc_and_number(cast, api_as):
    client = api_as(cast.alice)
    assert names(client.api_get("/customers", search=cast.alice_customer.uscc)) == {"广州地铁集团有限公司"}
    assert names(client.api_get("/customers", search=cast.alice_customer.number)) == {"广州地铁集团有限公司"}


def test_search_stays_in_scope(cast, api_as):
    assert names(api_as(cast.alice).api_get("/customers", search="天河软件园")) == set()


def test_filters_region_grade_status_owner_type_industry(cast, api_as):
    client = api_as(cast.erin)
    assert names(client.api_get("/customers", region="440104")) == {"越秀区人民医院"}
    assert names(client.api_get("/customers", region="440000")) == {
        "广州地铁集团有限公司",
        "天河软件园管理委员会",
        "越秀区人民医院",
        "深圳福田银行",
    }
    assert names(client.api_get("/customers", owner=cast.ivan.pk)) == {"深圳福田银行"}
    assert len(names(client.api_get("/customers", grade="C"))) == 5
    assert names(client.api_get("/customers", grade="A")) == set()
    assert len(names(client.api_get("/customers", status="active", type="enterprise", industry="it"))) == 5
    assert names(client.api_get("/customers", status="churned")) == set()


def test_invalid_filter_values_answer_400_naming_the_filter(cast, api_as):
    response = api_as(cast.erin).api_get("/customers", grade="Z", region="999999", status="gone")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"grade", "region", "status"}


def test_wrong_type_in_query_answers_422(cast, api_as):
    response = api_as(cast.erin).api_get("/customers", limit="many")
    assert response.status_code == 422
    assert "limit" in response.json()["errors"]


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("alice", {"alice_customer", "backed_up"}),
        ("bob", {"bob_customer", "backed_up"}),
        ("ivan", {"shenzhen_customer"}),
        ("carol", {"alice_customer", "bob_customer", "backed_up"}),
        ("dave", {"zhejiang_customer"}),
        ("grace", {"alice_customer", "bob_customer", "backed_up", "shenzhen_customer"}),
        ("erin", {"alice_customer", "bob_customer", "backed_up", "shenzhen_customer", "zhejiang_customer"}),
        ("frank", {"alice_customer", "bob_customer", "backed_up", "shenzhen_customer", "zhejiang_customer"}),
    ],
)
def test_scope_matrix_for_list_and_detail(cast, api_as, persona, visible):
    client = api_as(getattr(cast, persona))
    customers = {key: getattr(cast, key) for key in CUSTOMER_KEYS}
    assert names(client.api_get("/customers")) == {customers[key].name for key in visible}
    for key, customer in customers.items():
        expected = 200 if key in visible else 404
        for path in ("", "/contacts", "/members", "/history"):
            assert client.api_get(f"/customers/{customer.pk}{path}").status_code == expected, (key, path)


CUSTOMER_KEYS = ["alice_customer", "bob_customer", "backed_up", "shenzhen_customer", "zhejiang_customer"]


def test_out_of_scope_answers_exactly_like_missing(cast, api_as):
    client = api_as(cast.alice)
    hidden = client.api_get(f"/customers/{cast.bob_customer.pk}")
    missing = client.api_get("/customers/999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_detail_has_rollup_counts_and_member_summary(cast, api_as):
    unit = make_customer(org_unit=cast.org["330106"], parent=cast.alice_customer, name="广州地铁杭州分公司")
    body = api_as(cast.alice).api_get(f"/customers/{cast.alice_customer.pk}").json()
    assert body["unit_count"] == 1
    assert body["province_count"] == 2
    assert body["member_summary"] == {"current": 0, "on_net": 0, "group_paid": 0, "left": 0}
    # Dave sees the Zhejiang unit and learns its parent's id, not its parent's record.
    unit_body = api_as(cast.dave).api_get(f"/customers/{unit.pk}").json()
    assert unit_body["parent"] == cast.alice_customer.pk
    assert api_as(cast.dave).api_get(f"/customers/{cast.alice_customer.pk}").status_code == 404


@pytest.mark.parametrize("rows", [3, 50])
def test_list_queries_do_not_grow_with_rows(cast, api_as, django_assert_max_num_queries, rows):
    parent = cast.alice_customer
    for n in range(rows):
        make_customer(org_unit=cast.org["440106"], owner=cast.alice, parent=parent if n % 2 else None)
    client = api_as(cast.alice)
    # token (+ its last-used stamp), staff + roles, count, page (parent ids: a subquery in the same statement).
    with django_assert_max_num_queries(6):
        response = client.api_get("/customers", limit=200)
    assert response.json()["count"] == rows + 2
    with_parent = [i for i in response.json()["items"] if i["parent"]]
    assert with_parent and all(i["parent"] == parent.pk for i in with_parent)


# --- writing -------------------------------------------------------------------------------------
def test_manager_creates_a_customer_and_owns_it(cast, api_as):
    response = api_as(cast.alice).post_json("/customers", new_customer(cast))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == cast.alice.pk
    assert body["number"]
    assert AuditEvent.objects.filter(customer_id=body["id"], action=AuditAction.CREATE).exists()


def test_create_under_a_visible_parent(cast, api_as):
    response = api_as(cast.alice).post_json("/customers", new_customer(cast, parent=cast.alice_customer.pk))
    assert response.status_code == 201, response.content
    assert response.json()["parent"] == cast.alice_customer.pk


def test_create_under_an_invisible_parent_is_refused_like_a_missing_one(cast, api_as):
    hidden = api_as(cast.alice).post_json("/customers", new_customer(cast, parent=cast.bob_customer.pk))
    missing = api_as(cast.alice).post_json("/customers", new_customer(cast, parent=999999))
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == missing.json()
    assert set(hidden.json()["errors"]) == {"parent"}


def test_bad_uscc_check_digit_is_named(cast, api_as):
    uscc = make_uscc("440106")
    response = api_as(cast.alice).post_json("/customers", new_customer(cast, uscc=bad_check_digit(uscc)))
    assert response.status_code == 400
    assert response.json()["errors"]["uscc"] == [
        f"The check digit is wrong: the last character should be {uscc[-1]}, not {bad_check_digit(uscc)[-1]}."
    ]


def test_uscc_with_letter_authority_code_is_accepted_and_normalised(cast, api_as):
    first17 = "Y1440106MA5CXXXX1"[:17].replace("X", "1")
    uscc = first17 + uscc_check_digit(first17)
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in uscc.lower())
    response = api_as(cast.alice).post_json("/customers", new_customer(cast, uscc=fullwidth))
    assert response.status_code == 201, response.content
    assert response.json()["uscc"] == uscc


def test_duplicate_uscc_is_named(cast, api_as):
    response = api_as(cast.alice).post_json("/customers", new_customer(cast, uscc=cast.bob_customer.uscc))
    assert response.status_code == 400
    assert response.json()["errors"]["uscc"] == ["A customer with this unified social credit code already exists."]


def test_missing_required_fields_answer_422_naming_each(cast, api_as):
    response = api_as(cast.alice).post_json("/customers", {"short_name": "x"})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"name", "type", "industry", "org_unit"}
    assert response.json()["detail"]


def test_unknown_references_are_named(cast, api_as):
    response = api_as(cast.carol).post_json(
        "/customers", new_customer(cast, industry="alchemy", org_unit=999999, owner=cast.dave.pk)
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"industry", "org_unit", "owner"}


def test_bad_choice_is_named(cast, api_as):
    response = api_as(cast.alice).post_json("/customers", new_customer(cast, type="alien", grade="Z"))
    assert response.status_code == 400
    assert {"type", "grade"} <= set(response.json()["errors"])


@pytest.mark.parametrize("persona", ["erin", "grace"])
def test_read_only_roles_cannot_write(cast, api_as, persona):
    client = api_as(getattr(cast, persona))
    assert client.post_json("/customers", new_customer(cast)).status_code == 403
    response = client.patch_json(f"/customers/{cast.alice_customer.pk}", {"note": "x"})
    assert response.status_code == 403
    assert response.json()["detail"]


def test_patch_out_of_scope_is_404(cast, api_as):
    assert api_as(cast.alice).patch_json(f"/customers/{cast.bob_customer.pk}", {"note": "x"}).status_code == 404


def test_customers_cannot_be_deleted(cast, api_as):
    assert api_as(cast.frank).delete(f"/api/v1/customers/{cast.alice_customer.pk}").status_code == 405


def test_patch_changes_only_sent_fields_and_shows_in_history(cast, api_as):
    client = api_as(cast.alice)
    response = client.patch_json(f"/customers/{cast.alice_customer.pk}", {"address": "广州市天河区体育西路1号"})
    assert response.status_code == 200, response.content
    assert response.json()["address"] == "广州市天河区体育西路1号"
    assert response.json()["short_name"] == "广州地铁"
    history = client.api_get(f"/customers/{cast.alice_customer.pk}/history").json()
    latest = history["items"][0]
    assert set(latest) == {
        "id",
        "at",
        "actor",
        "action",
        "target_type",
        "target_id",
        "target_repr",
        "before",
        "after",
        "note",
    }
    assert latest["actor"] == "alice"
    assert latest["action"] == "update"
    assert latest["before"] == {"address": ""}
    assert latest["after"] == {"address": "广州市天河区体育西路1号"}
    assert history["count"] == 2


def test_grade_change_needs_a_reason(cast, api_as):
    client = api_as(cast.carol)
    response = client.patch_json(f"/customers/{cast.alice_customer.pk}", {"grade": "B1"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"grade_reason"}
    response = client.patch_json(
        f"/customers/{cast.alice_customer.pk}", {"grade": "B1", "grade_reason": "年收入超过200万"}
    )
    assert response.status_code == 200
    assert response.json()["grade"] == "B1"
    change = GradeChange.objects.filter(customer=cast.alice_customer).first()
    assert (change.old_grade, change.new_grade, change.reason) == ("C", "B1", "年收入超过200万")
    actions = [e["action"] for e in client.api_get(f"/customers/{cast.alice_customer.pk}/history").json()["items"]]
    assert "grade" in actions


def test_manager_cannot_regrade_or_reassign(cast, api_as):
    response = api_as(cast.alice).patch_json(
        f"/customers/{cast.alice_customer.pk}", {"grade": "A1", "grade_reason": "x", "owner": cast.bob.pk}
    )
    assert response.status_code == 400
    assert {"grade"} <= set(response.json()["errors"])


def test_supervisor_reassigns_owner_audited_as_ownership(cast, api_as):
    client = api_as(cast.carol)
    response = client.patch_json(f"/customers/{cast.alice_customer.pk}", {"owner": cast.bob.pk})
    assert response.status_code == 200, response.content
    assert response.json()["owner"] == cast.bob.pk
    latest = client.api_get(f"/customers/{cast.alice_customer.pk}/history").json()["items"][0]
    assert latest["action"] == "owner"
    assert latest["before"] == {"owner": cast.alice.pk} and latest["after"] == {"owner": cast.bob.pk}


def test_patch_moves_under_a_parent_and_back(cast, api_as):
    client = api_as(cast.carol)
    response = client.patch_json(f"/customers/{cast.bob_customer.pk}", {"parent": cast.alice_customer.pk})
    assert response.status_code == 200, response.content
    assert response.json()["parent"] == cast.alice_customer.pk
    assert Customer.objects.get(pk=cast.bob_customer.pk).depth == 2
    response = client.patch_json(f"/customers/{cast.bob_customer.pk}", {"parent": None})
    assert response.json()["parent"] is None


def test_history_is_paged_newest_first(cast, api_as):
    client = api_as(cast.alice)
    for n in range(3):
        client.patch_json(f"/customers/{cast.alice_customer.pk}", {"note": f"第{n}次拜访"})
    body = client.api_get(f"/customers/{cast.alice_customer.pk}/history", limit=2).json()
    assert body["count"] == 4
    assert [i["after"]["note"] for i in body["items"]] == ["第2次拜访", "第1次拜访"]


def test_history_filters_by_action_and_search(cast, api_as):
    client = api_as(cast.carol)
    client.patch_json(f"/customers/{cast.alice_customer.pk}", {"grade": "B2", "grade_reason": "扩容"})
    url = f"/customers/{cast.alice_customer.pk}/history"
    assert [e["action"] for e in client.api_get(url, action="grade").json()["items"]] == ["grade"]
    assert [e["note"] for e in client.api_get(url, search="扩容").json()["items"]] == ["扩容"]
