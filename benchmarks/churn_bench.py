"""Nightly churn scoring time on the configured database (goal at 1M customers: ≤ 5 minutes).

    JIKETONG_VAR_DIR=/tmp/churn-var python benchmarks/churn_bench.py --runs 3
    scripts/with-postgres sh -c 'python -m jiketong migrate && python -m jiketong demo --groups 1000000 &&
                                 python -m jiketong churn train && python benchmarks/churn_bench.py'

Needs a demo database with billing history (and, to time model scoring, a trained model: `churn train`).
Each run first times the two halves on their own (building the features of every in-service customer;
scoring them with the kept scorer), then the whole nightly job end to end (features, scoring, reasons,
replacing every stored score in one transaction). Prints each run and the median of the end-to-end time.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--at", help="Score as of this date (ISO); default today.")
    args = parser.parse_args()

    import django

    django.setup()
    from datetime import date

    from django.db import connection
    from django.utils import timezone

    from jiketong.churn import features, services
    from jiketong.churn.models import ChurnModel

    today = date.fromisoformat(args.at) if args.at else timezone.localdate()
    churn_model = ChurnModel.objects.first()
    scorer = churn_model.get_winner_display() if churn_model else "rules (no trained model)"
    print(f"database: {connection.vendor}; scorer: {scorer}; as of {today}")
    totals = []
    for run in range(1, args.runs + 1):
        started = time.perf_counter()
        table = features.build(services.scoring_month(today), on_date=today)
        built = time.perf_counter()
        services.scores_for(table, churn_model)
        scored = time.perf_counter()
        count = services.score_all(today)
        total = time.perf_counter() - scored
        totals.append(total)
        print(f"run {run}: {count:,} customers; features {built - started:.1f} s, scoring {scored - built:.1f} s; "
              f"nightly job end to end {total:.1f} s ({count / total:,.0f} customers/s)")  # fmt: skip
    print(f"median nightly job: {statistics.median(totals):.1f} s (goal at 1M customers: ≤ 300 s)")


if __name__ == "__main__":
    main()
