"""Analytics at scale: computing every indicator for HQ, and dashboard latency for a manager and a province supervisor.

    JIKETONG_VAR_DIR=/tmp/analytics-var python benchmarks/analytics_bench.py
    scripts/with-postgres sh -c 'python -m jiketong migrate && python -m jiketong demo --groups 10000 &&
                                 python benchmarks/analytics_bench.py'

Needs a demo database with billing history (the billing demo writes 24 months). Times, in-process through
Django's test client (server time: queries and rendering, no network):
- every indicator of the registry for HQ, in total and by org unit, at request time (no summary) and after
  the daily job has refreshed the monthly summary (IndicatorSummary), and the refresh itself;
- the dashboard, an indicator table by month and the API indicator call, as the manager with the biggest
  portfolio and as a province supervisor, `--repeat` times each; prints median and p95.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiketong.settings")
os.environ.setdefault("DEBUG", "0")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--keep-summary", action="store_true", help="skip the request-time run (slow at 1M)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from jiketong.analytics.indicators import REGISTRY, Calculation, latest_period
    from jiketong.analytics.models import IndicatorSummary, SummaryPeriod
    from jiketong.analytics.summary import RECENT_MONTHS, refresh_due
    from jiketong.billing.models import CustomerMonth
    from jiketong.customers.models import Customer
    from jiketong.org.models import OrgLevel, Role, Staff
    from jiketong.org.services import token_issue

    months = CustomerMonth.objects.count()
    if not months:
        raise SystemExit("Load a demo with billing history first: python -m jiketong demo --groups 10000")
    period = latest_period()
    customers = Customer.objects.count()
    print(f"{connection.vendor}: {customers:,} customers, {months:,} customer-months, period {period:%Y-%m}")

    manager_id = (
        Customer.objects.exclude(owner=None).values("owner").annotate(n=Count("pk")).order_by("-n").first()["owner"]
    )
    manager = Staff.objects.select_related("user").get(pk=manager_id)
    # The demo's province-wide subtree user is its province analyst (supervisors sit in the cities).
    supervisor = (
        Staff.objects.filter(roles__in=[Role.SUPERVISOR, Role.ANALYST], org_unit__level=OrgLevel.PROVINCE)
        .select_related("user")
        .first()
    )
    analyst = Staff.objects.filter(roles=Role.ANALYST, org_unit__depth=1).select_related("user").first()
    if supervisor is None or analyst is None:
        raise SystemExit("The demo needs a province supervisor and an HQ analyst.")

    codes = [code for code, item in REGISTRY.items() if not item.needs_product]

    def every_indicator(label: str) -> None:
        for by in ("", "org"):
            calc = Calculation(analyst.user, period=period, by=by)
            took = timed(lambda calc=calc: [calc.value(code) for code in codes])
            source = "summary" if calc.summarised else "live"
            print(f"{label}: {len(codes)} indicators for HQ, by={by or 'total'} ({source}): {took:,.0f} ms")

    if not args.keep_summary:
        SummaryPeriod.objects.all().delete()
        every_indicator("request time")
    took = timed(refresh_due)
    print(f"summary refresh (every month): {took:,.0f} ms, {IndicatorSummary.objects.count():,} rows")
    took = timed(refresh_due)
    print(f"summary refresh (daily: the newest {RECENT_MONTHS} months): {took:,.0f} ms")
    every_indicator("with the summary")

    scenarios = [
        ("dashboard", "/analytics/"),
        (
            "table by month",
            f"/analytics/indicators/?section=revenue&by=month&start={period.year - 1}-{period.month:02d}",
        ),
        ("API revenue by org", "/api/v1/analytics/indicators?code=revenue&by=org"),
    ]
    for who, staff in (("manager", manager), ("province supervisor", supervisor)):
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=staff.user)}")
        client.force_login(staff.user)
        for name, url in scenarios:
            samples = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                response = client.get(url, HTTP_HOST="localhost")
                samples.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code} for {who}")
            median, p95 = statistics.median(samples), percentile(samples, 95)
            print(f"{who:>20} {name:<20} median {median:7.0f} ms   p95 {p95:7.0f} ms")


if __name__ == "__main__":
    main()
