"""Delivering events to a real HTTP receiver on 127.0.0.1: signed, retried with backoff, redelivered, disabled."""

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook

from jiketong.core.models import AuditAction, AuditEvent, Notification
from jiketong.webhooks import jobs, reactions, sender, services
from jiketong.webhooks.models import Attempt, Delivery, DeliveryStatus, Endpoint


def later(**delta):
    return timezone.now() + timedelta(**delta)


def test_each_event_is_posted_signed_with_the_endpoint_secret(endpoint, receiver, emit):
    event = emit("order.completed", order=41)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "order.completed"
    assert payload["data"] == {"id": event.pk, "customer": event.customer_id, "order": 41}
    assert payload["timestamp"].endswith("Z")
    assert request.headers["webhook-id"] == str(event.pk)
    assert request.headers["content-type"] == "application/json"
    delivery = Delivery.objects.get(endpoint=endpoint, event=event)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.SUCCEEDED, 1, 200)


def test_the_signature_is_plain_hmac_sha256_over_id_timestamp_and_body(endpoint, receiver, emit):
    """What a receiver without the standardwebhooks package computes (docs/api.md's example)."""
    emit()
    request = receiver.requests[0]
    key = base64.b64decode(endpoint.secret.removeprefix("whsec_"))
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert request.headers["webhook-signature"] == f"v1,{expected}"


def test_a_signature_made_with_another_secret_does_not_verify(endpoint, receiver, emit):
    from standardwebhooks import WebhookVerificationError

    emit()
    request = receiver.requests[0]
    other = services.endpoint_rotate_secret(actor=endpoint.created_by, endpoint=endpoint).secret
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(request.body, request.headers)


def test_a_receiver_that_fails_twice_then_succeeds_gets_exactly_one_successful_delivery(endpoint, receiver, emit):
    receiver.script = [500, 503]
    event = emit()
    delivery = Delivery.objects.get(event=event)
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_status_code == 500

    assert jobs.frequent(later(seconds=10)) == "webhooks: 0 delivered, 0 failed"  # the 30 s pause is not over
    jobs.frequent(later(seconds=31))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_status_code == 503
    assert delivery.next_attempt_at > later(minutes=2, seconds=20)  # the second pause is 2 minutes

    assert jobs.frequent(later(minutes=3)) == "webhooks: 1 delivered, 0 failed"
    jobs.frequent(later(days=2))  # nothing left to send

    assert receiver.answers == [500, 503, 200] and receiver.successes == 1
    assert {r.headers["webhook-id"] for r in receiver.requests} == {str(event.pk)}  # stable across retries
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.SUCCEEDED, 3, "")
    log = list(Attempt.objects.filter(delivery=delivery).order_by("at").values_list("status_code", "succeeded"))
    assert log == [(500, False), (503, False), (200, True)]


def test_the_receivers_answer_is_kept_in_the_log(endpoint, receiver, emit):
    receiver.script = [422]
    emit()
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.last_error == "HTTP 422: receiver says no"


def test_a_redirect_is_a_failure_and_is_not_followed(endpoint, receiver, emit):
    receiver.script = [302]
    emit()
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_status_code == 302
    assert len(receiver.requests) == 1


def test_a_receiver_that_does_not_answer_in_time_is_a_failure(endpoint, receiver, emit, settings):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.3
    receiver.delay = 1.0
    emit()
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_status_code is None
    assert "0.3" in delivery.last_error or "timed out" in delivery.last_error


def test_a_receiver_that_is_down_is_a_failure(cast, emit):
    closed = services.endpoint_create(actor=cast.frank.user, name="OA", url="http://127.0.0.1:9/x", events=["*"])
    emit()
    delivery = Delivery.objects.get(endpoint=closed)
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_error


def test_redelivery_sends_the_same_message_again(endpoint, receiver, emit, cast):
    event = emit()
    delivery = Delivery.objects.get(event=event)
    services.delivery_redeliver(actor=cast.frank.user, delivery=delivery)
    assert len(receiver.requests) == 2
    first, second = receiver.requests
    assert first.body == second.body and second.headers["webhook-id"] == str(event.pk)
    Webhook(endpoint.secret).verify(second.body, second.headers)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 2
    assert Attempt.objects.filter(delivery=delivery, requested_by=cast.frank.user).count() == 1


def test_redelivery_of_a_delivery_that_gave_up_starts_a_fresh_round(endpoint, receiver, emit, cast):
    receiver.script = [500]
    delivery = Delivery.objects.get(event=emit())
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.GAVE_UP, next_attempt_at=None, failures=10)
    receiver.script = [500]
    delivery = services.delivery_redeliver(actor=cast.frank.user, delivery=delivery)
    assert delivery.status == DeliveryStatus.FAILED and delivery.failures == 1
    assert delivery.next_attempt_at is not None
    jobs.frequent(later(minutes=1))
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 3


def test_an_endpoint_subscribed_to_other_events_gets_nothing(cast, receiver, emit):
    services.endpoint_create(actor=cast.frank.user, name="OA", url=receiver.url, events=["quote.decided"])
    emit("order.completed")
    jobs.frequent(later(days=1))
    assert receiver.requests == [] and not Delivery.objects.exists()
    emit("quote.decided", quote=3, decision="approved")
    assert [json.loads(r.body)["type"] for r in receiver.requests] == ["quote.decided"]


def test_an_inactive_endpoint_gets_nothing(endpoint, receiver, emit, cast):
    services.endpoint_deactivate(actor=cast.frank.user, endpoint=endpoint)
    emit()
    jobs.frequent(later(days=1))
    assert receiver.requests == [] and not Delivery.objects.exists()


def test_fanning_out_the_same_event_twice_sends_it_once(endpoint, receiver, emit, django_capture_on_commit_callbacks):
    event = emit()
    with django_capture_on_commit_callbacks(execute=True):
        reactions.fan_out(event)
    jobs.frequent(later(days=1))
    assert Delivery.objects.filter(event=event).count() == 1 and len(receiver.requests) == 1


def test_a_delivery_being_sent_is_not_sent_again_by_the_job(endpoint, receiver, emit):
    receiver.script = [500]
    delivery = Delivery.objects.get(event=emit())
    now = later(minutes=1)
    assert services._claim(delivery.pk, now, manual=False)  # a sender took it and is waiting for an answer
    assert services.delivery_attempt(delivery.pk, now=now) is None
    assert jobs.frequent(now) == "webhooks: 0 delivered, 0 failed"
    assert len(receiver.requests) == 1


def test_a_delivery_left_by_a_dead_sender_is_picked_up_by_the_job(endpoint, receiver, emit):
    """The task never ran (no worker, or it died mid-send): the frequent job sends it."""
    event = emit()
    Delivery.objects.filter(event=event).update(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=later())
    assert jobs.frequent(later(minutes=5)) == "webhooks: 1 delivered, 0 failed"
    assert len(receiver.requests) == 2


def test_one_failing_endpoint_costs_one_attempt_per_run_not_one_per_delivery(endpoint, receiver, emit):
    receiver.script = [500] * 3
    emit()
    emit()
    emit()
    assert len(receiver.requests) == 3
    receiver.script = [500] * 3
    assert jobs.frequent(later(minutes=1)) == "webhooks: 0 delivered, 1 failed"
    assert len(receiver.requests) == 4


def test_no_unmasked_mobile_leaves_in_a_body(endpoint, receiver, emit):
    emit(
        "customer.lifecycle_changed",
        customer_status="active",
        reason="客户经理电话 13812345678，座机 020-83216789，身份证 440106199001011234，邮箱 lihong@example.com",
        mobile="13912345678",
        members=[{"id": 7, "phone": "+86 137 1234 5678"}],
        birthday="1990-01-01",
        id_number="44010619900101123X",
    )
    body = receiver.requests[0].body.decode()
    for secret in ("13812345678", "13912345678", "13712345678", "83216789", "199001011234", "lihong@"):
        assert secret not in body
    data = json.loads(body)["data"]
    assert "138****5678" in data["reason"] and data["mobile"] == "139****5678"
    assert data["members"] == [{"id": 7, "phone": "137****5678"}]
    assert data["birthday"] == "****-**-**" and "19900101" not in data["id_number"]


def test_scrub_leaves_ids_dates_and_amounts_alone():
    payload = {"order": 13812345678, "completed_on": "2026-06-01", "amount": "1280.00", "periods": ["2026-05"]}
    assert sender.scrub(payload) == payload


def _fail_until_it_gives_up(delivery: Delivery) -> None:
    for _ in range(20):
        delivery.refresh_from_db()
        if delivery.next_attempt_at is None:
            return
        jobs.frequent(delivery.next_attempt_at)
    raise AssertionError("the delivery never gave up")


def test_retries_last_about_a_day_then_the_endpoint_is_disabled_and_admins_told(endpoint, receiver, emit, cast):
    receiver.script = [500] * 50
    event = emit()
    delivery = Delivery.objects.get(event=event)
    _fail_until_it_gives_up(delivery)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.GAVE_UP and delivery.attempts == len(services.BACKOFF) + 1
    attempts = list(Attempt.objects.filter(delivery=delivery).order_by("at").values_list("at", flat=True))
    assert timedelta(hours=24) < attempts[-1] - attempts[0] < timedelta(hours=27)

    endpoint.refresh_from_db()
    assert not endpoint.active and "no successful delivery" in endpoint.disabled_reason
    notices = Notification.objects.filter(kind="webhook_disabled")
    assert [n.recipient_id for n in notices] == [cast.frank.user.pk]
    assert endpoint.name in notices[0].title and notices[0].url.endswith(f"/webhooks/{endpoint.pk}/")
    assert AuditEvent.objects.filter(target_id=endpoint.pk, action=AuditAction.STATUS, actor=None).exists()

    emit()  # a disabled endpoint is not sent anything new
    assert len(receiver.requests) == len(services.BACKOFF) + 1


def test_an_endpoint_is_disabled_after_n_failed_attempts_in_a_row_when_configured(endpoint, receiver, emit, settings):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 3
    receiver.script = [500] * 10
    emit()
    emit()
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.consecutive_failures == 2
    emit()
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert Notification.objects.filter(kind="webhook_disabled").count() == 1


def test_a_success_resets_the_failure_count(endpoint, receiver, emit, settings):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 3
    receiver.script = [500, 500]
    emit()
    emit()
    emit()  # 200
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.consecutive_failures == 0 and endpoint.failing_since is None


def test_an_endpoint_turned_back_on_sends_what_waited(endpoint, receiver, emit, cast):
    receiver.script = [500]
    delivery = Delivery.objects.get(event=emit())
    services.endpoint_deactivate(actor=cast.frank.user, endpoint=endpoint)
    assert jobs.frequent(later(hours=1)) == "webhooks: 0 delivered, 0 failed"
    services.endpoint_activate(actor=cast.frank.user, endpoint=endpoint)
    assert jobs.frequent(later(hours=1)) == "webhooks: 1 delivered, 0 failed"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED


def test_given_up_deliveries_can_be_queued_again_in_one_go(endpoint, receiver, emit, cast):
    receiver.script = [500, 500]
    emit()
    emit()
    Delivery.objects.update(status=DeliveryStatus.GAVE_UP, next_attempt_at=None)
    with_callbacks = services.endpoint_redeliver_given_up(actor=cast.frank.user, endpoint=endpoint)
    assert with_callbacks == 2
    jobs.frequent(later(minutes=1))
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}


def test_old_successful_deliveries_are_forgotten_failures_kept(endpoint, receiver, emit, settings):
    settings.WEBHOOKS_KEEP_DAYS = 30
    receiver.script = [200, 500]
    emit()
    emit()
    Delivery.objects.update(delivered_at=timezone.now() - timedelta(days=40), created_at=timezone.now())
    assert jobs.daily(timezone.localdate()) == "webhooks: 1 old deliveries removed"
    assert list(Delivery.objects.values_list("status", flat=True)) == [DeliveryStatus.FAILED]


def test_the_send_test_message_is_signed_and_recorded_nowhere(endpoint, receiver, cast):
    result = services.endpoint_send_test(actor=cast.frank.user, endpoint=endpoint)
    assert result.ok
    payload = Webhook(endpoint.secret).verify(receiver.requests[0].body, receiver.requests[0].headers)
    assert payload["type"] == "webhook.test" and payload["data"] == {"endpoint": endpoint.pk}
    assert not Delivery.objects.exists() and Endpoint.objects.get().consecutive_failures == 0
