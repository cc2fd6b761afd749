"""Billing writes: registering and running imports.

Imports are a province-level BOSS feed: a period is replaced as a whole, so whoever imports touches every
customer's data for that period. Only analysts and admins may import (decision 0501); nobody else sees
the runs or their error reports, which carry customer numbers and amounts.
"""

import logging
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, F, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from jiketong.core import events
from jiketong.core.audit import record, record_changes, snapshot
from jiketong.core.concurrency import check_version
from jiketong.core.events import emit
from jiketong.core.models import AuditAction
from jiketong.core.money import ZERO, yuan
from jiketong.org.models import Role, can

from . import imports, partitions
from .models import (
    BenefitUse,
    ClubBenefit,
    CreditRule,
    CustomerMonth,
    ImportKind,
    ImportMode,
    ImportRun,
    ImportStatus,
    PointsLedger,
    PointsRule,
    Redemption,
    RedemptionKind,
    RedemptionRule,
)
from .points import refresh_points
from .rollup import month_after, refresh_months

logger = logging.getLogger(__name__)
IMPORT_ROLES = frozenset({Role.ANALYST, Role.ADMIN})
SUFFIXES = (".csv", ".xlsx")


def require_import(actor) -> None:
    if not can(actor, IMPORT_ROLES):
        raise PermissionDenied(_("Only analysts and administrators may import billing data."))


def upload_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "billing"


# --- registering ---------------------------------------------------------------------------------
def _check_choices(kind: str, mode: str) -> None:
    errors = {}
    if kind not in ImportKind.values:
        errors["kind"] = [_("Choose facts or members.")]
    if mode not in ImportMode.values:
        errors["mode"] = [_("Choose all-or-nothing or good rows.")]
    if errors:
        raise ValidationError(errors)


def import_upload(*, actor, upload: UploadedFile, kind: str, mode: str, confirm_drop: bool = False) -> ImportRun:
    """Store an uploaded file and queue its import; the run id is the handle to follow it. `confirm_drop`
    agrees beforehand to good rows replacing months that hold far more (see `_drops`)."""
    require_import(actor)
    _check_choices(kind, mode)
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise ValidationError({"file": [_("Upload a .csv or .xlsx file.")]})
    if not upload.size:
        raise ValidationError({"file": [_("The file is empty.")]})
    stored = upload_dir() / "files" / f"{timezone.now():%Y%m}" / f"{uuid.uuid4().hex}{suffix}"
    stored.parent.mkdir(parents=True, exist_ok=True)
    with open(stored, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    run = ImportRun.objects.create(
        kind=kind,
        mode=mode,
        file_name=Path(upload.name).name[:255],
        file_path=str(stored),
        created_by=actor,
        drop_confirmed=confirm_drop,
    )
    run_import_task.enqueue(run.pk, translation.get_language())
    return run


def import_file(*, actor, path: Path, kind: str, mode: str, confirm_drop: bool = False) -> ImportRun:
    """Register a file already on this machine (the CLI); the caller runs it with `run_import`."""
    require_import(actor)
    _check_choices(kind, mode)
    if path.suffix.lower() not in SUFFIXES:
        raise ValidationError({"file": [_("Upload a .csv or .xlsx file.")]})
    if not path.is_file():
        raise ValidationError({"file": [_("No such file: %(path)s") % {"path": path}]})
    return ImportRun.objects.create(
        kind=kind,
        mode=mode,
        file_name=path.name,
        file_path=str(path.resolve()),
        created_by=actor,
        drop_confirmed=confirm_drop,
    )


# --- running -------------------------------------------------------------------------------------
class RunClosed(Exception):
    """The run was closed while its worker still worked on it: the frequent job took it for dead."""


def _update(run: ImportRun, **fields) -> None:
    for name, value in fields.items():
        setattr(run, name, value)
    ImportRun.objects.filter(pk=run.pk).update(**fields)


def _beat(run: ImportRun, **fields) -> None:
    """The worker's sign of life (one UPDATE, with whatever progress it has to report). Conditional on the
    run still running: one the frequent job closed in the meantime stops here instead of loading anyway.
    Inside the replace transaction this also locks the run's row (the write lock on SQLite), so the job's
    own conditional UPDATE waits for the commit and then sees a fresh heartbeat: a long replace is never
    mistaken for a dead worker."""
    fields["heartbeat_at"] = timezone.now()
    if not ImportRun.objects.filter(pk=run.pk, status=ImportStatus.RUNNING).update(**fields):
        raise RunClosed(run.pk)
    for name, value in fields.items():
        setattr(run, name, value)


def _close(run: ImportRun, **fields) -> bool:
    """End a run that is still running; False when the frequent job closed it first (it audited it)."""
    if not ImportRun.objects.filter(pk=run.pk, status=ImportStatus.RUNNING).update(**fields):
        return False
    for name, value in fields.items():
        setattr(run, name, value)
    return True


def run_import(run_id: int, on_progress: Callable[[ImportRun], None] | None = None) -> ImportRun:
    """Run a queued import to its end. A run already started (a second delivery of the task) is left alone."""
    now = timezone.now()
    if not ImportRun.objects.filter(pk=run_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.RUNNING, started_at=now, heartbeat_at=now
    ):
        return ImportRun.objects.get(pk=run_id)
    run = ImportRun.objects.get(pk=run_id)
    kind = imports.KINDS[run.kind]
    try:
        bad = _stage(run, kind, on_progress)
        _finish(run, kind, bad)
    except imports.ImportFileError as exc:
        _fail(run, str(exc))
    except RunClosed:
        logger.warning("billing import %s was closed as dead while its worker ran; it stopped unloaded", run.pk)
        run.refresh_from_db()
    except Exception:
        logger.exception("billing import %s failed", run.pk)
        _fail(run, _("The import stopped on an unexpected error; the data already loaded is unchanged."))
        raise
    finally:
        imports.drop_stage()
    if on_progress:
        on_progress(run)
    return run


# Declared next to the work it runs, so the services above queue it without importing a module that imports
# them back (docs/developing.md); billing.tasks.run_import keeps the path that runs queued before stay under.
@task()
def run_import_task(run_id: int, language: str | None = None) -> str:
    """An uploaded file imported by the task worker, not the web request; the uploader's language writes the
    run's messages and error reasons."""
    with translation.override(language):
        return run_import(run_id).status


def _stage(run: ImportRun, kind: imports.Kind, on_progress) -> dict[int, str]:
    """Pass 1 and 2: parse and stage every row, then check references and duplicates in SQL."""
    source = imports.open_source(Path(run.file_path))
    try:
        cells = imports.cell_picker(source.header, kind.columns)
        imports.create_stage(kind)
        check, bad, batch, total = imports.Checker(), {}, [], 0
        to_row, append = kind.to_row, batch.append
        for number, row in source.rows:
            total += 1
            try:
                append((number, *to_row(check, cells(row))))
            except imports.RowError as exc:
                bad[number] = str(exc)
            if total % imports.BATCH == 0:
                imports.write_stage(kind, batch)
                batch.clear()
                _beat(run, rows_total=total, progress=int(source.done() * 90))
                if on_progress:
                    on_progress(run)
        imports.write_stage(kind, batch)
    finally:
        source.close()
    _beat(run, rows_total=total, progress=90)
    if not total:
        raise imports.ImportFileError(_("The file has a header but no rows."))
    bad |= imports.check_stage(kind)
    _beat(run)
    return bad


def _finish(run: ImportRun, kind: imports.Kind, bad: dict[int, str]) -> None:
    """Pass 3: replace the periods (or refuse, or stop for a confirmation), write the error report, close
    the run, audit once."""
    ok = run.rows_total - len(bad)
    periods = imports.stage_periods(kind)
    error_path = ""
    if bad:
        report = upload_dir() / "errors" / f"{run.pk}.csv"
        imports.write_error_report(Path(run.file_path), report, bad, tick=lambda: _beat(run))
        error_path = str(report)
    landed = ok > 0 and (not bad or run.mode == ImportMode.GOOD_ROWS)
    drops = _drops(kind, periods) if landed and run.mode == ImportMode.GOOD_ROWS and not run.drop_confirmed else []
    if drops:
        _ask_confirmation(run, drops, bad=len(bad), error_path=error_path)
        return
    fields = {
        "rows_ok": ok if landed else 0,
        "rows_bad": len(bad),
        "error_path": error_path,
        "periods": [f"{p:%Y-%m}" for p in periods] if landed else [],
        "progress": 100,
        "finished_at": timezone.now(),
    }
    if not landed:
        message = _("Nothing was loaded: %(bad)s of %(total)s rows have errors (see the error report).") % {
            "bad": len(bad),
            "total": run.rows_total,
        }
        with transaction.atomic():
            if _close(run, status=ImportStatus.FAILED, message=message, **fields):
                _audit(run)
        return
    status = ImportStatus.PARTIALLY if bad else ImportStatus.SUCCEEDED
    message = _("Loaded %(ok)s rows for %(periods)s.") % {"ok": ok, "periods": "、".join(fields["periods"])}
    if bad:
        message += " " + _("%(bad)s rows with errors were left out.") % {"bad": len(bad)}
    _apply(run, lambda: imports.replace_periods(kind, periods), periods, status=status, message=message, fields=fields)


def _drops(kind: imports.Kind, periods: list[date]) -> list[tuple[date, int, int]]:
    """(period, rows now, rows in the file) for each month the good rows would shrink by more than
    BILLING_MAX_DROP of what it holds: a file whose rows are mostly bad, or cut short, would otherwise wipe
    most of a month in good-rows mode."""
    keep = 1 - settings.BILLING_MAX_DROP
    held = dict(
        kind.model.objects.filter(period__in=periods).values("period").annotate(n=Count("*")).values_list("period", "n")
    )
    staged = imports.stage_counts(kind)
    return [
        (period, held[period], staged.get(period, 0))
        for period in periods
        if held.get(period) and staged.get(period, 0) < held[period] * keep
    ]


def _ask_confirmation(run: ImportRun, drops: list[tuple[date, int, int]], *, bad: int, error_path: str) -> None:
    """Stop before replacing anything; the uploader confirms (the import runs again, replacing) or cancels."""
    months = "；".join(
        _("%(period)s: %(new)s rows in the file, %(held)s held now")
        % {"period": f"{period:%Y-%m}", "new": new, "held": held}
        for period, held, new in drops
    )
    message = _(
        "Stopped before replacing anything: these months would keep less than %(keep)s%% of the rows they hold "
        "(%(months)s). Confirm to replace them anyway, or cancel the import."
    ) % {"keep": round((1 - settings.BILLING_MAX_DROP) * 100), "months": months}
    _close(run, status=ImportStatus.CONFIRM, message=message, rows_bad=bad, error_path=error_path, progress=90)


def may_decide(actor, run: ImportRun) -> bool:
    """Who confirms or cancels a run waiting for a confirmation: its uploader, or an administrator."""
    return can(actor, IMPORT_ROLES) and (run.created_by_id == actor.pk or can(actor, {Role.ADMIN}))


def _require_uploader(actor, run: ImportRun) -> None:
    require_import(actor)
    if not may_decide(actor, run):
        raise PermissionDenied(_("Only the uploader or an administrator may confirm or cancel this import."))


def _awaiting(actor, run_id: int) -> ImportRun:
    run = ImportRun.objects.select_for_update().get(pk=run_id)
    _require_uploader(actor, run)
    if run.status != ImportStatus.CONFIRM:
        raise NotAwaiting(_("This import is not waiting for a confirmation."))
    return run


class NotAwaiting(ValidationError):
    """Confirming or cancelling a run that is not (or no longer) waiting for it."""


@transaction.atomic
def import_confirm_drop(*, actor, run_id: int) -> ImportRun:
    """The uploader agrees that the file's good rows replace months that hold far more: the run is queued
    again and, read anew from its stored file, replaces them. The task is queued in the same transaction
    (the database backend's row commits with the status), so a confirmed run is never left without one."""
    run = _awaiting(actor, run_id)
    _update(run, status=ImportStatus.QUEUED, drop_confirmed=True, progress=0, rows_total=0, rows_bad=0,
            error_path="", message=_("Confirmed; queued again."), started_at=None, heartbeat_at=None)  # fmt: skip
    record(actor=actor, action=AuditAction.STATUS, target=run, customer_id=None,
           before={"status": ImportStatus.CONFIRM}, after={"status": ImportStatus.QUEUED, "drop_confirmed": True},
           note=run.file_name)  # fmt: skip
    run_import_task.enqueue(run.pk, translation.get_language())
    return run


@transaction.atomic
def import_cancel(*, actor, run_id: int) -> ImportRun:
    """The uploader drops a run waiting for a confirmation: nothing is replaced."""
    run = _awaiting(actor, run_id)
    _update(run, status=ImportStatus.CANCELLED, progress=100, finished_at=timezone.now(),
            message=_("Cancelled; nothing was loaded."))  # fmt: skip
    record(
        actor=actor,
        action=AuditAction.STATUS,
        target=run,
        customer_id=None,
        before={"status": ImportStatus.CONFIRM},
        after={"status": ImportStatus.CANCELLED},
        note=run.file_name,
    )
    return run


def _apply(run: ImportRun, replace: Callable[[], object], periods: list[date], *, status: str, message: str,
           fields: dict) -> None:  # fmt: skip
    """Replace the periods and tell the other apps in one transaction, the run still running; then run the
    reactions here (the indicator summary is refreshed for those months), and only then close the run. So
    a run that reports done has every figure in step; one whose process dies after the commit is closed by
    the frequent job, and its reactions are picked up there too."""
    # The months' partitions first, in a short transaction of their own (billing.partitions).
    partitions.ensure([*periods, *(month_after(period) for period in periods)])
    with transaction.atomic():
        _beat(run, progress=92)  # first: holds the run's row (the write lock on SQLite) until the commit
        replace()
        months = refresh_months(periods)
        refresh_points(months[0])
        event = emit(
            "billing.period_replaced",
            actor=run.created_by,
            import_run=run.pk,
            kind=run.kind,
            periods=[period.isoformat() for period in periods],
            # A period is replaced as a whole, province-wide: every unit with customers is touched, so
            # naming them would cost a scan of the months for no narrower refresh (docs/billing-import.md).
            org_units=None,
        )
        fields = {name: value for name, value in fields.items() if name not in ("progress", "finished_at")}
        _beat(run, progress=95, message=_("Loaded; refreshing the indicators…"), **fields)
    try:
        refreshed = events.handle_now(event)
    except Exception:  # the months are in: say so, and let the frequent job retry the reactions
        logger.exception("reactions to billing import %s failed", run.pk)
        refreshed = False
    if not refreshed:
        message += " " + _("Some follow-ups (the indicator summary…) have not run yet; they are retried shortly.")
    with transaction.atomic():
        if _close(run, status=status, message=message, progress=100, finished_at=timezone.now()):
            _audit(run)


def period_remove(*, actor, kind: str, periods: list[date]) -> ImportRun:
    """Take months out (loaded by mistake, or withdrawn by BOSS): the kind's rows of those months are deleted
    and everything computed from them follows, exactly as after an import. Recorded as a run of its own."""
    require_import(actor)
    _check_choices(kind, ImportMode.ALL_OR_NOTHING)
    periods = sorted(set(periods))
    model = imports.KINDS[kind].model
    empty = [p for p in periods if not model.objects.filter(period=p).exists()]
    if not periods:
        raise ValidationError({"periods": [_("Choose the months to remove.")]})
    if empty:
        labels = "、".join(f"{p:%Y-%m}" for p in empty)
        raise ValidationError({"periods": [_("Nothing is loaded for %(periods)s.") % {"periods": labels}]})
    labels = [f"{p:%Y-%m}" for p in periods]
    run = ImportRun.objects.create(
        kind=kind,
        file_name=(_("Removal of %(periods)s") % {"periods": "、".join(labels)})[:255],
        file_path="",
        status=ImportStatus.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        created_by=actor,
    )
    removed = model.objects.filter(period__in=periods).count()
    _apply(
        run,
        lambda: imports.delete_periods(imports.KINDS[kind], periods),
        periods,
        status=ImportStatus.SUCCEEDED,
        message=_("Removed %(rows)s rows of %(periods)s.") % {"rows": removed, "periods": "、".join(labels)},
        fields={"periods": labels, "rows_total": removed},
    )
    return run


def _fail(run: ImportRun, message: str) -> None:
    with transaction.atomic():
        if _close(run, status=ImportStatus.FAILED, message=message, progress=100, finished_at=timezone.now()):
            _audit(run)


def _audit(run: ImportRun) -> None:
    """One IMPORT event per run, never one per row."""
    record(
        actor=run.created_by,
        action=AuditAction.IMPORT,
        target=run,
        customer_id=None,
        after=snapshot(run, ["kind", "mode", "status", "periods", "rows_total", "rows_ok", "rows_bad"]),
        note=run.file_name,
    )


# --- points rule ---------------------------------------------------------------------------------
POINTS_RULE_FIELDS = [
    "points_per_month",
    "yuan_per_point",
    "arrears_forfeits_accrual",
    "arrears_forfeits_balance",
    "silver_from",
    "gold_from",
    "diamond_from",
]


def points_rule_create(*, actor, **values) -> PointsRule:
    """A new rule row, in force for every month computed from now on; the old rows stay as history."""
    if not can(actor, {Role.ADMIN}):
        raise PermissionDenied(_("Only administrators may change the points rule."))
    rule = PointsRule(**{name: values[name] for name in POINTS_RULE_FIELDS if name in values})
    rule.full_clean()
    with transaction.atomic():
        rule.save()
        record(actor=actor, action=AuditAction.CREATE, target=rule, customer_id=None,
               after=snapshot(rule, POINTS_RULE_FIELDS))  # fmt: skip
    return rule


# --- credit and redemption rules -------------------------------------------------------------------
CREDIT_RULE_FIELDS = ["window_months"] + [
    f"{level}_max_{what}" for level in ("aaa", "aa", "a", "b") for what in ("days", "arrears", "consecutive")
]
REDEMPTION_RULE_FIELDS = ["kind", "points_per_block", "yuan_per_block", "percent_per_block", "cap_per_month"]


def _rule_create(actor, model, fields: list[str], values: dict):
    if not can(actor, {Role.ADMIN}):
        raise PermissionDenied(_("Only administrators may change the rules of points and credit."))
    rule = model(**{name: values[name] for name in fields if name in values})
    rule.full_clean()
    with transaction.atomic():
        rule.save()
        record(actor=actor, action=AuditAction.CREATE, target=rule, customer_id=None, after=snapshot(rule, fields))
    return rule


def credit_rule_create(*, actor, **values) -> CreditRule:
    """A new credit rule, in force from the next nightly grading; the old rows stay as history."""
    return _rule_create(actor, CreditRule, CREDIT_RULE_FIELDS, values)


def redemption_rule_create(*, actor, **values) -> RedemptionRule:
    """A new redemption rule, in force for redemptions recorded from now on (recorded ones keep their value)."""
    return _rule_create(actor, RedemptionRule, REDEMPTION_RULE_FIELDS, values)


# --- redemption (积分兑换) -----------------------------------------------------------------------
REDEEM_ROLES = frozenset({Role.CUSTOMER_MANAGER, Role.INSIDE_SALES, Role.SUPERVISOR, Role.ADMIN})
REDEMPTION_FIELDS = ["customer", "points", "benefit", "kind", "from_period", "applied_period"]


def require_redeem(actor) -> None:
    if not can(actor, REDEEM_ROLES):
        raise PermissionDenied(_("Only customer managers, supervisors and administrators record redemptions."))


def redemption_value(rule: RedemptionRule, points: int, bill: Decimal) -> Decimal:
    """What `points` buy under `rule` (whole blocks only): per block, `yuan_per_block` off, or
    `percent_per_block` % of `bill` (the latest month's bill), rounded half-up to the cent."""
    blocks = points // rule.points_per_block
    if rule.kind == RedemptionKind.RATIO:
        return yuan(bill * rule.percent_per_block * blocks / 100)
    return yuan(rule.yuan_per_block * blocks)


@transaction.atomic
def redemption_create(*, actor, customer, points: int, today: date | None = None) -> Redemption:
    """Turn `points` of the customer's balance into a benefit on the next bill (docs/loyalty-points.md).

    Refused, at `points`: a customer in arrears in its latest billed month; fewer points than one block or not
    whole blocks; more than the balance; a benefit above what is left of the month's cap. The points come off
    the balance of the customer's latest ledger month (row locked, so two redemptions cannot spend the same
    points); the benefit applies to the bill of the month after it (this month at the earliest)."""
    require_redeem(actor)
    today = today or timezone.localdate()
    rule = RedemptionRule.current()
    ledger = PointsLedger.objects.select_for_update().filter(customer=customer).order_by("-period").first()
    month = CustomerMonth.objects.filter(customer=customer).order_by("-period").first()
    if ledger is None or month is None:
        raise ValidationError({"points": [_("This customer has no points yet: points come with billing data.")]})
    if month.arrears or ledger.arrears:
        raise ValidationError({"points": [
            _("The customer is in arrears for %(period)s: points can be redeemed once the bill is paid.")
            % {"period": f"{month.period:%Y-%m}"}
        ]})  # fmt: skip
    block = rule.points_per_block
    points = int(points)
    if points < block or points % block:
        raise ValidationError({"points": [
            _("Redeem whole blocks of %(block)s points (%(block)s, %(two)s, …).") % {"block": block, "two": 2 * block}
        ]})  # fmt: skip
    if points > ledger.balance:
        raise ValidationError({"points": [
            _("Only %(balance)s points to redeem.") % {"balance": ledger.balance}
        ]})  # fmt: skip
    benefit = redemption_value(rule, points, month.revenue)
    if benefit <= ZERO:
        raise ValidationError({"points": [_("These points buy nothing: the latest bill is 0.00 yuan.")]})
    applied = max(month_after(ledger.period), today.replace(day=1))
    already = Redemption.objects.filter(customer=customer, applied_period=applied).aggregate(s=Sum("benefit"))["s"]
    already = already or ZERO
    if already + benefit > rule.cap_per_month:
        raise ValidationError({"points": [
            _("At most %(cap)s yuan a month comes off the bill: %(already)s yuan already for %(period)s, "
              "%(left)s yuan left; these points are worth %(benefit)s yuan.") % {
                "cap": rule.cap_per_month, "already": yuan(already), "period": f"{applied:%Y-%m}",
                "left": yuan(rule.cap_per_month - already), "benefit": benefit,
            }
        ]})  # fmt: skip
    redemption = Redemption.objects.create(
        customer=customer, points=points, benefit=benefit, kind=rule.kind, from_period=ledger.period,
        applied_period=applied, created_by=actor,
    )  # fmt: skip
    PointsLedger.objects.filter(pk=ledger.pk).update(redeemed=F("redeemed") + points, balance=F("balance") - points)
    record(actor=actor, action=AuditAction.CREATE, target=redemption, customer_id=customer.pk,
           after=snapshot(redemption, REDEMPTION_FIELDS))  # fmt: skip
    return redemption


# --- club benefits (俱乐部权益) --------------------------------------------------------------------
BENEFIT_FIELDS = ["name", "kind", "min_tier", "description", "yearly_limit", "active"]


def require_admin(actor) -> None:
    if not can(actor, {Role.ADMIN}):
        raise PermissionDenied(_("Only administrators may change the club's benefits."))


@transaction.atomic
def benefit_save(*, actor, benefit: ClubBenefit | None = None, expected_version: int | None = None,
                 **fields) -> ClubBenefit:  # fmt: skip
    """Create or change a benefit of the club catalogue (admins). Every field error at once; versioned (a benefit
    changed since it was read is refused with StaleEdit); audited with what changed."""
    require_admin(actor)
    unknown = set(fields) - set(BENEFIT_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed here.")] for name in sorted(unknown)})
    if benefit is not None and benefit.pk:
        benefit = ClubBenefit.objects.select_for_update().get(pk=benefit.pk)
        check_version(benefit, expected_version)
    else:
        benefit = ClubBenefit()
    before = snapshot(benefit, BENEFIT_FIELDS) if benefit.pk else {}
    if isinstance(fields.get("name"), str):
        fields["name"] = fields["name"].strip()
    for name, value in fields.items():
        setattr(benefit, name, value)
    benefit.full_clean()
    benefit.save()
    record_changes(actor=actor, target=benefit, customer_id=None, before=before,
                   after=snapshot(benefit, BENEFIT_FIELDS))  # fmt: skip
    return benefit


def customer_tier(customer) -> str:
    """The club tier of the customer's latest ledger month (普通 without one)."""
    from .models import ClubTier

    return (
        PointsLedger.objects.filter(customer=customer).order_by("-period").values_list("tier", flat=True).first()
        or ClubTier.REGULAR
    )


@transaction.atomic
def benefit_use_record(*, actor, customer, benefit: ClubBenefit, used_on: date, note: str = "") -> BenefitUse:
    """Record that the customer used a benefit (who, when, what). Refused: a benefit no longer offered, one above
    the customer's tier, a date in the future, or a use beyond the benefit's limit for that calendar year (the
    customer's row is locked, so two people recording at once cannot both pass the limit)."""
    require_redeem(actor)
    from jiketong.customers.models import Customer

    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    errors: dict[str, list[str]] = {}
    tier = customer_tier(customer)
    if not benefit.active:
        errors["benefit"] = [_("This benefit is no longer offered.")]
    elif not benefit.open_to(tier):
        errors["benefit"] = [_("This benefit is for %(tier)s members and above.") % {
            "tier": benefit.get_min_tier_display()}]  # fmt: skip
    if used_on > timezone.localdate():
        errors["used_on"] = [_("A benefit cannot be used in the future.")]
    elif benefit.yearly_limit is not None and "benefit" not in errors:
        used = BenefitUse.objects.filter(customer=customer, benefit=benefit, used_on__year=used_on.year).count()
        if used >= benefit.yearly_limit:
            errors["benefit"] = [
                _("Already used %(used)s times in %(year)s: the limit is %(limit)s a year.")
                % {"used": used, "year": used_on.year, "limit": benefit.yearly_limit}
            ]
    if errors:
        raise ValidationError(errors)
    use = BenefitUse.objects.create(customer=customer, benefit=benefit, used_on=used_on, note=note.strip()[:200],
                                    recorded_by=actor)  # fmt: skip
    record(actor=actor, action=AuditAction.CREATE, target=use, customer_id=customer.pk,
           after=snapshot(use, ["benefit", "used_on", "note"]))  # fmt: skip
    return use
