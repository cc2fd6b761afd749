"""The work panel on the customer 360 page: latest activities, open tasks and quick entry."""

from jiketong.org.models import Role, can

from . import queries

TIMELINE_LIMIT = 10


def panel_context(request, customer) -> dict:
    activities, tasks = queries.customer_timeline(request.user, customer, TIMELINE_LIMIT)
    can_record = can(request.user, Role.EDIT_ROLES)
    return {
        "template": "work/_customer_panel.html",
        "column": "main",
        "order": 20,
        "customer": customer,
        "activities": activities,
        "open_tasks": tasks,
        "can_record": can_record,
        # The contacts' checkboxes load with the form, on demand: the 360 page itself stays at two queries.
        "form": None,
    }


def customer_panel(request, customer) -> dict:
    """Two queries: the timeline and the open tasks."""
    return panel_context(request, customer)
