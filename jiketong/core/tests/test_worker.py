"""The task worker (`python -m jiketong worker`) as a real process on its own SQLite database."""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django_tasks import task


@task()
def ping() -> str:
    return "pong"


@task()
def slow() -> str:
    """Says it started, then ends only once another connection holds the write lock (or after 30 s)."""
    Path(os.environ["STARTED_MARK"]).touch()
    locked = Path(os.environ["LOCKED_MARK"])
    deadline = time.monotonic() + 30
    while not locked.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return "done"


ENQUEUE = """
import os, django
django.setup()
from datetime import timedelta
from django.utils import timezone
from jiketong.core.tests import test_worker
task = getattr(test_worker, os.environ.get("TASK", "ping"))
print(task.using(run_after=timezone.now() + timedelta(seconds=float(os.environ.get("DUE_IN", "0")))).enqueue().id)
"""


def environment(path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "JIKETONG_VAR_DIR": str(path), "DATABASE_URL": f"sqlite:///{path}/worker.sqlite3",
            "DJANGO_SETTINGS_MODULE": "jiketong.settings", **extra}  # fmt: skip


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """One migrated database file, copied by each test."""
    path = tmp_path_factory.mktemp("worker-db")
    done = subprocess.run([sys.executable, "-m", "jiketong", "migrate", "-v0"], env=environment(path),
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return path / "worker.sqlite3"


def wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Worker:
    """`python -m jiketong worker` on a copy of the migrated database, with a 1 s SQLite busy timeout."""

    def __init__(self, migrated: Path, path: Path) -> None:
        shutil.copy(migrated, path / "worker.sqlite3")
        self.db = path / "worker.sqlite3"
        self.env = environment(path, SQLITE_BUSY_TIMEOUT_SECONDS="1", STARTED_MARK=str(path / "started"),
                               LOCKED_MARK=str(path / "locked"))  # fmt: skip
        self.log = path / "worker.log"
        command = [sys.executable, "-m", "jiketong", "worker", "--no-reload", "--no-startup-delay", "--interval",
                   "0.1", "--retry-delay", "0.2", "--retry-max-delay", "1"]  # fmt: skip
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(command, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        wait_for(lambda: "Starting worker" in self.output(), 120, "the worker to start")

    def output(self) -> str:
        return self.log.read_text()

    def enqueue(self, task: str = "ping", due_in: float = 0) -> None:
        env = {**self.env, "TASK": task, "DUE_IN": str(due_in)}
        done = subprocess.run([sys.executable, "-c", textwrap.dedent(ENQUEUE)], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]

    def hold_write_lock(self, seconds: float, until=None) -> None:
        """Another connection holds SQLite's write lock (BEGIN IMMEDIATE) for this long, or until `until()` is
        true (at most `seconds`); the `locked` mark says it has it."""
        holder = sqlite3.connect(self.db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        Path(self.env["LOCKED_MARK"]).touch()
        if until is None:
            time.sleep(seconds)
        else:
            wait_for(until, seconds, "the condition to release the lock on")
        holder.execute("ROLLBACK")
        holder.close()

    def result(self, seconds: float = 30) -> tuple:
        def finished():
            with sqlite3.connect(self.db) as db:
                return db.execute(
                    "SELECT status, return_value, exception_class_path FROM django_tasks_database_dbtaskresult"
                    " WHERE status NOT IN ('READY', 'RUNNING')"
                ).fetchone()

        return wait_for(finished, seconds, f"the task to end; the worker said:\n{self.output()[-3000:]}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"the worker did not stop on SIGTERM:\n{self.output()[-3000:]}") from None


@pytest.fixture
def worker(migrated, tmp_path):
    started = Worker(migrated, tmp_path)
    yield started
    started.stop()


def test_the_worker_outlives_a_held_write_lock_and_then_runs_the_task(worker):
    # Due in two seconds: by then another connection holds the write lock, for longer than the busy timeout.
    worker.enqueue(due_in=2)
    worker.hold_write_lock(4)
    assert "database is locked" in worker.output()
    assert worker.process.poll() is None, worker.output()[-3000:]  # db_worker exits here, for good
    assert worker.result() == ("SUCCESSFUL", '"pong"', "")
    assert worker.process.poll() is None


def test_a_result_the_lock_kept_from_being_recorded_is_recorded_afterwards(worker, tmp_path):
    worker.enqueue("slow")
    wait_for((tmp_path / "started").exists, 30, "the task to start")
    # The task ends under the lock; it is held until db_worker's three tries at recording the success, then three
    # at recording that failure, have failed and the worker has logged the database error.
    worker.hold_write_lock(60, until=lambda: "Database error in worker_id" in worker.output())
    status, _value, error = worker.result()
    # Not left "running" for ever: failed, with the database error that kept the outcome from being saved.
    assert (status, error) == ("FAILED", "django.db.utils.OperationalError"), worker.output()[-3000:]
    assert "Recorded task id=" in worker.output() and worker.process.poll() is None
