"""Measure the pages and API calls users wait on, at province scale.

    python benchmarks/run.py --groups 100000            # SQLite under $JIKETONG_VAR_DIR (default var/bench)
    scripts/with-postgres python benchmarks/run.py --groups 100000

Loads `--groups` demo groups (unless the database already holds that many), then times repeated requests through
Django's test client in-process (server time: routing, queries, rendering; no network) as a customer manager
and as a province supervisor, and prints median and p95 per scenario. Results go to benchmarks/results/*.json;
figures worth keeping are copied by hand into docs/benchmarks.md with the machine and data size.
"""

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiketong.settings")
os.environ.setdefault("DEBUG", "0")  # DEBUG keeps every query in memory and slows everything down
os.environ.setdefault("JIKETONG_VAR_DIR", str(ROOT / "var" / "bench"))


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def elapsed_ms(client, url: str, headers: dict) -> float:
    start = time.perf_counter()
    response = client.get(url, HTTP_HOST="localhost", **headers)
    took = (time.perf_counter() - start) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40, help="requests per scenario")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from jiketong.customers.models import Customer, Member
    from jiketong.org.models import Role, Staff
    from jiketong.org.services import token_issue

    call_command("migrate", verbosity=0)
    existing = Customer.objects.count()
    if existing < args.groups * 0.95:
        started = time.perf_counter()
        call_command("demo", groups=args.groups, seed=args.seed, reset=existing > 0)
        load_s = time.perf_counter() - started
    else:
        load_s = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    customers = Customer.objects.count()
    members = Member.objects.count()
    rng = random.Random(args.seed)
    manager = (
        Staff.objects.filter(roles=Role.CUSTOMER_MANAGER, user__is_active=True, user__username="manager").first()
        or Staff.objects.filter(roles=Role.CUSTOMER_MANAGER).first()
    )
    supervisor = Staff.objects.filter(roles=Role.SUPERVISOR, org_unit__depth=2).select_related("org_unit").first()
    results: dict[str, dict] = {}
    for persona, staff in (("manager", manager), ("province supervisor", supervisor)):
        client = Client()
        client.force_login(staff.user)
        token = token_issue(user=staff.user)
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        visible = Customer.objects.visible_to(staff.user)
        # A spread of the persona's customers: a sample of their first few thousand by id.
        candidates = list(visible.order_by("pk").values_list("pk", flat=True)[:5000])
        ids = rng.sample(candidates, min(20, len(candidates)))
        names = list(Customer.objects.filter(pk__in=ids).values_list("name", flat=True))
        # Search terms people type: part of a name and pinyin initials. Terms of one or two characters
        # cannot use the trigram index, so they are measured apart.
        terms = [name[2:6] for name in names[:5]] + ["gzdt", "zgpa"]
        short_terms = ["yy", "jy", "银行"]
        cases = {
            "customer list, page 1": ["/customers/"],
            "customer list, page 50": ["/customers/?page=50"],
            "search (UI)": [f"/customers/?search={t}" for t in terms],
            "search (UI), 2-character terms": [f"/customers/?search={t}" for t in short_terms],
            "360 page": [f"/customers/{pk}/" for pk in ids],
            "API list": ["/api/v1/customers?limit=50"],
            "API search": [f"/api/v1/customers?search={t}&limit=20" for t in terms],
            "API search, 2-character terms": [f"/api/v1/customers?search={t}&limit=20" for t in short_terms],
            "API retrieve": [f"/api/v1/customers/{pk}" for pk in ids],
        }
        for label, urls in cases.items():
            headers = bearer if label.startswith("API") else {}
            elapsed_ms(client, urls[0], headers)  # warm caches and the connection
            samples = [elapsed_ms(client, urls[i % len(urls)], headers) for i in range(args.repeat)]
            results[f"{persona}: {label}"] = {
                "median_ms": round(statistics.median(samples), 1),
                "p95_ms": round(percentile(samples, 95), 1),
                "n": len(samples),
            }
    report = {
        "database": connection.vendor,
        "groups": customers,
        "members": members,
        "load_seconds": round(load_s, 1) if load_s else None,
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "results": results,
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{connection.vendor}-{customers}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(f"{connection.vendor}, {customers:,} groups, {members:,} members, load {report['load_seconds']} s")
    print("| scenario | median ms | p95 ms |\n|---|---:|---:|")
    for label, figures in results.items():
        print(f"| {label} | {figures['median_ms']} | {figures['p95_ms']} |")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
