"""The billing panel on the customer 360 page: credit grade, points balance and tier, the latest redemptions and
the last six months. Four queries."""

from . import queries

PANEL_MONTHS = 6
PANEL_REDEMPTIONS = 3


def customer_panel(request, customer) -> dict:
    return {
        "template": "billing/_customer_panel.html",
        "column": "side",
        "order": 30,
        "billing_credit": queries.credit_grade_of(request.user, customer.pk),
        "billing_points": queries.points_summary(request.user, customer.pk),
        "billing_redemptions": list(queries.redemptions_of(request.user, customer.pk)[:PANEL_REDEMPTIONS]),
        "billing_months": queries.recent_months(request.user, customer.pk, PANEL_MONTHS),
    }
