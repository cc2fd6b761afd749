"""The sales panel on the customer 360 page: the customer's open leads and opportunities."""

from . import queries


def customer_panel(request, customer) -> dict:
    """Two queries: open leads and open opportunities of this customer that the user may see."""
    leads, opportunities = queries.customer_pipeline(request.user, customer)
    return {
        "template": "sales/_customer_panel.html",
        "column": "main",
        "order": 20,
        "customer": customer,
        "sales_leads": leads,
        "sales_opportunities": opportunities,
    }
