"""The audit trail's building blocks: snapshots, change diffs and the event row."""

from datetime import date
from decimal import Decimal

from jiketong.core.audit import changed, record, record_export, snapshot
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.customers.services import CUSTOMER_FIELDS


def test_snapshot_keeps_foreign_keys_as_ids_and_dates_as_iso_text(cast):
    customer = cast.alice_customer
    data = snapshot(customer, ["owner", "org_unit", "cooperation_since", "name"])
    assert data == {
        "owner": cast.alice.pk,
        "org_unit": cast.org["440106"].pk,
        "cooperation_since": "2020-01-01",
        "name": "广州地铁集团有限公司",
    }


def test_snapshot_keeps_money_as_exact_text(cast):
    from jiketong.catalog.models import Product

    product = Product(code="P1", name="集团V网", standard_price=Decimal("12.30"))
    assert snapshot(product, ["standard_price"]) == {"standard_price": "12.30"}


def test_changed_returns_only_the_keys_that_differ():
    before = {"name": "甲", "grade": "C", "note": ""}
    after = {"name": "甲", "grade": "B1", "note": "x"}
    assert changed(before, after) == ({"grade": "C", "note": ""}, {"grade": "B1", "note": "x"})
    assert changed(before, dict(before)) == ({}, {})


def test_record_writes_who_what_and_which_customer(cast):
    event = record(
        actor=cast.alice.user,
        action=AuditAction.UPDATE,
        target=cast.alice_customer,
        customer_id=cast.alice_customer.pk,
        before={"grade": "C"},
        after={"grade": "B1"},
        note="n",
    )
    event.refresh_from_db()
    assert event.actor == cast.alice.user
    assert event.at is not None
    assert (event.target_type, event.target_id) == ("customers.customer", cast.alice_customer.pk)
    assert event.target_repr == "广州地铁集团有限公司"
    assert event.changes() == [("grade", "C", "B1")]


def test_record_without_a_saved_actor_keeps_actor_empty(cast):
    event = record(actor=None, action=AuditAction.UPDATE, target=cast.alice_customer, customer_id=None)
    assert event.actor_id is None


def test_export_is_logged_with_count_and_filters(cast):
    event = record_export(actor=cast.erin.user, what="customers", count=42, filters="grade=A")
    assert event.action == AuditAction.EXPORT
    assert event.after == {"count": 42, "filters": "grade=A"}
    assert event.actor == cast.erin.user


def test_customer_create_snapshot_covers_every_audited_field(cast):
    event = AuditEvent.objects.get(
        action=AuditAction.CREATE, target_type="customers.customer", target_id=cast.alice_customer.pk
    )
    assert set(CUSTOMER_FIELDS) <= set(event.after)
    assert event.after["cooperation_since"] == date(2020, 1, 1).isoformat()
