"""The admins' webhook pages: everyone else gets 403; the secret is shown on creation and on request."""

import pytest
from django.urls import reverse

from jiketong.webhooks import services
from jiketong.webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint


@pytest.fixture
def delivered(endpoint, emit):
    emit()
    return Delivery.objects.get(endpoint=endpoint)


def _routes(endpoint: Endpoint, delivery: Delivery) -> list[tuple[str, str]]:
    e, d = [endpoint.pk], [delivery.pk]
    return [
        ("get", reverse("webhooks:list")),
        ("get", reverse("webhooks:create")),
        ("post", reverse("webhooks:create")),
        ("get", reverse("webhooks:detail", args=e)),
        ("get", reverse("webhooks:detail", args=e) + "?secret=show"),
        ("get", reverse("webhooks:edit", args=e)),
        ("post", reverse("webhooks:edit", args=e)),
        ("post", reverse("webhooks:rotate_secret", args=e)),
        ("post", reverse("webhooks:activate", args=e)),
        ("post", reverse("webhooks:deactivate", args=e)),
        ("post", reverse("webhooks:test", args=e)),
        ("post", reverse("webhooks:redeliver_given_up", args=e)),
        ("post", reverse("webhooks:delete", args=e)),
        ("get", reverse("webhooks:delivery", args=d)),
        ("post", reverse("webhooks:redeliver", args=d)),
    ]


@pytest.mark.parametrize("persona", ["alice", "carol", "erin", "grace"])
def test_non_admins_get_403_on_every_page_and_change_nothing(cast, client_as, delivered, receiver, persona):
    client = client_as(getattr(cast, persona))
    secret = delivered.endpoint.secret
    for method, url in _routes(delivered.endpoint, delivered):
        response = getattr(client, method)(url)
        assert response.status_code == 403, f"{method} {url}: {response.status_code}"
        assert secret not in response.content.decode()
    endpoint = Endpoint.objects.get()
    assert endpoint.active and endpoint.secret == secret and len(receiver.requests) == 1


def test_the_menu_shows_webhooks_to_admins_only(cast, client_as):
    url = reverse("webhooks:list")
    assert url in client_as(cast.frank).get("/").content.decode()
    assert url not in client_as(cast.alice).get("/").content.decode()


def test_an_admin_registers_an_endpoint_and_sees_its_secret_once(cast, client_as):
    client = client_as(cast.frank)
    response = client.post(
        reverse("webhooks:create"),
        {"name": "BOSS 开通", "url": "https://boss.example.cn/hook", "events": ["order.completed", "member.left"],
         "active": "on"},
    )  # fmt: skip
    endpoint = Endpoint.objects.get()
    assert response.status_code == 302 and response["Location"].endswith("?secret=show")
    assert endpoint.events == ["order.completed", "member.left"] and endpoint.active
    page = client.get(response["Location"]).content.decode()
    assert endpoint.secret in page and "签名密钥" in page
    assert endpoint.secret not in client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert (
        endpoint.secret
        in client.get(
            reverse("webhooks:detail", args=[endpoint.pk]) + "?secret=show", HTTP_HX_REQUEST="true"
        ).content.decode()
    )


def test_a_bad_url_is_shown_on_its_field(cast, client_as):
    data = {"name": "OA", "url": "ftp://oa", "all_events": "on"}
    response = client_as(cast.frank).post(reverse("webhooks:create"), data)
    assert response.status_code == 200 and 'data-field-error="url"' in response.content.decode()
    assert not Endpoint.objects.exists()


def test_no_event_chosen_is_shown_on_the_events(cast, client_as):
    response = client_as(cast.frank).post(reverse("webhooks:create"), {"name": "OA", "url": "https://oa.example.cn/"})
    assert 'data-field-error="events"' in response.content.decode()


def test_an_admin_edits_and_deactivates_an_endpoint(cast, client_as, endpoint):
    client = client_as(cast.frank)
    response = client.post(
        reverse("webhooks:edit", args=[endpoint.pk]), {"name": "数仓", "url": endpoint.url, "all_events": "on"}
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.name == "数仓" and endpoint.events == ["*"] and not endpoint.active  # "active" unticked
    client.post(reverse("webhooks:activate", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.active


def test_the_delivery_log_lists_deliveries_and_redelivers_one(cast, client_as, delivered, receiver):
    client = client_as(cast.frank)
    page = client.get(reverse("webhooks:detail", args=[delivered.endpoint_id])).content.decode()
    assert "order.completed" in page and reverse("webhooks:redeliver", args=[delivered.pk]) in page
    log = client.get(
        reverse("webhooks:detail", args=[delivered.endpoint_id]) + "?status=succeeded", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'id="delivery-log"' in log and "<html" not in log and "order.completed" in log

    response = client.post(reverse("webhooks:redeliver", args=[delivered.pk]), {"back": "endpoint"})
    assert response.status_code == 302 and response["Location"].endswith(f"/webhooks/{delivered.endpoint_id}/")
    assert len(receiver.requests) == 2
    assert Attempt.objects.filter(delivery=delivered, requested_by=cast.frank.user).exists()


def test_the_delivery_page_shows_the_body_and_every_attempt(cast, client_as, endpoint, receiver, emit):
    receiver.script = [500]
    emit()
    delivery = Delivery.objects.get()
    page = client_as(cast.frank).get(reverse("webhooks:delivery", args=[delivery.pk])).content.decode()
    assert "HTTP 500" in page and "&quot;type&quot;:&quot;order.completed&quot;" in page


def test_pages_answer_in_bounded_queries(cast, client_as, endpoint, emit, django_assert_max_num_queries):
    for _ in range(5):
        emit()
    client = client_as(cast.frank)
    with django_assert_max_num_queries(12):
        client.get(reverse("webhooks:list"))
    with django_assert_max_num_queries(14):
        client.get(reverse("webhooks:detail", args=[endpoint.pk]))


def test_given_up_deliveries_are_queued_again_from_the_page(cast, client_as, delivered):
    Delivery.objects.update(status=DeliveryStatus.GAVE_UP, next_attempt_at=None)
    page = client_as(cast.frank).get(reverse("webhooks:detail", args=[delivered.endpoint_id])).content.decode()
    assert reverse("webhooks:redeliver_given_up", args=[delivered.endpoint_id]) in page
    client_as(cast.frank).post(reverse("webhooks:redeliver_given_up", args=[delivered.endpoint_id]))
    assert Delivery.objects.get().status == DeliveryStatus.PENDING
    assert services.send_due() == (1, 0)


def test_showing_a_secret_is_logged_as_a_reveal_in_the_page_and_the_api(cast, client_as, endpoint):
    from jiketong.api.tests.conftest import ApiClient
    from jiketong.core.models import AuditAction, AuditEvent
    from jiketong.org.services import token_issue

    reveals = AuditEvent.objects.filter(
        action=AuditAction.REVEAL, target_type="webhooks.endpoint", target_id=endpoint.pk
    )
    client_as(cast.frank).get(reverse("webhooks:detail", args=[endpoint.pk]))
    assert not reveals.exists()  # the hint alone reveals nothing
    client_as(cast.frank).get(reverse("webhooks:detail", args=[endpoint.pk]) + "?secret=show")
    assert (
        ApiClient(token_issue(user=cast.frank.user)).api_get(f"/webhooks/endpoints/{endpoint.pk}/secret").status_code
        == 200
    )
    assert list(reveals.values_list("actor", flat=True)) == [cast.frank.pk, cast.frank.pk]
    assert endpoint.secret not in str(list(reveals.values("before", "after", "note", "target_repr")))
