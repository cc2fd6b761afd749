"""Endpoint services: admins only, validated, audited without the secret."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from standardwebhooks import Webhook

from jiketong.core.models import AuditAction, AuditEvent
from jiketong.webhooks import services
from jiketong.webhooks.models import Endpoint


def _audit_text(endpoint: Endpoint) -> str:
    rows = AuditEvent.objects.filter(target_type="webhooks.endpoint", target_id=endpoint.pk)
    return json.dumps([[r.before, r.after, r.note] for r in rows], ensure_ascii=False)


def test_a_new_endpoint_gets_a_standard_webhooks_secret(cast):
    endpoint = services.endpoint_create(
        actor=cast.frank.user, name="BOSS", url="https://boss.example.cn/hook", events=["order.completed"]
    )
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    Webhook(endpoint.secret)  # the package accepts it
    other = services.endpoint_create(actor=cast.frank.user, name="OA", url="https://oa.example.cn/", events=["*"])
    assert other.secret != endpoint.secret and other.created_by == cast.frank.user


def test_creating_changing_and_disabling_an_endpoint_is_audited_without_the_secret(cast):
    frank = cast.frank.user
    endpoint = services.endpoint_create(actor=frank, name="BOSS", url="https://boss.example.cn/h", events=["*"])
    first_secret = endpoint.secret
    services.endpoint_update(actor=frank, endpoint=endpoint, url="https://boss2.example.cn/h")
    services.endpoint_rotate_secret(actor=frank, endpoint=endpoint)
    services.endpoint_deactivate(actor=frank, endpoint=endpoint)
    actions = list(
        AuditEvent.objects.filter(target_id=endpoint.pk, target_type="webhooks.endpoint")
        .order_by("at", "pk")
        .values_list("action", flat=True)
    )
    assert actions == [AuditAction.CREATE, AuditAction.UPDATE, AuditAction.UPDATE, AuditAction.UPDATE]
    change = AuditEvent.objects.filter(target_id=endpoint.pk, action=AuditAction.UPDATE).order_by("at", "pk")[0]
    assert change.before == {"url": "https://boss.example.cn/h"} and change.after == {
        "url": "https://boss2.example.cn/h"
    }
    endpoint.refresh_from_db()
    text = _audit_text(endpoint)
    assert first_secret not in text and endpoint.secret not in text and "whsec_" not in text
    assert not endpoint.active and endpoint.disabled_reason


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"name": " ", "url": "https://a.example.cn/", "events": ["*"]}, "name"),
        ({"name": "BOSS", "url": "ftp://a.example.cn/", "events": ["*"]}, "url"),
        ({"name": "BOSS", "url": "not a url", "events": ["*"]}, "url"),
        ({"name": "BOSS", "url": "https://a.example.cn/", "events": []}, "events"),
        ({"name": "BOSS", "url": "https://a.example.cn/", "events": ["order.exploded"]}, "events"),
    ],
)
def test_bad_endpoints_are_refused_on_the_field(cast, fields, field):
    with pytest.raises(ValidationError) as caught:
        services.endpoint_create(actor=cast.frank.user, **fields)
    assert field in caught.value.message_dict
    assert not Endpoint.objects.exists()


def test_all_events_wins_over_a_list(cast):
    endpoint = services.endpoint_create(
        actor=cast.frank.user, name="数仓", url="https://dw.example.cn/", events=["order.completed", "*"]
    )
    assert endpoint.events == ["*"] and endpoint.wants("member.left")


@pytest.mark.parametrize("persona", ["alice", "carol", "erin", "grace"])
def test_only_admins_manage_endpoints(cast, persona):
    user = getattr(cast, persona).user
    with pytest.raises(PermissionDenied):
        services.endpoint_create(actor=user, name="x", url="https://x.example.cn/", events=["*"])
    endpoint = services.endpoint_create(actor=cast.frank.user, name="x", url="https://x.example.cn/", events=["*"])
    with pytest.raises(PermissionDenied):
        services.endpoint_update(actor=user, endpoint=endpoint, active=False)
    with pytest.raises(PermissionDenied):
        services.endpoint_rotate_secret(actor=user, endpoint=endpoint)


def test_turning_an_endpoint_back_on_clears_its_failures(cast):
    frank = cast.frank.user
    endpoint = services.endpoint_create(actor=frank, name="OA", url="https://oa.example.cn/", events=["*"])
    Endpoint.objects.filter(pk=endpoint.pk).update(
        active=False, disabled_reason="…", consecutive_failures=12, failing_since="2026-01-01T00:00:00Z"
    )
    endpoint.refresh_from_db()
    services.endpoint_activate(actor=frank, endpoint=endpoint)
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.disabled_reason == "" and endpoint.consecutive_failures == 0
    assert endpoint.failing_since is None
