"""The assessment's scheduled work (`python -m jiketong jobs daily`): each night the month before today is
(re)computed while it is open, so the scorecards follow the bills as they arrive (BOSS bills a month in the
first days of the next) and a late visit or rating entered for that month still counts; a closed month is left
alone. The month's loyalty facts are refreshed with it, and the loyalty and satisfaction counts kept per unit are
rebuilt whole every night (ratings and surveys of any month, closed or not; decision 1002)."""

from datetime import date

from jiketong.analytics.periods import add_months

from . import compute, loyalty, summary
from .models import AssessmentMonth, MonthStatus


def daily(today: date) -> str:
    period = add_months(today.replace(day=1), -1)
    if AssessmentMonth.objects.filter(period=period, status=MonthStatus.CLOSED).exists():
        kept = summary.refresh()
        return f"assessment: {period:%Y-%m} is closed, nothing recomputed; {kept} loyalty summary rows"
    month = compute.month_compute(period)
    facts = loyalty.refresh(period, summarise=False)
    kept = summary.refresh()
    return (
        f"assessment: {month.managers} managers scored for {period:%Y-%m}, {facts} loyalty facts, "
        f"{kept} loyalty summary rows"
    )
