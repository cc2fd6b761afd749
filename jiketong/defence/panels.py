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


def group_panel(request, customer) -> dict | None:
    """The customer's group and affiliated set as one risk, with the warnings of its head and siblings
    (连锁联动): two queries; nothing when the customer is in no rolled-up set."""
    sets = queries.group_risks_of(request.user, customer.pk)
    if not sets:
        return None
    return {
        "template": "defence/_group_panel.html",
        "column": "side",
        "order": 21,
        "sets": queries.decorate(request.user, sets, viewer_unit=customer.pk),
    }
