"""Markdown tables from a load run's files, for docs/benchmarks.md.

    python benchmarks/load/report.py var/load/<run>/

Reads locust_stats.csv (per request type), locust_stats_history.csv (the rate over time), rss.csv (memory
samples every 30 s) and summary.txt (conditions, CPU per request), and prints: the totals, one row per
request type (count, failures, requests/s, p50/p95/p99 in ms), the rate and latency per 5 minutes, and each
process's resident memory at the start, after warm-up, at its highest and at the end.
"""

import csv
import sys
from collections import defaultdict
from pathlib import Path


def main() -> None:
    run = Path(sys.argv[1])
    rows = list(csv.DictReader((run / "locust_stats.csv").open()))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    out = []
    out.append(
        f"**Totals**: {int(total['Request Count']):,} requests, {int(total['Failure Count'])} failures, "
        f"{float(total['Requests/s']):.1f} requests/s, p50 {total['50%']} ms, p95 {total['95%']} ms, "
        f"p99 {total['99%']} ms.\n"
    )
    out.append("| request type | requests | failures | req/s | p50 ms | p95 ms | p99 ms |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    for r in sorted((r for r in rows if r["Name"] != "Aggregated"), key=lambda r: r["Name"]):
        out.append(
            f"| {r['Type']} {r['Name']} | {int(r['Request Count']):,} | {r['Failure Count']} | "
            f"{float(r['Requests/s']):.2f} | {r['50%']} | {r['95%']} | {r['99%']} |"
        )

    history = [r for r in csv.DictReader((run / "locust_stats_history.csv").open()) if r["Name"] == "Aggregated"]
    if history:
        start = int(history[0]["Timestamp"])
        buckets: dict[int, list[dict]] = defaultdict(list)
        for r in history:
            buckets[(int(r["Timestamp"]) - start) // 300].append(r)
        out.append("\n| minutes | users | req/s (mean) | p50 ms | p95 ms | failures (cumulative) |")
        out.append("|---|---:|---:|---:|---:|---:|")
        for bucket, entries in sorted(buckets.items()):
            last = entries[-1]
            rate = sum(float(e["Requests/s"]) for e in entries) / len(entries)
            out.append(
                f"| {bucket * 5}–{bucket * 5 + 5} | {last['User Count']} | {rate:.1f} | {last['50%']} | "
                f"{last['95%']} | {last['Total Failure Count']} |"
            )

    samples: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for r in csv.DictReader((run / "rss.csv").open()):
        if r["rss_mib"]:
            samples[f"{r['process']} {r['pid']}"].append((int(r["elapsed_s"]), float(r["rss_mib"])))
    out.append("\n| process | samples | RSS at start MiB | after 5 min | highest | at the end | end − 5 min |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    for name, values in sorted(samples.items()):
        warm = next((v for t, v in values if t >= 300), values[-1][1])
        out.append(
            f"| {name} | {len(values)} | {values[0][1]:.0f} | {warm:.0f} | {max(v for _t, v in values):.0f} | "
            f"{values[-1][1]:.0f} | {values[-1][1] - warm:+.1f} |"
        )
    print("\n".join(out))


if __name__ == "__main__":
    main()
