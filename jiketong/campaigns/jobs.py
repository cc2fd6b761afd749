"""Nightly cross-sell (run by `python -m jiketong jobs daily`): peer shares and next best offers."""

from datetime import date

from . import crosssell


def daily(today: date) -> str:
    groups, offers = crosssell.refresh(today)
    return f"cross-sell: {groups} peer groups, {offers} offers"
