"""The service demo: tickets that obey the ticket rules, surveys, and deterministic output."""

import pytest

from jiketong.demo.generator import generate, reset
from jiketong.service.models import OPEN_STATUSES, Survey, SurveyAnswer, Ticket, TicketStatus

pytestmark = pytest.mark.django_db


def _tickets() -> list[tuple]:
    return list(Ticket.objects.order_by("id").values_list("customer__number", "type", "status", "opened_at", "rating"))


def test_demo_tickets_and_surveys(db):
    generate(groups=300, seed=7)
    tickets = Ticket.objects.select_related("customer")
    assert tickets.count() > 30 and Survey.objects.exists()
    assert SurveyAnswer.objects.count() == Survey.objects.count() * 5
    for ticket in tickets:
        assert ticket.owner_id == ticket.received_by_id == ticket.customer.owner_id
        assert ticket.opened_at <= ticket.response_due <= ticket.resolve_due
        assert (ticket.rating is not None) <= (ticket.status == TicketStatus.CLOSED)
        assert (ticket.next_due is None) == (ticket.status not in OPEN_STATUSES)
        assert ticket.events.exists()
    first = _tickets()
    reset()
    generate(groups=300, seed=7)
    assert _tickets() == first
