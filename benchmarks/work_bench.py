"""Managers' work at scale: the daily job (visit tasks owed by grade, then the digests), coverage and the agenda.

    JIKETONG_VAR_DIR=/tmp/work-var python benchmarks/work_bench.py
    scripts/with-postgres sh -c 'python -m jiketong migrate && python -m jiketong demo --groups 10000 &&
                                 python benchmarks/work_bench.py'

Runs against whatever database is configured, inside one transaction that is rolled back, so the demo
data is left as it was. Times:
- visit-task generation for the current periods from scratch (the open generated tasks are removed first,
  as on the first day of a new year when every grade's period starts), then a second run (idempotent: 0);
- the digests (one inbox notification per manager with something due), then a second run (0 new);
- coverage for the whole database (a province supervisor's report) and the agenda of the manager with
  the biggest portfolio, `--repeat` times each (median and p95).
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


def timed(function):
    started = time.perf_counter()
    result = function()
    return (time.perf_counter() - started) * 1000, result


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, transaction
    from django.db.models import Count
    from django.utils import timezone

    from jiketong.core.models import Notification
    from jiketong.customers.models import Customer
    from jiketong.org.models import Staff
    from jiketong.work import queries, services
    from jiketong.work.models import Activity, Task, TaskStatus

    today = timezone.localdate()
    print(f"database: {connection.vendor}; customers {Customer.objects.count():,}; "
          f"activities {Activity.objects.count():,}; tasks {Task.objects.count():,}")  # fmt: skip
    with transaction.atomic():
        removed, _ = Task.objects.filter(standard_period__isnull=False, status=TaskStatus.OPEN).delete()
        ms, created = timed(lambda: services.generate_visit_tasks(today))
        print(f"visit tasks, first run: {created:,} created in {ms:,.0f} ms ({removed:,} open ones removed first)")
        ms, created = timed(lambda: services.generate_visit_tasks(today))
        print(f"visit tasks, second run: {created:,} created in {ms:,.0f} ms")
        Notification.objects.filter(key=f"work:digest:{today.isoformat()}").delete()
        ms, sent = timed(lambda: services.send_digests(today))
        print(f"digests, first run: {sent:,} sent in {ms:,.0f} ms")
        ms, sent = timed(lambda: services.send_digests(today))
        print(f"digests, second run: {sent:,} sent in {ms:,.0f} ms")

        everyone = Staff.objects.all()
        runs = [timed(lambda: queries.coverage(everyone, today)) for _ in range(args.repeat)]
        times = [ms for ms, _rows in runs]
        print(f"coverage of {len(runs[0][1]):,} managers: median {statistics.median(times):,.0f} ms, "
              f"p95 {percentile(times, 95):,.0f} ms")  # fmt: skip

        top = (
            Customer.objects.filter(owner__isnull=False).values("owner").annotate(n=Count("pk")).order_by("-n").first()
        )
        if top:
            manager = Staff.objects.select_related("user").get(pk=top["owner"])
            runs = [timed(lambda: queries.agenda(manager.user, today)) for _ in range(args.repeat)]
            times = [ms for ms, _days in runs]
            print(f"agenda of {manager.name} ({top['n']:,} customers, {sum(len(i) for _d, i in runs[0][1]):,} items): "
                  f"median {statistics.median(times):,.0f} ms, p95 {percentile(times, 95):,.0f} ms")  # fmt: skip
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
