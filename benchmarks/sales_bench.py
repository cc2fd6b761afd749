"""Sales at scale: the pipeline board and the forecast, for a manager and a province-wide subtree user.

    JIKETONG_VAR_DIR=/tmp/sales-var python benchmarks/sales_bench.py
    scripts/with-postgres sh -c 'python -m jiketong migrate && python -m jiketong demo --groups 10000 &&
                                 python benchmarks/sales_bench.py'

Needs a demo database (the sales demo writes leads and opportunities). Times, in-process through Django's
test client (server time: queries and rendering, no network), `--repeat` times each, median and p95:
- the board page (counts and totals per stage in one GROUP BY, capped cards per stage),
- the forecast page (by owner and by org unit, three months) and the /api/v1/forecast call,
- the lead list page,
as the manager with the most opportunities and as a province supervisor (or analyst, who sees the same subtree).
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
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from jiketong.customers.models import Customer
    from jiketong.org.models import OrgLevel, Role, Staff
    from jiketong.org.services import token_issue
    from jiketong.sales.models import Lead, Opportunity

    opportunities = Opportunity.objects.count()
    if not opportunities:
        raise SystemExit("Load a demo first: python -m jiketong demo --groups 10000")
    print(
        f"{connection.vendor}: {Customer.objects.count():,} customers, {opportunities:,} opportunities, "
        f"{Lead.objects.count():,} leads"
    )
    manager_id = Opportunity.objects.values("owner").annotate(n=Count("pk")).order_by("-n").first()["owner"]
    manager = Staff.objects.select_related("user").get(pk=manager_id)
    province = (
        Staff.objects.filter(roles__in=[Role.SUPERVISOR, Role.ANALYST], org_unit__level=OrgLevel.PROVINCE)
        .select_related("user")
        .first()
    )
    if province is None:
        raise SystemExit("The demo needs a province-level supervisor or analyst.")

    pages = [
        ("board", "/sales/board/"),
        ("forecast page", "/sales/forecast/"),
        ("forecast API", "/api/v1/forecast?by=org_unit"),
        ("lead list", "/sales/leads/?open=true"),
        ("opportunity list", "/sales/opportunities/?open=true"),
    ]
    print(f"{'who':<28} {'page':<18} {'median ms':>10} {'p95 ms':>8}")
    for label, staff in (("manager " + manager.name, manager), ("province " + province.name, province)):
        browser = Client(HTTP_HOST="localhost")
        browser.force_login(staff.user)
        api = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token_issue(user=staff.user)}")
        for name, url in pages:
            client = api if url.startswith("/api/") else browser
            assert client.get(url).status_code == 200, url  # warm-up, and proof the page works
            times = [timed(lambda client=client, url=url: client.get(url)) for _ in range(args.repeat)]
            print(f"{label:<28} {name:<18} {statistics.median(times):>10.1f} {percentile(times, 95):>8.1f}")


if __name__ == "__main__":
    main()
