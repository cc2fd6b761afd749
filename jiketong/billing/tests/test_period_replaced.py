"""A replaced billing month reaches every figure before its import reports done: the event, the refresh of
exactly the months that read it, and the same figures from the summary as from the live calculation."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from jiketong.analytics.indicators import REGISTRY, Calculation
from jiketong.analytics.models import IndicatorSummary, SummaryPeriod
from jiketong.billing import jobs, services
from jiketong.billing.models import BillingFact, CustomerMonth, ImportRun, ImportStatus
from jiketong.core import events
from jiketong.core.models import Event, EventHandling, HandlingStatus

DEC, JAN, FEB = date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)
JAN_ROWS = [
    ("202601", "C001", "DIA", "3000.00", "0", "是"),
    ("202601", "C001", "VNET", "250.00", "50", "是"),
    ("202601", "C002", "DIA", "1500", "0", "是"),
]
FEB_ROWS = [
    ("202602", "C001", "DIA", "3000", "0", "是"),
    ("202602", "C001", "VNET", "230", "46", "是"),
    ("202602", "C003", "DIA", "800", "0", "否"),
]
CODES = [code for code, item in REGISTRY.items() if not item.needs_product]


def load(cast, path, kind="facts") -> ImportRun:
    run = services.import_file(actor=cast.erin.user, path=path, kind=kind, mode="all")
    return services.run_import(run.pk)


def figures(user, period: date, *, live: bool = False) -> tuple[bool, dict]:
    calc = Calculation(user, period=period)
    if live:
        calc.__dict__["summarised"] = False  # the same calculation over the customer rows
    return calc.summarised, {code: calc.value(code) for code in CODES}


def assert_in_step(cast, period: date) -> None:
    """Province (admin), city (supervisor), HQ (analyst) read the summary, a manager their portfolio's rows
    of it: all of them see what the live calculation says."""
    for staff in (cast.frank, cast.carol, cast.erin, cast.dave, cast.alice):
        summarised, values = figures(staff.user, period)
        assert summarised, staff
        assert values == figures(staff.user, period, live=True)[1], staff


def revenue(user, period: date) -> Decimal:
    return Calculation(user, period=period).total("revenue")


def test_an_import_emits_one_event_with_its_months_and_kind(billing, write_csv):
    run = load(billing, write_csv(JAN_ROWS + FEB_ROWS))
    [event] = Event.objects.filter(name="billing.period_replaced")
    assert event.payload == {
        "import_run": run.pk, "kind": "facts", "periods": ["2026-01-01", "2026-02-01"], "org_units": None,
    }  # fmt: skip
    assert event.actor_id == billing.erin.pk


def test_the_import_reports_done_only_after_the_summary_holds_its_months(billing, write_csv):
    run = load(billing, write_csv(JAN_ROWS + FEB_ROWS))
    assert run.status == ImportStatus.SUCCEEDED and run.progress == 100, run.message
    assert set(SummaryPeriod.objects.values_list("period", flat=True)) == {JAN, FEB}
    assert (
        not EventHandling.objects.exclude(status=HandlingStatus.DONE)
        .filter(reaction="jiketong.analytics.reactions.billing_period_replaced")
        .exists()
    )
    assert_in_step(billing, FEB)
    assert_in_step(billing, JAN)


def test_a_corrected_month_changes_the_summary_at_once(billing, write_csv):
    load(billing, write_csv(JAN_ROWS + FEB_ROWS))
    before = revenue(billing.erin.user, FEB)
    corrected = [(*row[:3], "5000", *row[4:]) if row[2] == "DIA" else row for row in FEB_ROWS]
    load(billing, write_csv(corrected, name="feb-corrected.csv"))
    assert revenue(billing.erin.user, FEB) == before + Decimal("6200")
    assert_in_step(billing, FEB)


def test_a_back_filled_month_refreshes_the_month_after_it(billing, write_csv):
    load(billing, write_csv(JAN_ROWS + FEB_ROWS))
    new_in_jan = Calculation(billing.erin.user, period=JAN).total("new_customers")
    load(billing, write_csv([("202512", "C001", "DIA", "2800", "0", "是")], name="dec.csv"))
    assert SummaryPeriod.objects.filter(period=DEC).exists()
    # C001 was billed in December, so January no longer counts it as new.
    assert Calculation(billing.erin.user, period=JAN).total("new_customers") == new_in_jan - 1
    for period in (DEC, JAN, FEB):
        assert_in_step(billing, period)


def test_a_removed_month_leaves_the_figures_in_step(billing, write_csv):
    load(billing, write_csv(JAN_ROWS + FEB_ROWS))
    run = services.period_remove(actor=billing.erin.user, kind="facts", periods=[FEB])
    assert run.status == ImportStatus.SUCCEEDED, run.message
    assert run.periods == ["2026-02"] and run.rows_total == 3
    assert not BillingFact.objects.filter(period=FEB).exists()
    assert not CustomerMonth.objects.filter(period=FEB).exists()
    assert not IndicatorSummary.objects.filter(period=FEB, in_service__gt=0).exists()
    [_, removed] = Event.objects.filter(name="billing.period_replaced").order_by("pk")
    assert removed.payload["periods"] == ["2026-02-01"] and removed.payload["import_run"] == run.pk
    assert_in_step(billing, FEB)
    assert_in_step(billing, JAN)


def test_removing_a_month_with_nothing_loaded_is_refused(billing, write_csv):
    load(billing, write_csv(JAN_ROWS))
    with pytest.raises(ValidationError, match="Nothing is loaded for 2026-02"):
        services.period_remove(actor=billing.erin.user, kind="facts", periods=[FEB])


def test_only_the_months_that_read_a_replaced_one_are_refreshed(billing, write_csv, monkeypatch):
    load(billing, write_csv(JAN_ROWS + FEB_ROWS))
    from jiketong.analytics import summary

    refreshed = []
    # All the months a replacement reads are refreshed in one pass (analytics decision 0607).
    monkeypatch.setattr(summary, "refresh_months", lambda periods, units=None, **kw: refreshed.extend(periods))
    load(billing, write_csv(FEB_ROWS, name="feb.csv"))
    assert refreshed == [FEB]  # March is not billed: nothing else reads February's rows


def test_units_given_refresh_only_their_rows(billing, write_csv):
    from jiketong.analytics.summary import refresh

    load(billing, write_csv(JAN_ROWS + FEB_ROWS))
    IndicatorSummary.objects.filter(period=FEB).update(revenue=0)
    tianhe = billing.alice_customer.org_unit_id
    refresh(FEB, [tianhe])
    rows = IndicatorSummary.objects.filter(period=FEB)
    assert rows.get(org_unit_id=tianhe).revenue == Decimal("3230.00")
    assert rows.get(org_unit_id=billing.shenzhen_customer.org_unit_id).revenue == 0  # left as it was


def test_a_worker_killed_after_the_load_still_gets_its_refresh_and_its_run_closed(billing, write_csv, monkeypatch):
    class Killed(BaseException):
        pass

    def die(event):
        raise Killed

    monkeypatch.setattr(events, "handle_now", die)
    imported = services.import_file(actor=billing.erin.user, path=write_csv(JAN_ROWS), kind="facts", mode="all")
    with pytest.raises(Killed):
        services.run_import(imported.pk)
    run = ImportRun.objects.get(pk=imported.pk)
    assert run.status == ImportStatus.RUNNING and run.periods == ["2026-01"]
    assert not SummaryPeriod.objects.exists()
    later = timezone.now() + timedelta(hours=4)
    assert jobs.frequent(later) == "billing: 0 stalled imports closed, 1 loaded ones closed"
    run.refresh_from_db()
    assert run.status == ImportStatus.SUCCEEDED and "2026-01" in run.message
    monkeypatch.undo()
    assert events.run_due(later) >= 1
    assert SummaryPeriod.objects.filter(period=JAN).exists()


def test_the_cli_removes_a_month(billing, write_csv, capsys):
    from django.core.management import CommandError, call_command

    load(billing, write_csv(JAN_ROWS + FEB_ROWS))
    call_command("billing", "remove", "--period", "2026-02", "--user", "erin")
    assert "Removed 3 rows of 2026-02" in capsys.readouterr().out
    assert not BillingFact.objects.filter(period=FEB).exists()
    with pytest.raises(CommandError, match="Only analysts and administrators"):
        call_command("billing", "remove", "--period", "2026-01", "--user", "alice")


def test_an_upload_run_by_the_task_worker_is_in_step_when_it_reports_done(billing, write_csv):
    from django.core.files.uploadedfile import SimpleUploadedFile

    path = write_csv(JAN_ROWS + FEB_ROWS)
    upload = SimpleUploadedFile("facts.csv", path.read_bytes(), content_type="text/csv")
    run = services.import_upload(actor=billing.erin.user, upload=upload, kind="facts", mode="all")
    run.refresh_from_db()  # the immediate task backend ran it inside the upload
    assert run.status == ImportStatus.SUCCEEDED, run.message
    assert_in_step(billing, FEB)
