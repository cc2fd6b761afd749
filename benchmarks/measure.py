"""One page timed the way every page benchmark times it (pages_bench, assessment_bench, grouprisk_bench): a warm-up
request whose queries are counted and timed one by one, then `repeat` requests; median and p95 in ms, the slowest
query (and its EXPLAIN ANALYZE on PostgreSQL when asked)."""

import json
import os
import statistics
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def measure(client, urls: list[str], *, repeat: int, extra: dict | None = None, explain: bool = False):
    """(status of the warm-up, entry or None when it was not 200). A name with several URLs cycles through them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    extra = extra or {}
    connection.force_debug_cursor = True
    with CaptureQueriesContext(connection) as queries:
        response = client.get(urls[0], HTTP_HOST="localhost", **extra)
    if response.status_code != 200:
        return response.status_code, None
    captured = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))
    times = []
    for i in range(repeat):
        started = time.perf_counter()
        client.get(urls[i % len(urls)], HTTP_HOST="localhost", **extra)
        times.append((time.perf_counter() - started) * 1000)
    slowest = captured[0] if captured else {"sql": "", "time": "0"}
    entry = {
        "queries": len(captured),
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "slowest_ms": round(float(slowest["time"]) * 1000, 1),
        "slowest_sql": slowest["sql"][:4000],
    }
    if explain and captured and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
            entry["explain"] = "\n".join(row[0] for row in cursor.fetchall())
    return 200, entry


def line(who: str, name: str, entry: dict, width: int = 34) -> str:
    return (f"{who:>27} {name:<{width}} {entry['queries']:3} q {entry['median_ms']:7.1f} / {entry['p95_ms']:7.1f} ms"
            f"  slowest {entry['slowest_ms']:6.1f} ms")  # fmt: skip


def write_results(prefix: str, label: str, results: dict) -> Path:
    from django.db import connection

    from jiketong.customers.models import Customer

    RESULTS.mkdir(parents=True, exist_ok=True)
    customers = Customer.objects.count()
    path = RESULTS / f"{prefix}-{connection.vendor}-{customers}-{label}.json"
    path.write_text(json.dumps({"customers": customers, "load": os.getloadavg(), "results": results},
                               ensure_ascii=False, indent=1))  # fmt: skip
    return path
