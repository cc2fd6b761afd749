"""The deals panel on the customer 360 page: open quotes, contracts and open orders (three queries)."""

from . import queries


def customer_panel(request, customer) -> dict:
    return {
        "template": "deals/_customer_panel.html",
        "column": "main",
        "order": 40,
        **queries.customer_deals(request.user, customer.pk),
    }
