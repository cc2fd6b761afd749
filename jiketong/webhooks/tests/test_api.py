"""The webhooks API: administrators only; the secret only where it is asked for."""

import pytest

from jiketong.api.tests.conftest import ApiClient
from jiketong.org.services import token_issue
from jiketong.webhooks.models import Delivery, Endpoint

API = "/api/v1/webhooks"


def api(staff) -> ApiClient:
    return ApiClient(token_issue(user=staff.user))


def test_an_admin_registers_reads_changes_and_deletes_an_endpoint(cast):
    client = api(cast.frank)
    created = client.post_json("/webhooks/endpoints", {"name": "BOSS", "url": "https://boss.example.cn/h",
                                                       "events": ["order.completed"]})  # fmt: skip
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["events"] == ["order.completed"] and body["active"]
    endpoint_id = body["id"]

    got = client.api_get(f"/webhooks/endpoints/{endpoint_id}").json()
    assert "secret" not in got and got["name"] == "BOSS"
    assert client.api_get(f"/webhooks/endpoints/{endpoint_id}/secret").json() == {"secret": body["secret"]}
    listed = client.api_get("/webhooks/endpoints").json()
    assert listed["count"] == 1 and "secret" not in listed["items"][0]

    patched = client.patch_json(f"/webhooks/endpoints/{endpoint_id}", {"events": ["*"], "active": False})
    assert patched.status_code == 200 and patched.json()["events"] == ["*"] and not patched.json()["active"]

    rotated = client.post_json(f"/webhooks/endpoints/{endpoint_id}/rotate-secret").json()["secret"]
    assert rotated != body["secret"] and Endpoint.objects.get().secret == rotated

    assert client.delete(f"{API}/endpoints/{endpoint_id}").status_code == 204
    assert not Endpoint.objects.exists()


def test_bad_input_answers_field_errors(cast):
    response = api(cast.frank).post_json("/webhooks/endpoints", {"name": "OA", "url": "ftp://x", "events": ["nope"]})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"url", "events"}


def test_the_delivery_log_and_redelivery(cast, endpoint, receiver, emit):
    receiver.script = [500]
    event = emit()
    client = api(cast.frank)
    log = client.api_get(f"/webhooks/endpoints/{endpoint.pk}/deliveries").json()
    assert log["count"] == 1
    row = log["items"][0]
    assert (row["event"], row["event_type"], row["status"]) == (event.pk, "order.completed", "failed")
    assert row["attempts"] == 1 and row["last_status_code"] == 500
    assert client.api_get(f"/webhooks/endpoints/{endpoint.pk}/deliveries", status="succeeded").json()["count"] == 0

    again = client.post_json(f"/webhooks/deliveries/{row['id']}/redeliver")
    assert again.status_code == 200
    assert again.json()["status"] == "succeeded" and again.json()["attempts"] == 2
    assert [a["succeeded"] for a in again.json()["attempt_log"]] == [True, False]
    assert again.json()["attempt_log"][0]["redelivered_by"] == cast.frank.user.pk
    assert len(receiver.requests) == 2


def test_send_test_answers_how_the_receiver_took_it(cast, endpoint, receiver):
    receiver.script = [401]
    answer = api(cast.frank).post_json(f"/webhooks/endpoints/{endpoint.pk}/test").json()
    assert answer["delivered"] is False and answer["status_code"] == 401


def test_unknown_ids_answer_404(cast):
    client = api(cast.frank)
    assert client.api_get("/webhooks/endpoints/987654").status_code == 404
    assert client.post_json("/webhooks/deliveries/987654/redeliver").status_code == 404


@pytest.mark.parametrize("persona", ["alice", "carol", "erin", "grace"])
def test_non_admins_get_403_everywhere(cast, endpoint, emit, receiver, persona):
    emit()
    delivery = Delivery.objects.get()
    client = api(getattr(cast, persona))
    e, d = endpoint.pk, delivery.pk
    calls = [
        client.api_get("/webhooks/endpoints"),
        client.post_json("/webhooks/endpoints", {"name": "x", "url": "https://x.example.cn/", "events": ["*"]}),
        client.api_get(f"/webhooks/endpoints/{e}"),
        client.patch_json(f"/webhooks/endpoints/{e}", {"active": False}),
        client.delete(f"{API}/endpoints/{e}"),
        client.api_get(f"/webhooks/endpoints/{e}/secret"),
        client.post_json(f"/webhooks/endpoints/{e}/rotate-secret"),
        client.post_json(f"/webhooks/endpoints/{e}/test"),
        client.api_get(f"/webhooks/endpoints/{e}/deliveries"),
        client.api_get(f"/webhooks/deliveries/{d}"),
        client.post_json(f"/webhooks/deliveries/{d}/redeliver"),
    ]
    assert [r.status_code for r in calls] == [403] * len(calls)
    assert all(endpoint.secret not in r.content.decode() for r in calls)
    assert Endpoint.objects.get().active and Endpoint.objects.get().secret == endpoint.secret
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("bad", ["0", "-1", str(2**63), "abc"])
def test_ids_out_of_range_answer_422_not_500(cast, bad):
    assert api(cast.frank).api_get(f"/webhooks/endpoints/{bad}").status_code in (404, 422)


def test_control_characters_and_overlong_values_are_refused_on_the_field(cast):
    client = api(cast.frank)
    for body, field in (
        ({"name": "OA\x00", "url": "https://oa.example.cn/", "events": ["*"]}, "name"),
        ({"name": "OA" * 60, "url": "https://oa.example.cn/", "events": ["*"]}, "name"),
        ({"name": "OA", "url": "https://oa.example.cn/" + "a" * 600, "events": ["*"]}, "url"),
    ):
        response = client.post_json("/webhooks/endpoints", body)
        assert response.status_code in (400, 422) and field in response.json()["errors"], body
    assert not Endpoint.objects.exists()
