"""The service panel of the customer 360 page: the customer's open tickets (two queries)."""

from jiketong.org.models import Role, can

from . import queries


def customer_panel(request, customer) -> dict:
    tickets, count = queries.open_tickets_of(request.user, customer.pk)
    return {
        "template": "service/_customer_panel.html",
        "column": "main",
        "order": 40,
        "open_tickets": tickets,
        "open_ticket_count": count,
        "can_create_ticket": can(request.user, Role.EDIT_ROLES),
    }
