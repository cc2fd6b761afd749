"""Tickets: first-responder ownership, transfers, SLA deadlines in working time, reopen, rating, handover."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from jiketong.core.models import AuditAction, AuditEvent
from jiketong.customers.models import Contact
from jiketong.service import queries, services
from jiketong.service.models import EventKind, SlaPolicy, TicketStatus

from .factories import at, receive

pytestmark = pytest.mark.django_db


def test_whoever_receives_a_ticket_owns_it(cast):
    ticket = receive(cast.alice, cast.backed_up)  # Alice backs this customer up; Bob owns the customer
    assert ticket.owner == cast.alice and ticket.received_by == cast.alice
    assert ticket.status == TicketStatus.NEW
    assert ticket.number.startswith("GD") and str(ticket.pk) in ticket.number
    assert ticket.events.get().kind == EventKind.CREATED
    assert AuditEvent.objects.filter(target_id=ticket.pk, action=AuditAction.CREATE).exists()


def test_nobody_receives_a_ticket_for_a_customer_out_of_scope(cast):
    with pytest.raises(Http404):
        receive(cast.alice, cast.bob_customer)


def test_read_only_roles_cannot_receive_tickets(cast):
    with pytest.raises(PermissionDenied):
        receive(cast.grace, cast.alice_customer)


def test_contact_of_another_customer_is_refused(cast):
    contact = Contact.objects.create(customer=cast.bob_customer, name="张三")
    with pytest.raises(ValidationError) as exc:
        receive(cast.alice, cast.alice_customer, contact=contact)
    assert "contact" in exc.value.message_dict


@pytest.mark.parametrize(
    ("opened", "response_due", "resolve_due"),
    [
        # Friday afternoon: 90 minutes on Friday, the rest on Monday (the weekend does not count).
        (at(2026, 11, 20, 16), at(2026, 11, 20, 16, 30), at(2026, 11, 23, 11, 30)),
        # The day before National Day: the seven days off are skipped.
        (at(2026, 9, 30, 16), at(2026, 9, 30, 16, 30), at(2026, 10, 8, 11, 30)),
        # The Friday before the make-up Saturday: the Saturday is worked.
        (at(2026, 10, 9, 16), at(2026, 10, 9, 16, 30), at(2026, 10, 10, 11, 30)),
    ],
)
def test_complaint_deadlines_are_counted_in_working_time(cast, opened, response_due, resolve_due):
    # Default complaint policy: first response in 30 working minutes, resolved in half a day (240).
    ticket = receive(cast.alice, cast.alice_customer, opened_at=opened)
    assert (ticket.response_due, ticket.resolve_due) == (response_due, resolve_due)
    assert ticket.next_due == response_due and ticket.watch_at == response_due


def test_inquiry_is_answered_within_ten_working_minutes(cast):
    ticket = receive(cast.alice, cast.alice_customer, type="inquiry", opened_at=at(2026, 11, 20, 17, 25))
    assert ticket.response_due == at(2026, 11, 23, 9, 5)


def test_grade_policy_beats_the_family_which_beats_the_default(cast):
    customer = cast.alice_customer
    customer.grade = "A1"
    customer.save(update_fields=["grade"])
    assert queries.sla_for("complaint", "A1").grade == "A"
    SlaPolicy.objects.create(ticket_type="complaint", grade="A1", response_minutes=5, resolution_minutes=60)
    ticket = receive(cast.alice, customer, opened_at=at(2026, 11, 18, 10))
    assert ticket.resolve_due == at(2026, 11, 18, 11)
    assert queries.sla_for("complaint", "C").grade == ""


def test_a_ticket_cannot_be_received_in_the_future(cast):
    with pytest.raises(ValidationError) as exc:
        receive(cast.alice, cast.alice_customer, opened_at=at(2099, 1, 1, 9))
    assert "opened_at" in exc.value.message_dict


# --- working a ticket -----------------------------------------------------------------------------
def test_only_the_owner_works_the_ticket(cast):
    ticket = receive(cast.alice, cast.backed_up)
    with pytest.raises(PermissionDenied):
        services.ticket_respond(actor=cast.bob.user, ticket=ticket)
    with pytest.raises(PermissionDenied):
        services.ticket_resolve(actor=cast.carol.user, ticket=ticket, resolution="重启设备")


def test_life_cycle_respond_resolve_close(cast, monkeypatch):
    ticket = receive(cast.alice, cast.alice_customer, opened_at=at(2026, 11, 20, 16))
    monkeypatch.setattr(services, "_now", lambda: at(2026, 11, 20, 16, 10))
    ticket = services.ticket_respond(actor=cast.alice.user, ticket=ticket, note="已联系客户")
    assert ticket.status == TicketStatus.IN_PROGRESS and not ticket.breached_response
    assert ticket.next_due == ticket.resolve_due
    with pytest.raises(ValidationError) as exc:
        services.ticket_resolve(actor=cast.alice.user, ticket=ticket, resolution="  ")
    assert "resolution" in exc.value.message_dict
    monkeypatch.setattr(services, "_now", lambda: at(2026, 11, 23, 12))  # after Monday 11:30
    ticket = services.ticket_resolve(actor=cast.alice.user, ticket=ticket, resolution="更换光猫")
    assert ticket.status == TicketStatus.RESOLVED and ticket.breached_resolution
    assert ticket.next_due is None and ticket.watch_at is None
    ticket = services.ticket_close(actor=cast.alice.user, ticket=ticket)
    assert ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None
    statuses = [(e.from_status, e.to_status) for e in ticket.events.filter(kind=EventKind.STATUS)]
    assert statuses == [("new", "in_progress"), ("in_progress", "resolved"), ("resolved", "closed")]


def test_a_late_first_response_is_a_breach(cast, monkeypatch):
    ticket = receive(cast.alice, cast.alice_customer, opened_at=at(2026, 11, 20, 16))
    monkeypatch.setattr(services, "_now", lambda: at(2026, 11, 20, 16, 31))
    assert services.ticket_respond(actor=cast.alice.user, ticket=ticket).breached_response


def test_only_a_resolved_ticket_can_be_closed(cast):
    ticket = receive(cast.alice, cast.alice_customer)
    with pytest.raises(ValidationError):
        services.ticket_close(actor=cast.alice.user, ticket=ticket)


def test_reopen_needs_a_reason_and_restarts_the_resolution_clock(cast, monkeypatch):
    ticket = receive(cast.alice, cast.alice_customer, opened_at=at(2026, 11, 18, 9))
    ticket = services.ticket_resolve(actor=cast.alice.user, ticket=ticket, resolution="已处理")
    with pytest.raises(ValidationError) as exc:
        services.ticket_reopen(actor=cast.alice.user, ticket=ticket, reason="")
    assert "reason" in exc.value.message_dict
    monkeypatch.setattr(services, "_now", lambda: at(2026, 11, 20, 16))
    ticket = services.ticket_reopen(actor=cast.alice.user, ticket=ticket, reason="又断了")
    assert ticket.status == TicketStatus.REOPENED and ticket.reopen_count == 1
    assert ticket.resolve_due == at(2026, 11, 23, 11, 30)  # 240 working minutes from Friday 16:00
    assert not ticket.breached_resolution and ticket.resolved_at is None
    assert ticket.owner == cast.alice
    assert ticket.next_due == ticket.resolve_due  # the first response happened when it was resolved


def test_open_tickets_cannot_be_reopened(cast):
    ticket = receive(cast.alice, cast.alice_customer)
    with pytest.raises(ValidationError):
        services.ticket_reopen(actor=cast.alice.user, ticket=ticket, reason="x")


def _closed(cast):
    ticket = receive(cast.alice, cast.alice_customer)
    ticket = services.ticket_resolve(actor=cast.alice.user, ticket=ticket, resolution="已处理")
    return ticket


def test_rating_only_after_close_and_only_once(cast):
    ticket = _closed(cast)
    with pytest.raises(ValidationError) as exc:
        services.ticket_rate(actor=cast.alice.user, ticket=ticket, rating=5)
    assert "rating" in exc.value.message_dict
    ticket = services.ticket_close(actor=cast.alice.user, ticket=ticket)
    with pytest.raises(ValidationError):
        services.ticket_rate(actor=cast.alice.user, ticket=ticket, rating=6)
    ticket = services.ticket_rate(actor=cast.alice.user, ticket=ticket, rating=4, comment="满意")
    assert (ticket.rating, ticket.rating_comment) == (4, "满意")
    with pytest.raises(ValidationError):
        services.ticket_rate(actor=cast.alice.user, ticket=ticket, rating=5)


# --- transfer -------------------------------------------------------------------------------------
def test_transfer_without_reason_is_rejected(cast):
    ticket = receive(cast.alice, cast.backed_up)
    with pytest.raises(ValidationError) as exc:
        services.transfer_request(actor=cast.alice.user, ticket=ticket, to=cast.bob, reason="  ")
    assert "reason" in exc.value.message_dict
    ticket.refresh_from_db()
    assert ticket.transfer_to is None


def test_only_the_owner_asks_for_a_transfer(cast):
    ticket = receive(cast.alice, cast.backed_up)
    with pytest.raises(PermissionDenied):
        services.transfer_request(actor=cast.bob.user, ticket=ticket, to=cast.bob, reason="我来")


def test_ownership_moves_only_when_the_colleague_accepts(cast):
    ticket = receive(cast.alice, cast.backed_up)
    ticket = services.transfer_request(actor=cast.alice.user, ticket=ticket, to=cast.bob, reason="客户归王强负责")
    ticket.refresh_from_db()
    assert ticket.owner == cast.alice and ticket.transfer_to == cast.bob
    # Bob sees it while it waits for him, but cannot work it yet.
    assert queries.ticket_get(cast.bob.user, ticket.pk) == ticket
    with pytest.raises(PermissionDenied):
        services.ticket_respond(actor=cast.bob.user, ticket=ticket)
    with pytest.raises(PermissionDenied):
        services.transfer_accept(actor=cast.carol.user, ticket=ticket)
    ticket = services.transfer_accept(actor=cast.bob.user, ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.owner == cast.bob and ticket.transfer_to is None
    assert ticket.received_by == cast.alice
    assert AuditEvent.objects.filter(target_id=ticket.pk, action=AuditAction.TRANSFER).get().after == {
        "owner": cast.bob.pk
    }
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds == [EventKind.CREATED, EventKind.TRANSFER_REQUEST, EventKind.TRANSFER_ACCEPT]


def test_decline_needs_a_reason_and_the_owner_keeps_the_ticket(cast):
    ticket = receive(cast.alice, cast.backed_up)
    services.transfer_request(actor=cast.alice.user, ticket=ticket, to=cast.bob, reason="请协助")
    with pytest.raises(ValidationError) as exc:
        services.transfer_decline(actor=cast.bob.user, ticket=ticket, reason="")
    assert "reason" in exc.value.message_dict
    services.transfer_decline(actor=cast.bob.user, ticket=ticket, reason="不是我的客户")
    ticket.refresh_from_db()
    assert ticket.owner == cast.alice and ticket.transfer_to is None
    assert ticket.events.filter(kind=EventKind.TRANSFER_DECLINE, note="不是我的客户").exists()


def test_one_pending_transfer_at_a_time_and_not_to_oneself(cast):
    ticket = receive(cast.alice, cast.backed_up)
    with pytest.raises(ValidationError):
        services.transfer_request(actor=cast.alice.user, ticket=ticket, to=cast.alice, reason="x")
    with pytest.raises(ValidationError):
        services.transfer_request(actor=cast.alice.user, ticket=ticket, to=cast.dave, reason="x")  # other province
    services.transfer_request(actor=cast.alice.user, ticket=ticket, to=cast.bob, reason="x")
    with pytest.raises(ValidationError):
        services.transfer_request(actor=cast.alice.user, ticket=ticket, to=cast.carol, reason="x")


def test_handover_moves_open_tickets_formally(cast):
    open_ticket = receive(cast.alice, cast.alice_customer)
    done = _closed(cast)
    other = receive(cast.bob, cast.backed_up)
    services.transfer_request(actor=cast.bob.user, ticket=other, to=cast.alice, reason="请接手")
    with pytest.raises(PermissionDenied):
        services.handover(cast.bob.user, old_owner=cast.alice, new_owner=cast.bob)
    result = services.handover(cast.carol.user, old_owner=cast.alice, new_owner=cast.bob, note="李晓红离职")
    assert result == {"tickets": 1, "transfers_returned": 1}
    open_ticket.refresh_from_db()
    done.refresh_from_db()
    other.refresh_from_db()
    assert open_ticket.owner == cast.bob and done.owner == cast.alice and other.transfer_to is None
    event = open_ticket.events.get(kind=EventKind.HANDOVER)
    assert (event.from_staff, event.to_staff, event.note) == (cast.alice, cast.bob, "李晓红离职")
    assert AuditEvent.objects.filter(target_id=open_ticket.pk, action=AuditAction.HANDOVER).count() == 1


def test_handover_can_be_limited_to_some_customers(cast):
    first = receive(cast.alice, cast.alice_customer)
    second = receive(cast.alice, cast.backed_up)
    result = services.handover(
        cast.carol.user, old_owner=cast.alice, new_owner=cast.bob, customer_ids=[cast.backed_up.pk]
    )
    assert result["tickets"] == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.owner, second.owner) == (cast.alice, cast.bob)
