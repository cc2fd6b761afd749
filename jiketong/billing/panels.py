"""The billing panel on the customer 360 page: points balance and tier, and the last six months. Two queries."""

from . import queries

PANEL_MONTHS = 6


def customer_panel(request, customer) -> dict:
    return {
        "template": "billing/_customer_panel.html",
        "column": "side",
        "order": 30,
        "billing_points": queries.points_summary(request.user, customer.pk),
        "billing_months": queries.recent_months(request.user, customer.pk, PANEL_MONTHS),
    }
