"""Demo data: the monthly indicator summary over the billing history the billing demo wrote (what the daily
job would do), so the dashboards of a fresh demo read it at once, and targets for the province and its cities
(this month's revenue a tenth above what was billed, the year's new customers), so the dashboard's 目标 panel
and the 目标 page show progress. Pending grade proposals are left to the users ("Run a re-grade")."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import Substr

from jiketong.billing.models import BillingFact, CustomerMonth
from jiketong.customers.models import Customer
from jiketong.org.models import OrgUnit

from .models import (
    AnalyticsRun,
    ArchiveSummary,
    CustomerSegment,
    GradeProposal,
    GroupSpread,
    IndicatorSummary,
    PortfolioSummary,
    ProductSummary,
    SegmentPeriod,
    SummaryPeriod,
    Target,
    TargetPeriod,
    UnitSummary,
)
from .summary import refresh_due

# Every table pointing at customers, staff or org units: the demo reset deletes those with plain DELETEs.
RESET_MODELS = [
    Target, GradeProposal, CustomerSegment, SegmentPeriod, AnalyticsRun, GroupSpread, IndicatorSummary, UnitSummary,
    PortfolioSummary, ProductSummary, ArchiveSummary, SummaryPeriod,
]  # fmt: skip
TARGET_DEPTHS = (2, 3)  # the province and its cities


def generate(builder) -> None:
    if connection.vendor == "postgresql":
        # The billing demo has just written the months: plan the rebuild's joins on their real sizes.
        with connection.cursor() as cursor:
            tables = (CustomerMonth, BillingFact, Customer)
            cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(m._meta.db_table) for m in tables))
    months = refresh_due()  # nothing summarised yet: every month in one pass (decision 0607)
    builder.progress(f"analytics: indicator summary for {len(months)} months")
    builder.progress(f"analytics: {_targets()} targets")


def _targets() -> int:
    latest = CustomerMonth.objects.order_by("-period").values_list("period", flat=True).first()
    if latest is None:
        return 0
    year = latest.replace(month=1)
    targets = []
    for depth in TARGET_DEPTHS:
        units = {unit.path: unit for unit in OrgUnit.objects.filter(depth=depth)}
        key = Substr("customer__org_unit__path", 1, OrgUnit.steplen * depth)
        rows = (
            CustomerMonth.objects.filter(period__gte=year, period__lte=latest)
            .annotate(unit=key)
            .values("unit")
            .annotate(revenue=Sum("revenue", filter=Q(period=latest)), new=Count("pk", filter=Q(is_new=True)))
            .order_by()
        )
        for row in rows:
            unit = units.get(row["unit"])
            if unit is None or not row["revenue"]:
                continue
            revenue = max((Decimal(row["revenue"]) * Decimal("1.1") / 100).quantize(Decimal(1), ROUND_HALF_UP), 1) * 100
            targets.append(Target(org_unit=unit, indicator="revenue", period_type=TargetPeriod.MONTH, period=latest,
                                  value=revenue))  # fmt: skip
            new = max(int(row["new"] * 12 / latest.month * 1.2), 1)  # the year's pace so far, and a fifth more
            targets.append(Target(org_unit=unit, indicator="new_customers", period_type=TargetPeriod.YEAR,
                                  period=year, value=new))  # fmt: skip
    Target.objects.bulk_create(targets, ignore_conflicts=True)
    return len(targets)
