"""The indicator summary's nightly work, statement by statement (decision 0607).

    DATABASE_URL=postgres://…/jiketong python benchmarks/summary_bench.py rebuild    # refresh_all: every month again
    DATABASE_URL=postgres://…/jiketong python benchmarks/summary_bench.py nightly    # refresh_due: what changed

Times the whole call and every SQL statement it runs (grouped by the statement's first line: total seconds,
how many), and prints the load average before and after, so runs on a shared machine can be compared. Writes
to the database it is given (the summary tables): use a copy, never a database others are measuring.
"""

import argparse
import collections
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiketong.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("job", choices=["rebuild", "nightly"])
    parser.add_argument("--top", type=int, default=12, help="statements to print (slowest first)")
    options = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    from jiketong.analytics import summary

    statements = collections.defaultdict(lambda: [0, 0.0])

    def timed(execute, sql, params, many, context):
        started = time.monotonic()
        try:
            return execute(sql, params, many, context)
        finally:
            entry = statements[" ".join(sql.split())[:110]]
            entry[0] += 1
            entry[1] += time.monotonic() - started

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    started = time.monotonic()
    with connection.execute_wrapper(timed):
        months = summary.refresh_all() if options.job == "rebuild" else summary.refresh_due()
    elapsed = time.monotonic() - started
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{options.job}: {elapsed:.1f} s, {len(months)} months")
    for sql, (count, seconds) in sorted(statements.items(), key=lambda item: -item[1][1])[: options.top]:
        print(f"{seconds:8.2f} s {count:5d}×  {sql}")


if __name__ == "__main__":
    main()
