"""The defence panel of the customer 360 page."""

from . import queries


def customer_panel(request, customer) -> dict:
    """The board's row and the open plans: two queries."""
    return {
        "template": "defence/_customer_panel.html",
        "column": "side",
        "order": 22,
        "threat": queries.threat_of(request.user, customer.pk),
        "plans": list(queries.plans_of(request.user, customer.pk).filter(status="open")[:5]),
        "customer_pk": customer.pk,
    }
