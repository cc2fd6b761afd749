"""The churn panel of the customer 360 page."""

from . import queries


def customer_panel(request, customer) -> dict:
    """The latest score and its reasons: one query."""
    return {
        "template": "churn/_customer_panel.html",
        "column": "side",
        "order": 20,
        "score": queries.score_of(request.user, customer.pk),
    }
