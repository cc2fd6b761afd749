"""`python -m jiketong worker`: the task worker, django-tasks-db's `db_worker` made to outlive the database's
bad moments. It takes the same options, plus `--retry-delay` and `--retry-max-delay`.

`db_worker` ignores a locked database only while it looks for a task. It dies for good when the lock, or
any other database error, arrives anywhere else: opening its exclusive transaction (SQLite waits
`SQLITE_BUSY_TIMEOUT_SECONDS` for a writer holding the lock, then raises "database is locked"), the
connection check on waking up, or recording a task's result (which it tries three times, 0.1 s apart).
Here a database error (OperationalError, InterfaceError: a lock, a dropped connection, a PostgreSQL restart)
closes the connections, waits (1 s, doubling up to 60 s; back to 1 s once a task has run, or after ten
times the longest wait without an error) and starts the loop again. A result that could not be recorded is
recorded first, so a task never stays "running" because the database hiccupped just as it ended. Anything
else still ends the process: systemd's `Restart=always` (or `make demo`'s loop) starts a new one
(docs/operations.md).
"""

import logging
import os
import time

from django.db import InterfaceError, OperationalError, connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("django_tasks_db")
TRANSIENT = (OperationalError, InterfaceError)
RESULT_FIELDS = ["status", "return_value", "finished_at", "exception_class_path", "traceback"]


class ResilientWorker(db_worker.Worker):
    """db_worker's loop, started again after a database error instead of ending the process."""

    def __init__(self, *, retry_delay: float, retry_max_delay: float, **options) -> None:
        super().__init__(**options)
        self.retry_delay = retry_delay
        self.retry_max_delay = max(retry_max_delay, retry_delay)
        self.unrecorded: DBTaskResult | None = None  # a task that ran but whose result could not be saved
        self.failures = 0  # database errors in a row

    def run(self) -> None:
        while self.running:
            started = time.monotonic()
            try:
                self._record_unrecorded()
                super().run()
                return  # --batch or --max-tasks reached
            except TRANSIENT as exc:
                # Each try of a held lock lasts the busy timeout: only a long stretch without error is a new incident.
                if time.monotonic() - started > 10 * self.retry_max_delay:
                    self.failures = 0
                self.failures += 1
                delay = min(self.retry_max_delay, self.retry_delay * 2 ** (self.failures - 1))
                logger.warning(
                    "Database error in worker_id=%s (%s: %s); retrying in %.1f s (attempt %d).",
                    self.worker_id, type(exc).__name__, exc, delay, self.failures,
                )  # fmt: skip
                _close_connections()
                self.startup_delay = False
                if self.running:
                    time.sleep(delay)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        self.failures = 0  # it claimed a task: the database works again
        self.unrecorded = db_task_result
        super().run_task(db_task_result)  # catches the task's own errors; a database error recording them escapes
        self.unrecorded = None

    def _record_unrecorded(self) -> None:
        """Save the result the last attempt could not: db_worker left it in memory (failed, with the database
        error, when even recording the failure failed), and the row would otherwise stay "running"."""
        if self.unrecorded is not None:
            self.unrecorded.save(update_fields=RESULT_FIELDS)
            logger.warning("Recorded task id=%s as %s after a database error.", self.unrecorded.id,
                           self.unrecorded.status)  # fmt: skip
            self.unrecorded = None


def _close_connections() -> None:
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - a broken connection may fail to close; it is dropped either way
            connection.connection = None


class Command(db_worker.Command):
    help = "Run the task worker (db_worker that retries with backoff after database errors instead of exiting)."

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--retry-delay",
            type=db_worker.valid_interval,
            default=1.0,
            help="Seconds to wait after a database error before trying again; doubles each time (default: 1).",
        )
        parser.add_argument(
            "--retry-max-delay",
            type=db_worker.valid_interval,
            default=60.0,
            help="The longest wait between tries (default: 60).",
        )

    def handle(self, *, verbosity: int, queue_name: str, exclude_queues: str, batch: bool, reload: bool,
               **options) -> None:  # fmt: skip
        self.configure_logging(verbosity)
        if reload and batch:
            logger.warning("Warning: --reload and --batch cannot be specified together. Disabling autoreload.")
            reload = False
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise db_worker.CommandError("--exclude-queues can only be used with --queue-name=*")
        names = ("interval", "backend_name", "startup_delay", "max_tasks", "worker_id", "retry_delay")
        worker = ResilientWorker(
            queue_names=queue_names,
            excluded_queue_names=excluded,
            batch=batch,
            retry_max_delay=options["retry_max_delay"],
            **{name: options[name] for name in names},
        )
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only the child process, as db_worker does
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
