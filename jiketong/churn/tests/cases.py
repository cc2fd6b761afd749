"""Generated tests (jiketong/testing_views.py) for churn warnings (scores) and risk alerts."""

from jiketong.churn.models import ChurnScore, RiskAlert
from jiketong.testing_views import Case

CASES = [
    Case(
        ChurnScore,
        find=lambda customer: ChurnScore.objects.filter(customer=customer).first().pk,
        list="churn:warnings",
        label=lambda score: score.customer.name,
    ),
    Case(
        RiskAlert,
        kinds=("alert",),
        find=lambda customer: RiskAlert.objects.filter(customer=customer).first().pk,
        list="churn:alerts",
        api_list="/api/v1/churn/alerts",
        label=lambda alert: alert.customer.name,
    ),
]
# A customer's score is read under the customer's id (the scope matrix probes it).
OTHER_ROUTES = {"churn:export", "/api/v1/churn/warnings", "/api/v1/churn/customers/{customer}"}
