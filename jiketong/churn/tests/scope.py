"""Scope-matrix hooks: a churn score for each customer of the world."""

from datetime import date

from jiketong.churn.models import ChurnScore


def populate(world, customers) -> None:
    ChurnScore.objects.bulk_create(
        ChurnScore(
            customer=customer, scored_on=date(2026, 6, 1), score=70, risk="high",
            reasons=[{"code": "arrears", "months": 2}], flags=64, model_version="rules",
        )
        for customer in customers.values()
    )  # fmt: skip


KINDS: dict = {}  # the only id in churn's routes is a customer's (known to the matrix)
