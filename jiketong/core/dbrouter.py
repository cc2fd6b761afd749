"""Analytical reads on a PostgreSQL streaming replica (decision 0022; docs/operations.md, "One province past one
machine").

With `DATABASE_REPLICA_URL` set, settings add a "replica" database; without it nothing here changes anything
(every read and write on "default"). The router sends a read to the replica only when all of these hold:

- the code asked for it: inside `reading_replica()` (a context manager and a decorator), used by the
  dashboards, indicator pages and their exports, churn scoring and the federation collection's reads;
- nothing was written before it in the same request or the same `reading_replica()` block (any ORM write,
  which the router sees in `db_for_write`): whoever just wrote reads their write back from the primary;
- the default connection is not inside a transaction (`atomic`): a read in a transaction belongs to it;
- the browser did not write in the last `DATABASE_REPLICA_PIN_SECONDS` (a short cookie set on the response
  of a request that wrote: the page after a POST's redirect reads the primary while the replica catches up).

Writes always go to "default"; migrations run only there (the replica is a physical copy).

`reading_replica(fresh=True)` is for readers that must not miss a commit made just before (the sync's
collection, reacting to an event): the replica is used only when it has replayed everything the primary had
written when the block started, after waiting up to `DATABASE_REPLICA_WAIT_MS` for it; else the primary.
"""

import contextvars
import time
from contextlib import ContextDecorator
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

REPLICA = "replica"
PIN_COOKIE = "jkt_primary"


@dataclass
class _Pin:
    """What one request (or one reading_replica block outside a request) did: wrote → primary from then on."""

    wrote: bool = False
    cookie: bool = False


@dataclass
class _Use:
    pin: _Pin
    sticky: bool  # a write pins the rest of the block to the primary
    replica_ok: bool = True


_request: contextvars.ContextVar[_Pin | None] = contextvars.ContextVar("jiketong_db_request", default=None)
_using: contextvars.ContextVar[_Use | None] = contextvars.ContextVar("jiketong_db_replica", default=None)


def replica_configured() -> bool:
    return REPLICA in connections.settings


class reading_replica(ContextDecorator):  # noqa: N801 (reads as a statement: `with reading_replica():`)
    """Reads in this block may be served by the replica (see the module docstring for when they are not).

    sticky=False is for jobs whose reads never depend on their own writes (churn scoring reads the
    features, then writes scores): their writes do not pin the block to the primary."""

    def __init__(self, *, fresh: bool = False, sticky: bool = True):
        self.fresh = fresh
        self.sticky = sticky
        self._tokens: list = []

    def _recreate_cm(self):
        # As a decorator, one instance serves every call (and every thread): each call gets its own.
        return type(self)(fresh=self.fresh, sticky=self.sticky)

    def __enter__(self):
        pin = _request.get() or _Pin()
        use = _Use(pin=pin, sticky=self.sticky)
        if replica_configured() and self.fresh:
            use.replica_ok = replica_caught_up()
        self._tokens.append(_using.set(use))
        return self

    def __exit__(self, *exc):
        _using.reset(self._tokens.pop())
        return False


def replica_caught_up(wait_ms: int | None = None) -> bool:
    """Has the replica replayed every WAL record the primary had written now? Waits up to `wait_ms`
    (DATABASE_REPLICA_WAIT_MS) for it. A replica that cannot be asked counts as behind."""
    wait_ms = settings.DATABASE_REPLICA_WAIT_MS if wait_ms is None else wait_ms
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()")
            (target,) = cursor.fetchone()
        deadline = time.monotonic() + wait_ms / 1000
        with connections[REPLICA].cursor() as cursor:
            while True:
                cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
                (done,) = cursor.fetchone()
                if done or time.monotonic() >= deadline:
                    return bool(done)
                time.sleep(0.01)
    except Exception:  # noqa: BLE001 (a replica that is down or not a PostgreSQL standby: use the primary)
        return False


def reads_from_replica() -> bool:
    """Would a read right now go to the replica?"""
    use = _using.get()
    if use is None or not use.replica_ok or not replica_configured():
        return False
    if use.pin.wrote or use.pin.cookie:
        return False
    return not connections["default"].in_atomic_block


class ReplicaRouter:
    """Writes and migrations on "default"; reads on the replica when `reads_from_replica()`."""

    def db_for_read(self, model, **hints):
        return REPLICA if reads_from_replica() else "default"

    def db_for_write(self, model, **hints):
        use = _using.get()
        if use is not None and use.sticky:
            use.pin.wrote = True
        elif use is None and (pin := _request.get()) is not None:
            pin.wrote = True
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is the same data

    def allow_migrate(self, db, app_label, **hints):
        return db == "default"


class ReplicaPinMiddleware:
    """One pin per request: a request that wrote reads the primary for the rest of it, and the browser's next
    requests for DATABASE_REPLICA_PIN_SECONDS (a cookie). Placed after the session and auth middleware, so the
    session saved on every request (SESSION_SAVE_EVERY_REQUEST) does not count as the user's write."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        pin = _Pin(cookie=PIN_COOKIE in request.COOKIES)
        token = _request.set(pin)
        try:
            response = self.get_response(request)
        finally:
            _request.reset(token)
        if pin.wrote and replica_configured() and settings.DATABASE_REPLICA_PIN_SECONDS:
            response.set_cookie(
                PIN_COOKIE, "1", max_age=settings.DATABASE_REPLICA_PIN_SECONDS, httponly=True, samesite="Lax",
                secure=request.is_secure(),
            )  # fmt: skip
        return response
