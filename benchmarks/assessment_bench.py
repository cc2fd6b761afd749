"""Manager assessment (考核, decision 1001): the monthly job and the scorecard pages, in-process.

    DATABASE_URL=postgres://…/jiketong python benchmarks/assessment_bench.py                 # compute, then time
    DATABASE_URL=postgres://…/jiketong python benchmarks/assessment_bench.py --no-compute    # rows already kept
    DATABASE_URL=postgres://…/jiketong python benchmarks/assessment_bench.py --explain       # EXPLAIN the slowest

On a loaded demo database (`python -m jiketong demo --groups N --seed 7`, then ANALYZE): times the monthly job
for the newest billed month (`compute.month_compute`: every manager's figures, chunk by chunk, the units' roll-up
and the rewrite of the month's rows) and the loyalty facts (`loyalty.refresh`) unless `--no-compute`, then for a
customer manager, a city supervisor, a province supervisor and an HQ analyst: my scorecard, the unit scorecard
(first page of the ranking and page 20), a manager's card, the settings and months pages, the API list and one
manager's API card. One warm-up request (queries counted), then `--repeat` requests: median and p95 in ms.
Writes benchmarks/results/assessment-<vendor>-<customers>-<label>.json.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiketong.settings")
os.environ.setdefault("DEBUG", "0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--no-compute", action="store_true", help="time the pages on the rows already kept")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each page's slowest query")
    parser.add_argument("--label", default="run")
    args = parser.parse_args()

    import django

    django.setup()
    from django.test import Client
    from measure import line, measure, write_results

    from jiketong.assessment import compute, loyalty
    from jiketong.assessment.models import ManagerScore
    from jiketong.billing.models import CustomerMonth
    from jiketong.org.models import Role, Staff
    from jiketong.org.services import token_issue

    period = CustomerMonth.objects.order_by("-period").values_list("period", flat=True).first()
    if period is None:
        sys.exit("No billed month: load a demo first.")
    timings: dict[str, float] = {}
    if not args.no_compute:
        started = time.perf_counter()
        month = compute.month_compute(period)
        timings["monthly job: scorecards (s)"] = round(time.perf_counter() - started, 1)
        print(f"scorecards of {period:%Y-%m}: {month.managers} managers in {timings['monthly job: scorecards (s)']} s",
              flush=True)  # fmt: skip
        started = time.perf_counter()
        facts = loyalty.refresh(period)
        timings["monthly job: loyalty facts (s)"] = round(time.perf_counter() - started, 1)
        print(f"loyalty facts: {facts} rows in {timings['monthly job: loyalty facts (s)']} s", flush=True)

    def staff(**conditions) -> Staff | None:
        return Staff.objects.filter(user__is_active=True, **conditions).select_related("user").order_by("pk").first()

    personas = {
        "manager": staff(user__username="manager") or staff(roles=Role.CUSTOMER_MANAGER),
        "city supervisor": staff(user__username="supervisor") or staff(roles=Role.SUPERVISOR, org_unit__depth=3),
        "province supervisor": staff(roles=Role.SUPERVISOR, org_unit__depth=2),
        "HQ analyst": staff(roles=Role.ANALYST, org_unit__depth=1),
    }
    month = f"{period:%Y-%m}"
    results: dict[str, dict] = {"timings": timings}
    for who, person in personas.items():
        if person is None:
            continue
        client = Client()
        client.force_login(person.user)
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=person.user, days=1)}"}
        seen = (
            ManagerScore.objects.filter(period=period)
            .filter(staff__org_unit__path__startswith=person.org_unit.path)
            .order_by("-total")
            .values_list("staff_id", flat=True)
            .first()
        )
        catalogue = {
            "my scorecard": f"/assessment/?month={month}",
            "unit scorecard": f"/assessment/units/?month={month}",
            "unit scorecard, ranking page 20": f"/assessment/units/?month={month}&page=20",
            "settings": "/assessment/settings/",
            "months": "/assessment/months/",
            "API ranking": f"/api/v1/assessment/scorecards?month={month}",
        }
        if seen:
            catalogue["a manager's card"] = f"/assessment/managers/{seen}/?month={month}"
            catalogue["API a manager's card"] = f"/api/v1/assessment/managers/{seen}/scorecard?month={month}"
        for name, url in catalogue.items():
            extra = bearer if url.startswith("/api/") else {}
            status, entry = measure(client, [url], repeat=args.repeat, extra=extra, explain=args.explain)
            if entry is None:
                print(f"{who:>20} {name:<36} answered {status}")
                continue
            print(line(who, name, entry, width=36), flush=True)
            if "explain" in entry:
                print("    " + entry["explain"].replace("\n", "\n    ")[:6000])
            results.setdefault(who, {})[name] = entry
    path = write_results("assessment", args.label, results)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
