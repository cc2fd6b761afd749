"""Nightly churn scoring time on the configured database (goal at 1M customers: ≤ 5 minutes).

    JIKETONG_VAR_DIR=/tmp/churn-var python benchmarks/churn_bench.py --runs 3
    scripts/with-postgres sh -c 'python -m jiketong migrate && python -m jiketong demo --groups 1000000 &&
                                 python -m jiketong churn train && python benchmarks/churn_bench.py'

Needs a demo database with billing history (and, to time model scoring, a trained model: `churn train`).
Each run first times the two halves on their own (building the features of every in-service customer;
scoring them with the kept scorer), then the whole nightly job end to end (features, scoring, reasons,
replacing every stored score in one transaction). Prints each run and the median of the end-to-end time.
Then the risk-alert detector (`--no-alerts` skips it): its queries alone and the whole raise of the first night's
alerts (rolled back each run), then one kept run and a second one that must raise nothing.
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
    parser.add_argument("--no-alerts", action="store_true", help="Skip timing the risk-alert detector.")
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
    if not args.no_alerts:
        alert_runs(today, args.runs)


def alert_runs(today, runs: int) -> None:
    """The risk-alert detector (decision 0705): the set-based queries alone (hits found), then the whole raise
    (hits not raised before, routing, INSERTs and events) inside a transaction rolled back, so every run raises
    the first night's alerts; then one real run and one more, which must raise nothing."""
    from django.db import transaction

    from jiketong.churn import alerts, model, services
    from jiketong.churn.models import RiskAlert

    current = today.replace(day=1)
    earlier = [m for m in model.billed_months() if m < current]
    period = earlier[-1] if earlier else None
    detect_times, raise_times = [], []
    for run in range(1, runs + 1):
        started = time.perf_counter()
        hits = alerts.detect(today, period)
        detected = time.perf_counter()
        with transaction.atomic():
            RiskAlert.objects.all().delete()  # as on the first night (rolled back below)
            cleared = time.perf_counter()
            raised = services.alerts_raise(today)
            done = time.perf_counter()
            transaction.set_rollback(True)
        detect_times.append(detected - started)
        raise_times.append(done - cleared)
        kinds = {}
        for hit in hits:
            kinds[str(hit.kind.value)] = kinds.get(str(hit.kind.value), 0) + 1
        print(f"alerts run {run}: {len(hits):,} hits {kinds} in {detected - started:.2f} s; "
              f"raising {raised:,} (rolled back) {done - cleared:.2f} s")  # fmt: skip
    first = services.alerts_raise(today)
    started = time.perf_counter()
    again = services.alerts_raise(today)
    print(
        f"median detector {statistics.median(detect_times):.2f} s, raise {statistics.median(raise_times):.2f} s; "
        f"kept {first:,} alerts; a second run the same night raised {again} in {time.perf_counter() - started:.2f} s"
    )


if __name__ == "__main__":
    main()
