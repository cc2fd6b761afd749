"""Steps that test_heartbeat runs as processes of their own, on the database DATABASE_URL names:
`python -m jiketong.billing.tests.steps STEP [ARG]`. Each prints what the test reads, as JSON."""

import json
import os
import sys
import threading
import time
from pathlib import Path


def setup() -> None:
    """A migrated database with two customers, two products and January loaded (the data to keep intact)."""
    from decimal import Decimal

    from django.core.management import call_command

    from jiketong import testing
    from jiketong.catalog.models import BillingUnit, Product, ProductCategory
    from jiketong.customers.models import Customer

    call_command("migrate", verbosity=0)
    units = testing.make_org_tree()
    for number in ("C001", "C002"):
        customer = testing.make_customer(org_unit=units["440106"])
        Customer.objects.filter(pk=customer.pk).update(number=number)
    for code, category, unit in (("DIA", ProductCategory.CONNECTIVITY, BillingUnit.PER_GROUP),
                                 ("VNET", ProductCategory.VOICE, BillingUnit.PER_MEMBER)):  # fmt: skip
        Product.objects.create(code=code, name=code, category=category, billing_unit=unit, standard_price=Decimal(1))
    state(_register(os.environ["OLD_FILE"], run=True))


def _register(path: str, *, run: bool = False) -> int:
    from jiketong import testing
    from jiketong.billing import services

    imported = services.import_file(actor=testing.system_user(), path=Path(path), kind="facts", mode="all")
    if run:
        services.run_import(imported.pk)
    return imported.pk


def enqueue(path: str) -> None:
    """Register the file and queue its import for the task worker."""
    from jiketong.billing.tasks import run_import

    run_id = _register(path)
    run_import.enqueue(run_id)
    print(json.dumps({"run": run_id}))


def slow(path: str) -> None:
    """Import the file here, its replace transaction held open (the months' refresh is slow) until the file
    RELEASE_MARK exists, at most 60 s."""
    from jiketong.billing import services

    refresh = services.refresh_points
    release = Path(os.environ["RELEASE_MARK"])

    def slow_refresh(*args, **kwargs):
        print(json.dumps({"replacing": True}), flush=True)
        deadline = time.monotonic() + 60
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return refresh(*args, **kwargs)

    services.refresh_points = slow_refresh
    state(_register(path, run=True))


def billing_job() -> None:
    """Billing's frequent job alone (cron runs every app's, which would wait for the lock before it)."""
    from django.utils import timezone

    from jiketong.billing import jobs
    from jiketong.billing.models import ImportRun

    started = time.monotonic()
    silent = ImportRun.objects.filter(jobs._silent_since(timezone.now() - jobs.heartbeat_timeout())).count()
    if release := os.environ.get("RELEASE_MARK"):
        # The held replace may commit 2 s from now: by then this process is waiting for its lock (or, were the
        # job not to wait, it would have closed the run already).
        threading.Timer(2.0, Path(release).touch).start()
    summary = jobs.frequent(timezone.now())
    print(json.dumps({"summary": summary, "silent": silent, "seconds": time.monotonic() - started}))


def state(run_id: int | str) -> None:
    from jiketong.billing.models import BillingFact, ImportRun
    from jiketong.core.models import AuditAction, AuditEvent

    run = ImportRun.objects.get(pk=run_id)
    facts = BillingFact.objects.order_by("period", "customer__number", "product__code").values_list(
        "period", "customer__number", "product__code", "revenue"
    )
    print(json.dumps({
        "run": run.pk,
        "status": run.status,
        "message": run.message,
        "rows_total": run.rows_total,
        "audits": AuditEvent.objects.filter(action=AuditAction.IMPORT, target_id=run.pk).count(),
        "facts": [[f"{period:%Y-%m}", number, code, str(revenue)] for period, number, code, revenue in facts],
    }))  # fmt: skip


if __name__ == "__main__":
    import django

    django.setup()
    step, *args = sys.argv[1:]
    {"setup": setup, "enqueue": enqueue, "slow": slow, "billing_job": billing_job, "state": state}[step](*args)
