"""The next-best-offers panel of the customer 360 page."""

from . import queries


def customer_panel(request, customer) -> dict | None:
    """The customer's ranked cross-sell offers: one indexed query (customer, rank)."""
    offers = queries.offers_for(request.user, customer.pk)
    return {"template": "campaigns/_offers_panel.html", "column": "side", "order": 30, "offers": offers}
