"""The frequent job: newly breached tickets are marked and escalated once, to the nearest supervisor."""

import pytest

from jiketong import testing
from jiketong.core.models import AuditAction, AuditEvent, Notification
from jiketong.org.models import Role
from jiketong.service import jobs, queries, services
from jiketong.service.models import EventKind

from .factories import at, receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def province_supervisor(cast):
    return testing.make_staff("henry", cast.org["440000"], [Role.SUPERVISOR], name="黄海")


def test_breach_is_escalated_once_to_the_nearest_supervisor(cast, province_supervisor):
    # 天河区 has no supervisor: the nearest one up the tree is Carol (广州市), not the province's Henry.
    ticket = receive(cast.alice, cast.alice_customer, opened_at=at(2026, 11, 20, 16))
    assert jobs.frequent(at(2026, 11, 20, 16, 29)) == "service: 0 SLA breaches escalated"
    assert services.escalate_breaches(at(2026, 11, 20, 16, 31)) == 1
    ticket.refresh_from_db()
    assert ticket.breached_response and not ticket.breached_resolution
    assert ticket.escalated_at == at(2026, 11, 20, 16, 31)
    assert ticket.watch_at == ticket.resolve_due  # the next breach to watch for
    assert services.escalate_breaches(at(2026, 11, 20, 17)) == 0  # idempotent
    notes = Notification.objects.filter(kind="sla_breach")
    assert list(notes.values_list("recipient_id", flat=True)) == [cast.carol.pk]
    assert ticket.events.filter(kind=EventKind.ESCALATE).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.ESCALATE, target_id=ticket.pk).count() == 1


def test_resolution_breach_is_a_second_escalation(cast):
    ticket = receive(cast.alice, cast.alice_customer, opened_at=at(2026, 11, 20, 16))
    # Both deadlines passed by Monday noon: one run escalates both breaches, a second run nothing.
    assert services.escalate_breaches(at(2026, 11, 23, 12)) == 2
    assert services.escalate_breaches(at(2026, 11, 23, 12)) == 0
    ticket.refresh_from_db()
    assert ticket.breached_response and ticket.breached_resolution
    assert ticket.watch_at is None and ticket.next_due == ticket.response_due
    assert Notification.objects.filter(recipient=cast.carol.user).count() == 2


def test_a_resolved_ticket_is_not_escalated(cast):
    ticket = receive(cast.alice, cast.alice_customer, opened_at=at(2026, 11, 20, 16))
    services.ticket_resolve(actor=cast.alice.user, ticket=ticket, resolution="已处理")
    assert services.escalate_breaches(at(2026, 12, 1, 9)) == 0


def test_reopened_ticket_can_breach_again(cast, monkeypatch):
    ticket = receive(cast.alice, cast.alice_customer, opened_at=at(2026, 11, 20, 16))
    assert services.escalate_breaches(at(2026, 11, 23, 12)) == 2
    ticket = services.ticket_resolve(actor=cast.alice.user, ticket=ticket, resolution="已处理")
    monkeypatch.setattr(services, "_now", lambda: at(2026, 11, 24, 9))
    services.ticket_reopen(actor=cast.alice.user, ticket=ticket, reason="复发")
    assert services.escalate_breaches(at(2026, 11, 24, 14, 29)) == 0
    assert services.escalate_breaches(at(2026, 11, 24, 14, 30)) == 1  # 240 minutes from 09:00
    assert Notification.objects.filter(recipient=cast.carol.user).count() == 3


def test_supervisors_of_the_customer_unit_itself_come_first(cast, province_supervisor):
    local = testing.make_staff("ted", cast.org["440106"], [Role.SUPERVISOR, Role.CUSTOMER_MANAGER], name="唐")
    paths = {cast.org["440106"].path, cast.org["440304"].path, cast.org["330106"].path}
    found = queries.supervisors_for(paths)
    assert found[cast.org["440106"].path] == [local.pk]
    assert found[cast.org["440304"].path] == [province_supervisor.pk]  # 深圳 has none below the province
    assert found[cast.org["330106"].path] == [cast.dave.pk]


def test_breach_board_shows_breached_and_nearly_due_in_scope(cast):
    breached = receive(cast.alice, cast.alice_customer, opened_at=at(2026, 11, 20, 9))
    soon = receive(cast.alice, cast.alice_customer, opened_at=at(2026, 11, 20, 16, 50))  # due 17:20
    later = receive(cast.alice, cast.alice_customer, type="request", opened_at=at(2026, 11, 20, 16, 59))
    elsewhere = receive(cast.dave, cast.zhejiang_customer, opened_at=at(2026, 11, 20, 9))
    calendar = queries.business_calendar()
    board = list(queries.breach_board(cast.carol.user, at(2026, 11, 20, 17), calendar))
    assert board == [breached, soon]
    assert later not in board and elsewhere not in board
    assert list(queries.breach_board(cast.dave.user, at(2026, 11, 20, 17), calendar)) == [elsewhere]
