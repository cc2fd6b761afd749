"""Scope-matrix hooks: a churn score and a risk alert for each customer of the world."""

from datetime import date

from jiketong.churn.models import ChurnScore, RiskAlert
from jiketong.core.notes import stored


def populate(world, customers) -> None:
    ChurnScore.objects.bulk_create(
        ChurnScore(
            customer=customer, scored_on=date(2026, 6, 1), score=70, risk="high",
            reasons=[{"code": "arrears", "months": 2}], flags=64, model_version="rules",
        )
        for customer in customers.values()
    )  # fmt: skip
    RiskAlert.objects.bulk_create(
        RiskAlert(
            kind="key_person_left", customer=customer, key=f"contact:{customer.pk}", occurred_on=date(2026, 6, 1),
            raised_on=date(2026, 6, 2), owner=customer.owner,
            reason=stored("Key person %(name)s left on %(date)s", name=customer.name, date="2026-06-01"),
        )
        for customer in customers.values()
    )  # fmt: skip
