"""Import runs carry a heartbeat: a run whose worker died is closed within minutes, and a live one never is.

The first tests run in this process; the last ones run real processes (the task worker, killed with
SIGKILL; a slow import beside the frequent job) on a database of their own: a SQLite file, and a
PostgreSQL database too when the suite runs on PostgreSQL (scripts/with-postgres).
"""

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from jiketong.billing import imports, jobs, services
from jiketong.billing.models import ImportRun, ImportStatus
from jiketong.core.models import AuditAction, AuditEvent

from .test_imports import JAN, facts, run

HEADER = ("账期", "客户编号", "产品编码", "收入", "计费成员数", "是否按时缴费")


def silent_run(minutes: float, status: str = ImportStatus.RUNNING, **fields) -> ImportRun:
    now = timezone.now()
    fields = {"started_at": now - timedelta(hours=1), "heartbeat_at": now - timedelta(minutes=minutes)} | fields
    return ImportRun.objects.create(kind="facts", file_name="x.csv", file_path="/x.csv", status=status, **fields)


# --- in this process -----------------------------------------------------------------------------
def test_a_running_import_beats_every_batch_and_between_its_stages(billing, write_csv, monkeypatch):
    beats, beat = [], services._beat

    def counted(current, **fields):
        beats.append(fields.get("progress"))
        beat(current, **fields)

    monkeypatch.setattr(imports, "BATCH", 2)
    monkeypatch.setattr(services, "_beat", counted)
    result = run(billing, write_csv([*JAN, ("202602", "C001", "DIA", "1", "0", "是")]))
    assert result.status == ImportStatus.SUCCEEDED, result.message
    # Two batches of two rows, the end of the file, after the checks, then the start and the end of the replace.
    assert len(beats) == 6 and beats[2:] == [90, None, 92, 95], beats
    assert result.heartbeat_at >= result.started_at


def test_the_frequent_job_fails_a_run_silent_past_the_timeout_and_leaves_live_ones(billing):
    dead, alive = silent_run(minutes=4), silent_run(minutes=1)
    assert jobs.frequent(timezone.now()) == "billing: 1 stalled imports closed"
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert (dead.status, alive.status) == (ImportStatus.FAILED, ImportStatus.RUNNING)
    assert dead.message.startswith("The background task was interrupted: its worker gave no sign of life for 3 minutes")
    assert "Nothing was loaded" in dead.message and dead.progress == 100 and dead.finished_at
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT, target_id=dead.pk).count() == 1
    assert jobs.frequent(timezone.now()) == "billing: 0 stalled imports closed"


def test_the_timeout_is_a_setting(billing, settings):
    settings.BILLING_IMPORT_HEARTBEAT_TIMEOUT_SECONDS = 20
    quiet = silent_run(minutes=0.5)
    assert jobs.frequent(timezone.now()) == "billing: 1 stalled imports closed"
    quiet.refresh_from_db()
    assert quiet.status == ImportStatus.FAILED and "for 1 minute." in quiet.message


def test_a_run_from_before_heartbeats_counts_from_its_start(billing):
    old = silent_run(minutes=0, heartbeat_at=None)  # started an hour ago, never beat
    assert jobs.frequent(timezone.now()) == "billing: 1 stalled imports closed"
    assert ImportRun.objects.get(pk=old.pk).status == ImportStatus.FAILED


def test_a_run_whose_worker_died_after_its_load_committed_is_closed_as_loaded(billing):
    landed = silent_run(minutes=10, periods=["2026-01"], rows_bad=2)
    assert jobs.frequent(timezone.now()) == "billing: 0 stalled imports closed, 1 loaded ones closed"
    landed.refresh_from_db()
    assert landed.status == ImportStatus.PARTIALLY and "2026-01" in landed.message


def test_queued_runs_and_runs_awaiting_a_confirmation_are_left_alone(billing):
    queued = silent_run(minutes=60, status=ImportStatus.QUEUED)
    waiting = silent_run(minutes=60, status=ImportStatus.CONFIRM)
    assert jobs.frequent(timezone.now()) == "billing: 0 stalled imports closed"
    assert {r.status for r in ImportRun.objects.filter(pk__in=[queued.pk, waiting.pk])} == {"queued", "confirm"}


def test_a_run_closed_as_dead_while_its_worker_lived_stops_at_its_next_beat(billing, write_csv, monkeypatch):
    run(billing, write_csv(JAN))
    before = facts()
    check = imports.check_stage

    def frozen_then_checked(kind):  # the worker froze here long enough for the job to close its run
        jobs.frequent(timezone.now() + timedelta(hours=1))
        return check(kind)

    monkeypatch.setattr(imports, "check_stage", frozen_then_checked)
    result = run(billing, write_csv([("202601", "C001", "DIA", "1.00", "0", "是")]))
    assert result.status == ImportStatus.FAILED and result.message.startswith("The background task was interrupted")
    assert facts() == before
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT, target_id=result.pk).count() == 1


def test_the_progress_page_says_when_the_worker_seems_gone(billing, client_as):
    client = client_as(billing.erin)
    page = client.get(reverse("billing:import_detail", args=[silent_run(minutes=4).pk])).content.decode()
    assert "后台任务似乎已中断" in page and 'hx-trigger="every 1s"' in page  # it still polls: the job closes it
    fresh = client.get(reverse("billing:import_detail", args=[silent_run(minutes=1).pk])).content.decode()
    assert "后台任务似乎已中断" not in fresh
    queued = silent_run(minutes=0, status=ImportStatus.QUEUED)
    ImportRun.objects.filter(pk=queued.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    assert "后台任务进程似乎没有运行" in client.get(reverse("billing:import_detail", args=[queued.pk])).content.decode()


def test_the_progress_page_shows_a_run_the_job_closed_as_interrupted(billing, client_as):
    dead = silent_run(minutes=4)
    with translation.override("zh-hans"):  # as cron runs it: in the installation's language
        jobs.frequent(timezone.now())
    page = client_as(billing.erin).get(reverse("billing:import_detail", args=[dead.pk])).content.decode()
    assert "后台任务已中断" in page and "alert-danger" in page and "every 1s" not in page


# --- real processes ------------------------------------------------------------------------------
class Database:
    """A database of its own for the processes of one test, made from a prepared template."""

    def __init__(self, root: Path, vendor: str, name: str) -> None:
        self.root, self.vendor, self.name = root, vendor, name
        if vendor == "sqlite":
            self.url = f"sqlite:///{root}/{name}.sqlite3"
        else:
            self.url = f"{os.environ['DATABASE_URL'].rsplit('/', 1)[0]}/{name}"

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "JIKETONG_VAR_DIR": str(self.root), "DATABASE_URL": self.url,
                "DJANGO_SETTINGS_MODULE": "jiketong.settings", "BILLING_IMPORT_HEARTBEAT_TIMEOUT_SECONDS": "3",
                **extra}  # fmt: skip

    def create(self) -> None:
        if self.vendor == "postgresql":
            self._admin(f'CREATE DATABASE "{self.name}"')

    def copy(self, root: Path, name: str) -> "Database":
        copy = Database(root, self.vendor, name)
        if self.vendor == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                if (self.root / f"{self.name}.sqlite3{suffix}").exists():
                    shutil.copy(self.root / f"{self.name}.sqlite3{suffix}", root / f"{name}.sqlite3{suffix}")
        else:
            self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        copy.old_facts = self.old_facts
        return copy

    def drop(self) -> None:
        if self.vendor == "postgresql":
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as connection:
            connection.execute(sql)

    def run_row(self, run_id: int) -> tuple[str, int]:
        query = "SELECT status, rows_total FROM billing_importrun WHERE id = "
        if self.vendor == "sqlite":
            with sqlite3.connect(self.root / f"{self.name}.sqlite3") as db:
                return db.execute(query + "?", [run_id]).fetchone()
        import psycopg

        with psycopg.connect(self.url) as db:
            return db.execute(query + "%s", [run_id]).fetchone()

    def step(self, *args: str, **env: str) -> dict:
        done = subprocess.run([sys.executable, "-m", "jiketong.billing.tests.steps", *map(str, args)],
                              env=self.env(**env), capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def job(self, *args: str) -> str:
        """`python -m jiketong jobs frequent`, as cron runs it; billing's line of its output."""
        done = subprocess.run([sys.executable, "-m", "jiketong", "jobs", "frequent", *args], env=self.env(),
                              capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        line = next(line for line in done.stdout.splitlines() if line.startswith("jiketong.billing.jobs.frequent: "))
        return line.removeprefix("jiketong.billing.jobs.frequent: ")


VENDORS = ["sqlite"] + (["postgresql"] if os.environ.get("DATABASE_URL", "").startswith("postgres") else [])


def write(path: Path, rows) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module", params=VENDORS)
def template(request, tmp_path_factory):
    """Migrated, with two customers, two products and January's three facts loaded by an import."""
    root = tmp_path_factory.mktemp(f"heartbeat-{request.param}")
    database = Database(root, request.param, f"jkt_heartbeat_{uuid.uuid4().hex[:8]}")
    database.create()
    old = database.step("setup", OLD_FILE=str(write(root / "old.csv", JAN)))
    assert old["status"] == ImportStatus.SUCCEEDED, old
    database.old_facts = old["facts"]
    yield database
    database.drop()


@pytest.fixture
def database(template, tmp_path):
    copy = template.copy(tmp_path, f"jkt_hb_{uuid.uuid4().hex[:8]}")
    yield copy
    copy.drop()


def wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def test_an_import_whose_worker_was_killed_is_failed_by_the_frequent_job_and_the_data_is_intact(database, tmp_path):
    # Far more rows than one batch: the worker is killed while it stages them.
    big = write(tmp_path / "big.csv", (("202601", f"C00{1 + i % 2}", "DIA", "9.00", "0", "是") for i in range(600_000)))
    run_id = database.step("enqueue", big)["run"]
    command = [sys.executable, "-m", "jiketong", "worker", "--no-reload", "--no-startup-delay", "--interval", "0.1"]
    worker = subprocess.Popen(command, env=database.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: database.run_row(run_id)[1] > 0, 120, "the worker to report its first batch")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        killed_at = timezone.now()
    finally:
        if worker.poll() is None:
            worker.kill()
    status, rows = database.run_row(run_id)
    assert status == ImportStatus.RUNNING and 0 < rows < 600_000  # killed mid-run, left "running"
    # Within its heartbeat window the run is left alone (a live worker must never be closed)…
    assert database.job("--at", killed_at.isoformat()).startswith("billing: 0 stalled imports closed")
    # …once past it (3 s here, 3 minutes by default) it is closed, saying why.
    time.sleep(max(0.0, 3.5 - (timezone.now() - killed_at).total_seconds()))
    assert database.job().startswith("billing: 1 stalled imports closed")
    state = database.step("state", run_id)
    assert state["status"] == ImportStatus.FAILED and state["audits"] == 1
    assert state["message"].startswith("后台任务已中断"), state["message"]
    assert state["facts"] == database.old_facts  # January as it was


def test_a_long_replace_is_not_taken_for_a_dead_worker(database, tmp_path):
    new = write(tmp_path / "new.csv", [("202601", "C001", "DIA", "1.00", "0", "是")])
    slow = subprocess.Popen([sys.executable, "-m", "jiketong.billing.tests.steps", "slow", str(new)],
                            env=database.env(RELEASE_MARK=str(tmp_path / "release")), stdout=subprocess.PIPE,
                            text=True)  # fmt: skip
    try:
        assert json.loads(slow.stdout.readline()) == {"replacing": True}
        time.sleep(3.5)  # the last committed heartbeat is now older than the 3 s window
        # The job finds the run silent, but its conditional UPDATE waits for the replace to commit (the run's
        # row lock on PostgreSQL, the write lock on SQLite), and the heartbeat it then sees is fresh.
        job = database.step("billing_job", RELEASE_MARK=str(tmp_path / "release"))  # lets the replace end 2 s in
        assert job["summary"] == "billing: 0 stalled imports closed" and job["silent"] == 1
        assert job["seconds"] > 2  # it did wait, for the replace that was held until 2 s into the job
        state = json.loads(slow.communicate(timeout=60)[0].strip().splitlines()[-1])
    finally:
        if slow.poll() is None:
            slow.kill()
    assert state["status"] == ImportStatus.SUCCEEDED and state["audits"] == 1, state
    assert [row for row in state["facts"] if row[0] == "2026-01"] == [["2026-01", "C001", "DIA", "1.00"]]
