"""The group risk view (集团风险, decision 0802): the nightly roll-up and the pages, in-process.

    DATABASE_URL=postgres://…/jiketong python benchmarks/grouprisk_bench.py               # roll up, then time
    DATABASE_URL=postgres://…/jiketong python benchmarks/grouprisk_bench.py --no-refresh  # rows already kept
    DATABASE_URL=postgres://…/jiketong python benchmarks/grouprisk_bench.py --explain     # EXPLAIN the slowest

On a loaded demo database (`python -m jiketong demo --groups N --seed 7`, then ANALYZE): times the whole
nightly roll-up (`defence.grouprisk.refresh()`) unless `--no-refresh`, one customer's event refresh, then for
a customer manager, a city supervisor, a province supervisor and an HQ analyst: the group risk view (first
page, page 50, each risk-kind filter), one group's page, the API list and the 360 page of a unit of a group
(its panel). One warm-up request (queries counted), then `--repeat` requests: median and p95 in ms. Writes
benchmarks/results/grouprisk-<vendor>-<customers>-<label>.json. Goal (issue 13): p95 ≤ 200 ms for a province
supervisor at 1M groups.
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
    parser.add_argument("--no-refresh", action="store_true", help="time the pages on the rows already kept")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE each page's slowest query")
    parser.add_argument("--label", default="run")
    args = parser.parse_args()

    import django
    from measure import line, measure, write_results

    django.setup()
    from django.test import Client

    from jiketong.customers.models import Customer
    from jiketong.defence import grouprisk
    from jiketong.defence.models import GroupRisk, GroupRiskUnit, RiskSetKind
    from jiketong.org.models import Role, Staff
    from jiketong.org.services import token_issue

    timings: dict[str, float] = {}
    if not args.no_refresh:
        started = time.perf_counter()
        written = grouprisk.refresh()
        timings["nightly roll-up (s)"] = round(time.perf_counter() - started, 1)
        print(f"nightly roll-up: {written} sets in {timings['nightly roll-up (s)']} s", flush=True)
    unit = (
        GroupRiskUnit.objects.filter(risk__kind=RiskSetKind.GROUP)
        .exclude(customer_id__in=GroupRisk.objects.values("head_id"))
        .order_by("risk__value_at_risk", "id")
        .values_list("customer_id", flat=True)
        .last()
    )
    if unit is not None:
        started = time.perf_counter()
        grouprisk.refresh([unit])
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        timings["one customer's refresh (ms)"] = elapsed
        print(f"one customer's refresh: {elapsed} ms", flush=True)

    def staff(**conditions) -> Staff | None:
        return Staff.objects.filter(user__is_active=True, **conditions).select_related("user").order_by("pk").first()

    personas = {
        "manager": staff(user__username="manager") or staff(roles=Role.CUSTOMER_MANAGER),
        "city supervisor": staff(user__username="supervisor") or staff(roles=Role.SUPERVISOR, org_unit__depth=3),
        "province supervisor": staff(roles=Role.SUPERVISOR, org_unit__depth=2),
        "HQ analyst": staff(roles=Role.ANALYST, org_unit__depth=1),
    }
    results: dict[str, dict] = {"timings": timings}
    for who, person in personas.items():
        if person is None:
            continue
        client = Client()
        client.force_login(person.user)
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=person.user, days=1)}"}
        first = GroupRisk.objects.visible_to(person.user).order_by("-value_at_risk", "id").values_list("pk", flat=True)
        group_id = first.first()
        seen_unit = (
            Customer.objects.visible_to(person.user)
            .filter(pk__in=GroupRiskUnit.objects.filter(risk_id=group_id).values("customer_id"))
            .values_list("pk", flat=True)
            .first()
            if group_id
            else None
        )
        catalogue = {
            "group risk view": "/defence/groups/",
            "group risk view, page 50": "/defence/groups/?page=50",
            **{f"group risk view, risk={kind}": f"/defence/groups/?risk={kind}" for kind in
               ("revenue", "arrears", "churn", "competitor", "complaints", "contracts", "chain")},
            "group risk view, region filter": f"/defence/groups/?region={person.org_unit.code}",
            "API group risk": "/api/v1/defence/groups",
        }  # fmt: skip
        if group_id:
            catalogue["one group's page"] = f"/defence/groups/{group_id}/"
            catalogue["API one group"] = f"/api/v1/defence/groups/{group_id}"
        if seen_unit:
            catalogue["360 page of a unit (panel)"] = f"/customers/{seen_unit}/"
        for name, url in catalogue.items():
            extra = bearer if url.startswith("/api/") else {}
            status, entry = measure(client, [url], repeat=args.repeat, extra=extra, explain=args.explain)
            if entry is None:
                print(f"{who:>20} {name:<40} answered {status}")
                continue
            print(line(who, name, entry, width=40), flush=True)
            if "explain" in entry:
                print("    " + entry["explain"].replace("\n", "\n    ")[:6000])
            results.setdefault(who, {})[name] = entry
    path = write_results("grouprisk", args.label, results)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
