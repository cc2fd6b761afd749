"""Demo data: the monthly indicator summary over the billing history the billing demo wrote (what the daily
job would do), so the dashboards of a fresh demo read it at once. Pending grade proposals are left to the
users ("Run a re-grade")."""

from .models import GradeProposal, GroupSpread, IndicatorSummary, SummaryPeriod
from .summary import refresh_due

RESET_MODELS = [GradeProposal, GroupSpread, IndicatorSummary, SummaryPeriod]


def generate(builder) -> None:
    months = refresh_due()
    builder.progress(f"analytics: indicator summary for {len(months)} months")
