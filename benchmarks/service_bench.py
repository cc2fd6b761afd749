"""Service: the frequent (SLA breach) job and the breach board, on a demo database.

    JIKETONG_VAR_DIR=/tmp/service-var python benchmarks/service_bench.py --runs 5
    scripts/with-postgres sh -c 'python -m jiketong migrate && python -m jiketong demo --groups 1000000 &&
                                 python benchmarks/service_bench.py'

1. The frequent job: the first run escalates the demo's open breached tickets (timed once: a burst after an
   outage); then `--runs` steady-state runs at a later `now` that find nothing new (the every-5-minutes cost),
   and `--runs` runs with `--fresh` newly breached tickets made by moving deadlines back (a busy interval).
   The fresh runs change data: use a throwaway database.
2. The breach board as the demo's city supervisor and the system administrator (whole province):
   count + first page, median of `--runs`.
Prints medians in milliseconds. Timings only; nothing is asserted.
"""

import argparse
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


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--fresh", type=int, default=200, help="tickets newly breached per busy run")
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.paginator import Paginator
    from django.db import connection
    from django.utils import timezone

    from jiketong.service import jobs, queries
    from jiketong.service.models import Ticket

    now = timezone.now()
    print(
        f"database: {connection.vendor}; tickets: {Ticket.objects.count():,}; open: {Ticket.objects.open().count():,}"
    )

    ms, message = timed(lambda: jobs.frequent(now))
    print(f"frequent job, first run (backlog): {ms:.0f} ms — {message}")
    steady = [timed(lambda: jobs.frequent(now + timedelta(minutes=5)))[0] for _ in range(args.runs)]
    print(f"frequent job, nothing new: median {statistics.median(steady):.1f} ms")

    busy = []
    for i in range(args.runs):
        later = now + timedelta(minutes=10 * (i + 2))
        ids = list(
            Ticket.objects.open()
            .filter(watch_at__isnull=False, watch_at__gt=later)
            .values_list("pk", flat=True)[: args.fresh]
        )
        Ticket.objects.filter(pk__in=ids).update(watch_at=later - timedelta(minutes=1),
                                                 response_due=later - timedelta(minutes=1), first_response_at=None,
                                                 breached_response=False)  # fmt: skip
        ms, message = timed(lambda later=later: jobs.frequent(later))
        busy.append(ms)
    print(f"frequent job, {args.fresh} fresh breaches: median {statistics.median(busy):.0f} ms")

    calendar = queries.business_calendar()
    User = get_user_model()
    for username in ("supervisor", "sysadmin"):  # a city supervisor; an admin sees the whole province
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        queryset = queries.breach_board(user, timezone.now(), calendar)

        def board(queryset=queryset):
            page = Paginator(queryset, 20).get_page(1)
            return page.paginator.count, list(page.object_list)

        runs = [timed(board) for _ in range(args.runs)]
        count = runs[0][1][0]
        print(f"breach board as {username} ({count:,} tickets): median {statistics.median(r[0] for r in runs):.1f} ms")


if __name__ == "__main__":
    main()
