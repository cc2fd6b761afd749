"""The campaign target-list build (issue 14): how long the task worker takes to build a list, by its filter.

    DATABASE_URL=postgres://…/jiketong_1m python benchmarks/campaign_bench.py --repeat 5

As the province supervisor of the demo (sup440000) and a city supervisor (supervisor, 广州), a draft campaign per
filter below, then its list built `--repeat` times (`targets_build`, then the task's `run_build` in this process,
exactly what the worker runs; a list past CAMPAIGN_INLINE_TARGETS is never built in a request). Prints the rows
and members on the list, median and p95 in ms; the drafts are deleted afterwards. Writes
benchmarks/results/campaign-<vendor>-<customers>.json.
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiketong.settings")
os.environ.setdefault("DEBUG", "0")

FILTERS = {
    "customers of an industry lacking 集团彩铃": ("customers", {"industry": "education", "lacks": "CRBT"}),
    "grade A customers": ("customers", {"grade": "A"}),
    "off-net members": ("members", {"member_rule": "off_net"}),
    "members without V网": ("members", {"member_rule": "no_vnet"}),
}


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--users", default="sup440000,supervisor")
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from jiketong.campaigns import services
    from jiketong.campaigns.models import Campaign
    from jiketong.catalog.models import Product
    from jiketong.customers.models import Customer

    results = []
    for username in args.users.split(","):
        user = get_user_model().objects.get(username=username)
        for name, (audience, criteria) in FILTERS.items():
            if "lacks" in criteria:  # the filter takes the product's id
                criteria = {**criteria, "lacks": str(Product.objects.get(code=criteria["lacks"]).pk)}
            today = timezone.localdate()
            campaign = services.campaign_create(
                actor=user, name=f"bench {name}", starts_on=today, ends_on=today + timedelta(days=30),
                audience=audience, criteria=criteria,
            )  # fmt: skip
            times = []
            try:
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    if not services.targets_build(actor=user, campaign=campaign):
                        services.run_build(campaign.pk)  # what the task worker runs
                    times.append((time.perf_counter() - started) * 1000)
                campaign.refresh_from_db()
                row = {
                    "user": username, "filter": name, "targets": campaign.targets_count,
                    "members": campaign.members_count, "median_ms": round(statistics.median(times)),
                    "p95_ms": round(percentile(times, 95)), "runs": len(times),
                }  # fmt: skip
                results.append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)
            finally:
                Campaign.objects.filter(pk=campaign.pk).delete()
    customers = Customer.objects.count()
    out = ROOT / "benchmarks" / "results" / f"campaign-{connection.vendor}-{customers}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
