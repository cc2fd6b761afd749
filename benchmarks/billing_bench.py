"""Billing import throughput: rows per second for a facts CSV of N rows over the customers in the database.

    JIKETONG_VAR_DIR=/tmp/billing-var python benchmarks/billing_bench.py --rows 1000000 --runs 3
    scripts/with-postgres sh -c 'python -m jiketong migrate && python -m jiketong demo --groups 10000 &&
                                 python benchmarks/billing_bench.py --rows 1000000'

Needs a demo database (customers with numbers, the demo catalog). The file spreads its rows over
one or more months so that no (period, customer, product) repeats, like a real BOSS export. Each run
imports the same file (the second and later runs replace the periods the first loaded: the steady state
of a monthly re-import), timed end to end: parse, stage, checks, replace, CustomerMonth, points.
Prints the median; goals: ≥ 50,000 rows/s on SQLite, ≥ 100,000 rows/s on PostgreSQL.
"""

import argparse
import csv
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiketong.settings")
os.environ.setdefault("DEBUG", "0")


def write_file(path: Path, rows: int, numbers: list[str], codes: list[str]) -> list[str]:
    """Rows cycle through customers × products, one month per full cycle, newest month last."""
    rng = random.Random(7)
    per_month = len(numbers) * len(codes)
    months = -(-rows // per_month)
    from datetime import date

    from jiketong.billing.rollup import month_before

    periods = [date.today().replace(day=1)]
    for _ in range(months - 1):
        periods.insert(0, month_before(periods[0]))
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["账期", "客户编号", "产品编码", "收入", "计费成员数", "是否按时缴费"])
        for i in range(rows):
            period = periods[i // per_month]
            number = numbers[(i // len(codes)) % len(numbers)]
            writer.writerow([f"{period:%Y%m}", number, codes[i % len(codes)], f"{rng.uniform(0, 5000):.2f}",
                             rng.randint(0, 200), "是" if rng.random() < 0.97 else "否"])  # fmt: skip
    return [f"{p:%Y-%m}" for p in periods]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from jiketong.billing import services
    from jiketong.billing.models import ImportStatus
    from jiketong.catalog.models import Product
    from jiketong.customers.models import Customer
    from jiketong.testing import system_user

    numbers = list(Customer.objects.exclude(number=None).order_by("pk").values_list("number", flat=True))
    codes = list(Product.objects.order_by("code").values_list("code", flat=True))
    if not numbers or not codes:
        raise SystemExit("Load a demo first: python -m jiketong demo --groups 10000")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "facts.csv"
        periods = write_file(path, args.rows, numbers, codes)
        print(f"{connection.vendor}: {args.rows:,} rows, {len(numbers):,} customers × {len(codes)} products, "
              f"periods {periods[0]}…{periods[-1]}, {path.stat().st_size / 1e6:.0f} MB")  # fmt: skip
        rates = []
        for k in range(args.runs):
            run = services.import_file(actor=system_user(), path=path, kind="facts", mode="all")
            started = time.perf_counter()
            run = services.run_import(run.pk)
            took = time.perf_counter() - started
            if run.status != ImportStatus.SUCCEEDED:
                raise SystemExit(f"import {run.status}: {run.message}")
            rates.append(args.rows / took)
            print(f"  run {k + 1}: {took:.1f} s, {rates[-1]:,.0f} rows/s")
    print(f"median: {statistics.median(rates):,.0f} rows/s")


if __name__ == "__main__":
    main()
