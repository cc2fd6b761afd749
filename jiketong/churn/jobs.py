"""Nightly churn scoring (run by `python -m jiketong jobs daily`)."""

from datetime import date

from . import services


def daily(today: date) -> str:
    return f"{services.score_all(today)} customers scored"
