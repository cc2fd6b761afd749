"""The key-person map over the API: relations, counterparts, mark-left, the map's data and the gaps list."""

import json
from datetime import date, timedelta

import pytest
from django.utils import timezone

from jiketong.api.tests.conftest import API, ApiClient
from jiketong.customers import keypersons, services
from jiketong.customers.models import ContactRelation
from jiketong.org.services import token_issue


@pytest.fixture
def api_as():
    return lambda staff: ApiClient(token_issue(user=staff.user))


@pytest.fixture
def metro(cast):
    add = lambda name, **f: services.contact_create(  # noqa: E731
        actor=cast.alice.user, customer=cast.alice_customer, name=name, **f
    )
    boss = add("张总", title="总经理", decision_role="decider", mobile="13920001234", email="zz@example.com")
    deputy = add("李处", title="处长", decision_role="influencer", birthday=date(1980, 2, 2))
    return boss, deputy


def put_json(client, path, data):
    return client.put(API + path, data, content_type="application/json")


def relations(customer) -> str:
    return f"/customers/{customer.pk}/contact-relations"


def test_relations_are_created_listed_and_removed(metro, cast, api_as):
    boss, deputy = metro
    client = api_as(cast.alice)
    created = client.post_json(
        relations(cast.alice_customer), {"from_contact": deputy.pk, "to_contact": boss.pk, "kind": "reports_to"}
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["from_name"], body["to_name"], body["kind"]) == ("李处", "张总", "reports_to")
    listed = client.api_get(relations(cast.alice_customer)).json()
    assert listed["count"] == 1
    gone = client.delete(f"{API}{relations(cast.alice_customer)}/{body['id']}")
    assert gone.status_code == 204
    assert not ContactRelation.objects.exists()


def test_a_reports_to_circle_is_a_400_on_to_contact(metro, cast, api_as):
    boss, deputy = metro
    client = api_as(cast.alice)
    client.post_json(
        relations(cast.alice_customer), {"from_contact": deputy.pk, "to_contact": boss.pk, "kind": "reports_to"}
    )
    response = client.post_json(
        relations(cast.alice_customer), {"from_contact": boss.pk, "to_contact": deputy.pk, "kind": "reports_to"}
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["to_contact"]
    assert "circle" in response.json()["errors"]["to_contact"][0]


def test_a_contact_of_another_customer_is_a_400_like_an_unknown_one(metro, cast, api_as):
    other = services.contact_create(actor=cast.bob.user, customer=cast.bob_customer, name="外人")
    response = api_as(cast.alice).post_json(
        relations(cast.alice_customer), {"from_contact": metro[0].pk, "to_contact": other.pk, "kind": "influences"}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"to_contact": ["This customer has no such contact."]}


def test_counterpart_must_see_the_customer(metro, cast, api_as):
    client = api_as(cast.alice)
    path = f"/customers/{cast.alice_customer.pk}/contacts/{metro[0].pk}/counterpart"
    refused = put_json(client, path, {"counterpart": cast.bob.pk})
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["counterpart"]
    unknown = put_json(client, path, {"counterpart": cast.dave.pk})  # another province: not even pickable
    assert unknown.status_code == 400
    saved = put_json(client, path, {"counterpart": cast.carol.pk})
    assert saved.status_code == 200
    assert (saved.json()["counterpart"], saved.json()["counterpart_name"]) == (cast.carol.pk, "陈静")


def test_mark_left_refuses_a_day_to_come_and_shows_on_the_contact(metro, cast, api_as):
    client = api_as(cast.alice)
    path = f"/customers/{cast.alice_customer.pk}/contacts/{metro[0].pk}/left"
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert client.post_json(path, {"left_on": tomorrow.isoformat()}).status_code == 400
    response = client.post_json(path, {"left_on": "2026-06-30"})
    assert response.status_code == 200 and response.json()["left_on"] == "2026-06-30"


def test_the_map_carries_no_personal_data(metro, cast, api_as):
    services.contact_relation_add(actor=cast.alice.user, from_contact=metro[1], to_contact=metro[0], kind="reports_to")
    response = api_as(cast.alice).api_get(f"/customers/{cast.alice_customer.pk}/key-person-map")
    assert response.status_code == 200
    data = response.json()
    assert [n["name"] for n in data["nodes"]] == ["张总", "李处"]
    assert data["links"][0]["kind"] == "reports_to" and data["has_decider"] is True
    text = json.dumps(data)
    for secret in ("13920001234", "1234", "zz@", "example.com", "1980"):
        assert secret not in text


def test_the_map_of_a_customer_out_of_scope_is_a_404(metro, cast, api_as):
    assert api_as(cast.bob).api_get(f"/customers/{cast.alice_customer.pk}/key-person-map").status_code == 404


def test_the_gaps_list_is_scoped(metro, cast, api_as):
    keypersons.refresh(timezone.localdate())
    names = {g["customer_name"] for g in api_as(cast.carol).api_get("/key-person-gaps").json()["items"]}
    assert names == {"天河软件园管理委员会", "越秀区人民医院"}
    unmet = api_as(cast.alice).api_get("/key-person-gaps", kind="unmet_decider").json()["items"]
    assert [(g["customer_name"], g["contact_name"], g["last_met_at"]) for g in unmet] == [
        ("广州地铁集团有限公司", "张总", None)
    ]
