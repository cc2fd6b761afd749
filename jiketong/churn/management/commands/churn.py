"""`python -m jiketong churn train|score|alerts|evaluate`.

- train: build the time-split history, judge the rule baseline and both models, keep the winner.
- score [--at DATE]: the nightly scoring, by hand.
- alerts [--at DATE]: the nightly risk-alert detector, by hand (raises only what was not raised before).
- evaluate --csv FILE --label COL [--id COL]: the same model pipeline on any feature table, judged on a
  stratified held-out quarter (AUC and lift in the top 10%), so it can be checked on outside data.
"""

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from jiketong.churn import model, services
from jiketong.churn.models import Scorer


class Command(BaseCommand):
    help = "Churn early warning: train the scorers, score every customer, or evaluate on a CSV feature table."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["train", "score", "alerts", "evaluate"])
        parser.add_argument("--at", help="score, alerts: as of this date (ISO), default today.")
        parser.add_argument("--csv", help="evaluate: the feature table (UTF-8 CSV with a header row).")
        parser.add_argument("--label", help="evaluate: the 0/1 column to predict.")
        parser.add_argument("--id", dest="id_column", help="evaluate: an id column to leave out of the features.")
        parser.add_argument("--max-rows", type=int, default=model.MAX_ROWS_PER_MONTH,
                            help="train: customers sampled per month at most.")  # fmt: skip

    def handle(self, *args, action: str, **options) -> None:
        started = time.monotonic()
        if action == "train":
            try:
                trained = model.train(progress=self.stdout.write, max_rows=options["max_rows"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"model {trained.version} ({trained.get_winner_display()})")
        elif action == "score":
            today = date.fromisoformat(options["at"]) if options["at"] else timezone.localdate()
            self.stdout.write(f"{services.score_all(today)} customers scored")
        elif action == "alerts":
            today = date.fromisoformat(options["at"]) if options["at"] else timezone.localdate()
            self.stdout.write(f"risk alerts raised: {services.alerts_raise(today)}")
        else:
            self._evaluate(options)
        self.stdout.write(f"{time.monotonic() - started:.1f} s")

    def _evaluate(self, options) -> None:
        if not options["csv"] or not options["label"]:
            raise CommandError("evaluate needs --csv FILE and --label COLUMN.")
        try:
            x, y, numeric, categorical = model.read_table(options["csv"], options["label"], options["id_column"])
            result = model.evaluate_table(x, y, len(numeric))
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"rows {result['rows']} (held out {result['test_rows']}), churn rate {y.mean():.3f}")
        self.stdout.write(f"numeric: {', '.join(numeric) or '-'}; categorical: {', '.join(categorical) or '-'}")
        for kind in model.MODEL_KINDS:
            m = result[str(kind)]
            self.stdout.write(f"{Scorer(kind).label}: AUC {m['auc']:.3f}, lift@10% {m['lift10']:.2f}")
