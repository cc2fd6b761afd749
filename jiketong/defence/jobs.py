"""Nightly work of the defence app (`python -m jiketong jobs daily`): the board's facts (revenue, members, last
visits and contract ends move every day) and the churned customers not yet on the win-back list."""

from datetime import date

from . import grouprisk, services


def daily(today: date) -> str:
    threats = services.threats_refresh(today=today)
    listed = services.winbacks_sync(today)
    sets = grouprisk.refresh(today=today)
    return (
        f"defence: {threats} threatened customers on the board, {listed} churned customers listed for win-back, "
        f"{sets} groups and affiliated sets rolled up"
    )
