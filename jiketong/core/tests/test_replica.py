"""The read replica (core.dbrouter, decision 0510): which database a read goes to, and a real PostgreSQL
streaming replica serving a dashboard while the writes stay on the primary."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connections, router, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from jiketong.analytics.tests import conftest as analytics
from jiketong.core import dbrouter
from jiketong.core.dbrouter import ReplicaPinMiddleware, reading_replica
from jiketong.customers.models import Customer
from jiketong.testing import make_customer

# The small billed world of the analytics tests (its fixtures, used here as they are).
P, month = analytics.P, analytics.month
products, world, tasks_run_at_once = analytics.products, analytics.world, analytics.tasks_run_at_once


@pytest.fixture
def replica_set(monkeypatch):
    """The router believes a replica is configured (no database is asked in these tests)."""
    monkeypatch.setattr(dbrouter, "replica_configured", lambda: True)


# --- the router's choices --------------------------------------------------------------------------------
def test_without_a_replica_every_read_stays_on_the_primary():
    with reading_replica():
        assert router.db_for_read(Customer) == "default"


def test_reads_in_a_replica_block_go_to_the_replica_and_nowhere_else(replica_set):
    assert router.db_for_read(Customer) == "default"
    with reading_replica():
        assert router.db_for_read(Customer) == "replica"
    assert router.db_for_read(Customer) == "default"


def test_writes_and_migrations_only_ever_go_to_the_primary(replica_set):
    with reading_replica():
        assert router.db_for_write(Customer) == "default"
    assert router.allow_migrate("default", "customers")
    assert not router.allow_migrate("replica", "customers")


def test_a_write_pins_the_rest_of_the_block_to_the_primary(replica_set):
    with reading_replica():
        router.db_for_write(Customer)
        assert router.db_for_read(Customer) == "default"


def test_a_job_whose_reads_do_not_depend_on_its_writes_keeps_reading_the_replica(replica_set):
    with reading_replica(sticky=False):
        router.db_for_write(Customer)
        assert router.db_for_read(Customer) == "replica"


@pytest.mark.django_db
def test_a_read_inside_a_transaction_belongs_to_it(replica_set):
    with transaction.atomic(), reading_replica():
        assert router.db_for_read(Customer) == "default"


def test_a_fresh_reader_uses_the_primary_while_the_replica_lags(replica_set, monkeypatch):
    monkeypatch.setattr(dbrouter, "replica_caught_up", lambda wait_ms=None: False)
    with reading_replica(fresh=True):
        assert router.db_for_read(Customer) == "default"
    monkeypatch.setattr(dbrouter, "replica_caught_up", lambda wait_ms=None: True)
    with reading_replica(fresh=True):
        assert router.db_for_read(Customer) == "replica"


def test_the_decorator_gives_each_call_its_own_block(replica_set):
    seen = []

    @reading_replica()
    def view():
        seen.append(router.db_for_read(Customer))
        router.db_for_write(Customer)
        seen.append(router.db_for_read(Customer))

    view()
    view()
    assert seen == ["replica", "default", "replica", "default"]


def test_a_request_that_wrote_reads_the_primary_and_its_browser_too_for_a_while(replica_set, settings):
    settings.DATABASE_REPLICA_PIN_SECONDS = 10
    seen = []

    def view(request):
        if request.method == "POST":
            router.db_for_write(Customer)  # the ORM asks this before every write
        with reading_replica():
            seen.append(router.db_for_read(Customer))
        return HttpResponse()

    middleware = ReplicaPinMiddleware(view)
    factory = RequestFactory()
    assert dbrouter.PIN_COOKIE not in middleware(factory.get("/")).cookies
    posted = middleware(factory.post("/"))
    assert posted.cookies[dbrouter.PIN_COOKIE]["max-age"] == 10
    after = factory.get("/")
    after.COOKIES[dbrouter.PIN_COOKIE] = "1"
    middleware(after)
    assert seen == ["replica", "default", "default"]


# --- a real streaming replica ----------------------------------------------------------------------------
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
PGBIN = Path(os.environ.get("PGBIN") or max(Path("/usr/lib/postgresql").glob("*/bin"), default=Path("/nonexistent")))


def _as_postgres(*args: str) -> subprocess.CompletedProcess:
    command = [str(a) for a in args]
    if os.geteuid() == 0:  # initdb and postgres refuse root: run as the postgres user, as scripts/with-postgres does
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=180)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_replay(timeout: float = 30) -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (target,) = cursor.fetchone()
    deadline = time.monotonic() + timeout
    with connections["replica"].cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.05)


def _start(data: Path, root: Path) -> int:
    """Start the standby on a free port; returns it. A port another process took between the check and the
    start is tried again (twice) with another; a standby that does not start fails with the tail of its log."""
    for attempt in range(3):
        port = _free_port()
        try:
            _as_postgres(PGBIN / "pg_ctl", "-D", data, "-l", root / "log", "-w", "-t", "180", "start", "-o",
                         f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c hot_standby=on")  # fmt: skip
            return port
        except subprocess.CalledProcessError as exc:
            log = (root / "log").read_text(errors="replace")[-3000:] if (root / "log").exists() else ""
            if attempt == 2 or "already in use" not in log:
                raise AssertionError(f"the standby did not start: {exc.stderr}\n{log}") from exc
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def standby(django_db_setup):
    """A hot standby of the test run's primary: pg_basebackup (with -R: standby.signal and primary_conninfo)
    taken after the test database was created, started on a port of its own. Yields its settings."""
    import psycopg

    primary = connections["default"].settings_dict
    root = Path(tempfile.mkdtemp(prefix="jiketong-standby."))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    try:
        _as_postgres(PGBIN / "pg_basebackup", "-h", primary["HOST"] or "127.0.0.1", "-p", primary["PORT"] or 5432,
                     "-U", primary["USER"] or "postgres", "-D", data, "-R", "-X", "stream", "-c", "fast")  # fmt: skip
        port = _start(data, root)
        replica = {**primary, "HOST": "127.0.0.1", "PORT": str(port), "TEST": {"MIRROR": None}}
        with psycopg.connect(host="127.0.0.1", port=port, user=primary["USER"], dbname=primary["NAME"]) as check:
            assert check.execute("SELECT pg_is_in_recovery()").fetchone()[0], "the copy is not a standby"
        yield replica
    finally:
        stop = [str(PGBIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
        subprocess.run(["runuser", "-u", "postgres", "--", *stop] if os.geteuid() == 0 else stop, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def replica(standby, world):
    """The "replica" alias for one test, added once the test's database setup has run (so the test case does
    not fence it off as a database the test may not use) and gone before its teardown."""
    connections.settings["replica"] = standby
    # Connected here: the test case's guard refuses to open a connection to an alias it does not know.
    connections["replica"].connect()
    yield connections["replica"]
    connections["replica"].close()
    del connections["replica"]
    del connections.settings["replica"]


def _replay(paused: bool) -> None:
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()")


def _in_service(client) -> int:
    response = client.get(f"/analytics/?period={P:%Y-%m}")
    assert response.status_code == 200
    return response.context["kpis"].rows[0]["values"][0]


@pytest.mark.skipif(not ON_POSTGRES, reason="a streaming replica needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # like every transactional test here
def test_the_dashboard_is_served_by_the_replica_and_the_writes_by_the_primary(replica, world, client_as):
    client = client_as(world.carol)
    _wait_for_replay()
    with CaptureQueriesContext(replica) as on_replica, CaptureQueriesContext(connections["default"]) as on_primary:
        assert _in_service(client) == 2  # as in analytics' own tests: A and B in 440100's subtree
    assert len(on_replica) > 5
    assert not [q["sql"] for q in on_replica if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    # The primary kept the request's own work (the session, the user) and the session's save.
    assert any("django_session" in q["sql"] for q in on_primary)
    assert not any("billing_customermonth" in q["sql"] for q in on_primary)

    # Replay paused, a customer billed on the primary is not on the replica yet: the dashboard does not show it.
    _replay(paused=True)
    try:
        newcomer = make_customer(org_unit=world.org["440106"], owner=world.alice, name="天河新客户有限公司")
        month(newcomer, P, 100, members=11)
        assert _in_service(client) == 2
        with connections["replica"].cursor() as cursor:
            cursor.execute("SELECT count(*) FROM customers_customer WHERE id = %s", [newcomer.pk])
            assert cursor.fetchone()[0] == 0
    finally:
        _replay(paused=False)
    _wait_for_replay()
    assert _in_service(client) == 3
