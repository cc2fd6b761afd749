"""Nightly churn scoring and the risk-alert detector (run by `python -m jiketong jobs daily`)."""

from datetime import date

from . import services


def daily(today: date) -> str:
    scored = services.score_all(today)
    return f"{scored} customers scored; risk alerts raised: {services.alerts_raise(today)}"
