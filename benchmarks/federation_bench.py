"""Measure the two-level sync (docs/federation.md): HQ's batch apply throughput, a province's catch-up after a
day's outage, and HQ's national pages with 31 provinces' summaries loaded (simulated rows, not a real province).

    python benchmarks/federation_bench.py [--cells 10000] [--groups 3000] [--units 6]

`--cells` indicator cells per province per month (a 1M-group province has about 100 org units × 14 industries ×
8 grades ≈ 10,000), `--groups` national groups, `--units` units per group and province. SQLite under
$JIKETONG_VAR_DIR (default var/bench-federation); with scripts/with-postgres on PostgreSQL. Prints JSON.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiketong.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("JIKETONG_VAR_DIR", str(ROOT / "var" / "bench-federation"))
os.environ["JIKETONG_INSTANCE"] = "hq"
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")

PROVINCES = [f"{code}0000" for code in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44,
                                       45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65)]  # fmt: skip
INDUSTRIES = ["government", "finance", "education", "healthcare", "transport", "manufacturing", "energy", "retail",
              "hotel", "construction", "it", "agriculture", "media", "other"]  # fmt: skip
GRADES = ["A1", "A2", "B1", "B2", "C", "D", "A", "B"]


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def cell_rows(code: str, period: str, count: int, seq0: int) -> list[dict]:
    rows = []
    for n in range(count):
        unit, industry, grade = f"{code[:2]}{n // 112:04d}", INDUSTRIES[(n // 8) % 14], GRADES[n % 8]
        rows.append({"seq": seq0 + n, "province": code, "kind": "indicator", "key": f"{unit}|{industry}|{grade}",
                     "period": period, "payload": {"org_unit_code": unit, "industry": industry, "grade": grade,
                                                   "in_service": 10 + n % 7, "revenue": f"{1000 + n}.00",
                                                   "members": 100 + n % 50, "mobile": 3, "integrated": 2,
                                                   "categorised": 4}})  # fmt: skip
    return rows


def group_rows(code: str, groups: int, units: int, period: str, seq0: int) -> list[dict]:
    rows, seq = [], seq0
    for g in range(groups):
        key = f"G{g:07d}"
        identity = {"uscc": "", "group_code": key, "name": f"全国集团{g}", "industry": "finance"}
        rows.append({"seq": seq, "province": code, "kind": "group", "key": key, "period": "", "payload": identity})
        seq += 1
        for u in range(units):
            unit = f"{code}-{g}-{u}"
            rows.append({"seq": seq, "province": code, "kind": "unit", "key": unit, "period": "",
                         "payload": {"group": key, "name": f"全国集团{g}分公司{u}", "org_unit_code": code,
                                     "owner_name": "经理", "grade": "A2", "status": "active"}})  # fmt: skip
            rows.append({"seq": seq + 1, "province": code, "kind": "unit_month", "key": unit, "period": period,
                         "payload": {"group": key, "revenue": "90000.00", "members": 120}})  # fmt: skip
            seq += 2
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=10000)
    parser.add_argument("--groups", type=int, default=3000)
    parser.add_argument("--units", type=int, default=6)
    parser.add_argument("--loaded-provinces", type=int, default=31)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from django.test import Client

    from jiketong.federation import services
    from jiketong.federation.models import (
        Directive,
        GroupUnit,
        IndicatorCell,
        NationalGroup,
        Province,
        ProvinceMonth,
        UnitMonth,
    )

    for model in (UnitMonth, GroupUnit, IndicatorCell, ProvinceMonth, NationalGroup, Province, Directive):
        model.objects.all().delete()
    actor = get_user_model().objects.filter(is_superuser=True).first() or get_user_model().objects.create_superuser(
        "bench-admin", password="Bench-2026!x"
    )
    provinces = [services.province_add(actor=actor, code=code, name=code)[0] for code in PROVINCES]
    result: dict = {"machine": platform.platform(), "python": platform.python_version(),
                    "database": django.db.connection.vendor, "args": vars(args)}  # fmt: skip

    def apply(province, rows) -> float:
        started = time.perf_counter()
        for start in range(0, len(rows), 500):
            services.batch_apply(province=province, rows=rows[start : start + 500])
        return time.perf_counter() - started

    # 1. A province's month of cells and its national groups, first time (inserts), then again changed (updates).
    gd = next(p for p in provinces if p.code == "440000")
    rows = cell_rows("440000", "2026-05", args.cells, 1) + group_rows("440000", args.groups, args.units, "2026-05",
                                                                      10_000_000)  # fmt: skip
    seconds = apply(gd, rows)
    result["first_sync_rows"] = len(rows)
    result["first_sync_rows_per_s"] = round(len(rows) / seconds)
    again = [{**row, "seq": row["seq"] + 50_000_000} for row in rows]
    seconds = apply(gd, again)
    result["update_rows_per_s"] = round(len(again) / seconds)
    # 2. A day's outage: the nightly collection's changed rows (13 months of cells re-summarised, the groups' new
    # month): catch-up time is those rows at the measured rate.
    day = args.cells * 13 + args.groups * args.units * 2
    result["day_outage_rows"] = day
    result["day_outage_catch_up_s"] = round(day / result["update_rows_per_s"], 1)
    print(json.dumps(result), file=sys.stderr, flush=True)
    # 3. HQ's pages with every province's month loaded.
    for province in provinces[: args.loaded_provinces]:
        if province.code != "440000":
            apply(province, cell_rows(province.code, "2026-05", args.cells, 1)
                  + group_rows(province.code, args.groups // 10, 2, "2026-05", 10_000_000))  # fmt: skip
    group = NationalGroup.objects.order_by("-revenue_12m").first()
    client = Client()
    client.force_login(actor)
    pages = {"groups": "/federation/", "group_360": f"/federation/groups/{group.pk}/",
             "indicators": "/federation/indicators/", "freshness": "/federation/freshness/",
             "directives": "/federation/directives/"}  # fmt: skip
    timings = {}
    for name, url in pages.items():
        client.get(url)
        samples = []
        for _ in range(20):
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            samples.append((time.perf_counter() - started) * 1000)
        timings[name] = {"median_ms": round(statistics.median(samples), 1), "p95_ms": round(p95(samples), 1)}
    result["pages"] = timings
    # 4. What a batch pays for the national indicator page's counts (decision 1103), the refresh alone: a batch
    # with units of its own province and no group changing 全国性 (its own count), and a batch that flips 250
    # groups with units in every province (each province recounted, and the national total).
    ids = set(NationalGroup.objects.order_by("pk").values_list("pk", flat=True)[:250])
    for name, call in (
        ("own_units", lambda: services.national_counts_refresh(set(), {"440000"}, total=False)),
        ("250_groups_flipped", lambda: services.national_counts_refresh(ids, set())),
    ):
        samples = []
        for _ in range(10):
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
        result[f"national_counts_{name}_ms"] = {"median_ms": round(statistics.median(samples), 1),
                                                "p95_ms": round(p95(samples), 1)}  # fmt: skip
    result["hq_cells"] = IndicatorCell.objects.count()
    result["hq_units"] = GroupUnit.objects.count()
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
