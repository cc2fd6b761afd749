"""Analytics at scale: every analytics page a user waits on, as each persona, and the nightly analytics work.

    DATABASE_URL=postgres://…/jiketong python benchmarks/analytics_bench.py --repeat 10
    scripts/with-postgres sh -c 'python -m jiketong migrate && python -m jiketong demo --groups 10000 &&
                                 python benchmarks/analytics_bench.py'

Needs a demo database with billing history (the billing demo writes 24 months). Times, in-process through
Django's test client (server time: queries and rendering, no network):

- pages: the dashboard, the indicator tables (development by org unit, categories, health, penetration),
  the segments (RFM, value) and their Excel exports, a drill-down, the grade proposals and the churn warnings,
  as a customer manager (the biggest portfolio, and `--portfolio N` customers made theirs for the run and
  rolled back), a city supervisor, a province supervisor and an HQ analyst; `--repeat` requests each after one
  warm-up; prints median, p95 and the page's query count;
- jobs (`--jobs`): the daily summary refresh (the newest months), a full rebuild of the summary, the
  materialised segments of the newest month, and a re-grade run for the province.

Results go to benchmarks/results/analytics-<vendor>-<customers>.json; copy figures worth keeping into
docs/benchmarks.md by hand.
"""

import argparse
import json
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


def pages(period, product: str) -> dict[str, str]:
    month = f"{period:%Y-%m}"
    return {
        "dashboard": f"/analytics/?period={month}",
        "indicators: development by org": f"/analytics/indicators/?section=development&by=org&period={month}",
        "indicators: categories": f"/analytics/indicators/?section=categories&period={month}",
        "indicators: health": f"/analytics/indicators/?section=health&period={month}",
        "indicators: health by month": (
            f"/analytics/indicators/?section=health&by=month&start={period.year - 1}-{period.month:02d}&period={month}"
        ),
        "indicators: penetration by org": (
            f"/analytics/indicators/?section=coverage&by=org&product={product}&period={month}"
        ),
        "drill: integrated": f"/analytics/drill/?code=integrated&period={month}",
        "segments: RFM": f"/analytics/segments/?view=rfm&period={month}",
        "segments: value": f"/analytics/segments/?view=value&period={month}",
        "segments: value, BZ": f"/analytics/segments/?view=value&value_class=bz&period={month}",
        "segments: RFM export": f"/analytics/segments.xlsx?view=rfm&period={month}",
        "segments: value export": f"/analytics/segments.xlsx?view=value&period={month}",
        "grade proposals": "/analytics/grade-proposals/",
        "churn warnings": "/churn/warnings/",
        "API: integrated by org": f"/api/v1/analytics/indicators?code=integrated&by=org&period={month}",
    }


SUBTREE_ONLY = {"grade proposals"}
SLOW = {"segments: RFM export", "segments: value export"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--slow-repeat", type=int, default=3, help="repeats of the exports")
    parser.add_argument("--portfolio", type=int, default=3000, help="customers of the big-portfolio manager")
    parser.add_argument("--only", default="", help="comma-separated page names (substring match)")
    parser.add_argument("--personas", default="", help="comma-separated persona names (substring match)")
    parser.add_argument("--jobs", action="store_true", help="also time the nightly analytics work")
    parser.add_argument("--no-pages", action="store_true")
    parser.add_argument("--label", default="", help="added to the results file name (e.g. before)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from jiketong.analytics import summary
    from jiketong.analytics.indicators import latest_period
    from jiketong.analytics.models import SummaryPeriod
    from jiketong.billing.models import BillingFact, CustomerMonth
    from jiketong.customers.models import Customer
    from jiketong.org.models import Role, Staff
    from jiketong.org.services import token_issue

    months = CustomerMonth.objects.count()
    if not months:
        raise SystemExit("Load a demo with billing history first: python -m jiketong demo --groups 10000")
    period = latest_period()
    customers = Customer.objects.count()
    print(f"{connection.vendor}: {customers:,} customers, {months:,} customer-months, period {period:%Y-%m}")
    product = (
        BillingFact.objects.filter(period=period)
        .values("product__code")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()["product__code"]
    )

    def first(**conditions) -> Staff:
        return Staff.objects.filter(user__is_active=True, **conditions).select_related("user", "org_unit").first()

    manager_id = (
        Customer.objects.exclude(owner=None).values("owner").annotate(n=Count("pk")).order_by("-n").first()["owner"]
    )
    manager = Staff.objects.select_related("user").get(pk=manager_id)
    personas = {
        f"manager ({Customer.objects.visible_to(manager.user).count():,} customers)": manager,
        f"manager (+{args.portfolio:,} backed up)": "big",
        "city supervisor": first(roles=Role.SUPERVISOR, org_unit__depth=3),
        "province supervisor": first(roles=Role.SUPERVISOR, org_unit__depth=2),
        "HQ analyst": first(roles=Role.ANALYST, org_unit__depth=1),
    }
    if args.personas:
        wanted = [p.strip() for p in args.personas.split(",")]
        personas = {k: v for k, v in personas.items() if any(w in k for w in wanted)}
    urls = pages(period, product)
    if args.only:
        wanted = [p.strip() for p in args.only.split(",")]
        urls = {k: v for k, v in urls.items() if any(w in k for w in wanted)}

    results: dict[str, dict] = {}

    def measure(who: str, staff: Staff) -> None:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=staff.user)}")
        client.force_login(staff.user)
        portfolio = staff.role_codes & Role.PORTFOLIO_ROLES
        for name, url in urls.items():
            if portfolio and name in SUBTREE_ONLY:
                continue
            with CaptureQueriesContext(connection) as queries:  # also the warm-up
                response = client.get(url, HTTP_HOST="localhost")
            count = len(queries)  # now: the next request start empties the connection's query log
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code} for {who}")
            if response.streaming:
                b"".join(response.streaming_content)
            samples = []
            for _ in range(args.slow_repeat if name in SLOW else args.repeat):
                started = time.perf_counter()
                response = client.get(url, HTTP_HOST="localhost")
                if response.streaming:
                    b"".join(response.streaming_content)
                samples.append((time.perf_counter() - started) * 1000)
            median, p95 = statistics.median(samples), percentile(samples, 95)
            results[f"{who}: {name}"] = {
                "median_ms": round(median, 1),
                "p95_ms": round(p95, 1),
                "queries": count,
                "n": len(samples),
            }
            print(f"{who:>30} {name:<34} median {median:7.0f} ms   p95 {p95:7.0f} ms   {count:3} queries")

    if not args.no_pages:
        for who, staff in personas.items():
            if staff == "big":
                # A manager whose portfolio is `--portfolio` customers of the province, for this run only.
                with transaction.atomic():
                    mine = Customer.objects.exclude(owner=manager).order_by("pk")
                    ids = list(mine.values_list("pk", flat=True)[: args.portfolio])
                    Customer.objects.filter(pk__in=ids).update(backup_owner=manager)
                    # What the nightly refresh does for a manager whose customers changed hands.
                    for month in SummaryPeriod.objects.values_list("period", flat=True):
                        summary.refresh(month, [], owners=[manager.pk], spread=False)
                    measure(who, manager)
                    transaction.set_rollback(True)
            else:
                measure(who, staff)

    jobs: dict[str, float] = {}
    if args.jobs:
        from jiketong.analytics import segments, services

        def job(name: str, function) -> None:
            took = timed(function) / 1000
            jobs[name] = round(took, 1)
            print(f"{name:<60} {took:8.1f} s")

        job("summary: nightly refresh, nothing changed", summary.refresh_due)
        county = Customer.objects.filter(org_unit__depth=4).values_list("org_unit", flat=True).first()
        with transaction.atomic():
            regraded = Customer.objects.filter(org_unit=county).order_by("pk")[:50].values_list("pk", flat=True)
            Customer.objects.filter(pk__in=list(regraded)).update(grade="B1", updated_at=timezone.now())
            job("summary: nightly refresh, 50 customers of a county re-graded", summary.refresh_due)
            transaction.set_rollback(True)
        job("summary: after an import of the newest month", lambda: summary.refresh_replaced([period]))
        held = SummaryPeriod.objects.count()
        job(f"summary: full rebuild ({held} months)", summary.refresh_all)
        job("segments: the newest month", lambda: segments.refresh(period))
        province = personas.get("province supervisor") or first(roles=Role.SUPERVISOR, org_unit__depth=2)
        with transaction.atomic():
            job("re-grade run, province", lambda: services.regrade_run(actor=province.user, period=period))
            transaction.set_rollback(True)

    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    suffix = f"-{args.label}" if args.label else ""
    path = out / f"analytics-{connection.vendor}-{customers}{suffix}.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    report = {
        "database": connection.vendor,
        "customers": customers,
        "customer_months": months,
        "period": f"{period:%Y-%m}",
        "pages": previous.get("pages", {}) | results,
        "jobs_s": previous.get("jobs_s", {}) | jobs,
    }
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
