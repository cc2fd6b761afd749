"""Every write of the analytics app: targets, background runs (the segments of a month, re-grades) and the
decisions on the re-grade proposals."""

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from jiketong.core.audit import record, record_changes, snapshot
from jiketong.core.concurrency import check_version
from jiketong.core.forms import choice_words, word_key
from jiketong.core.models import AuditAction
from jiketong.core.spreadsheets import Column, HeaderMap, Limits, SpreadsheetError, open_spreadsheet
from jiketong.customers.models import Customer
from jiketong.customers.services import customer_update
from jiketong.org.models import OrgUnit, Role, can, staff_of

from . import indicators, segments
from .models import (
    AnalyticsRun,
    CustomerSegment,
    GradeProposal,
    GradeScheme,
    ProposalStatus,
    RunKind,
    RunStatus,
    SegmentPeriod,
    Target,
    TargetPeriod,
)

log = logging.getLogger(__name__)

TARGET_ROLES = {Role.ANALYST, Role.ADMIN}
REGRADE_ROLES = {Role.SUPERVISOR, Role.ANALYST, Role.ADMIN}
DECIDE_ROLES = {Role.SUPERVISOR, Role.ADMIN}
TARGET_FIELDS = ["org_unit", "indicator", "period_type", "period", "value"]
BATCH = 2000


def _require(actor, roles, message) -> None:
    if not can(actor, roles):
        raise PermissionDenied(message)


# --- targets -----------------------------------------------------------------------------------------
def targetable_indicators() -> list[indicators.Indicator]:
    """The indicators a target can be set on (kept by month, not per product), in registry order."""
    return [item for item in indicators.REGISTRY.values() if item.targetable]


def require_target_setter(actor) -> None:
    _require(actor, TARGET_ROLES, _("Only analysts and administrators set targets."))


def _target_errors(actor, target: Target, *, visible_units: set[int] | None = None) -> dict[str, list[str]]:
    """Every rule a target breaks, at its field, in one round: the indicator, the org unit (in the actor's
    subtree), the value's sign, and the model's field rules (required fields, digits)."""
    errors: dict[str, list[str]] = {}
    indicator = indicators.REGISTRY.get(target.indicator or "")
    if not target.indicator:
        errors["indicator"] = [_("Choose an indicator.")]
    elif indicator is None:
        errors["indicator"] = [_("Unknown indicator.")]
    elif not indicator.targetable:
        errors["indicator"] = [_("This indicator cannot be given a target.")]
    if target.org_unit_id:
        visible = (
            target.org_unit_id in visible_units
            if visible_units is not None
            else _unit_visible(actor, target.org_unit_id)
        )
        if not visible:
            errors["org_unit"] = [_("Choose an org unit within your own.")]
    try:
        # The unique target per unit, indicator and period is checked by the insert, so its error names the period.
        exclude = [*errors, *(["org_unit"] if visible_units is not None else [])]
        target.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    value = target.value
    if "value" not in errors and value is not None and value < 0 and indicator is not None and not indicator.signed:
        errors["value"] = [_("This indicator cannot fall below zero: give a target of 0 or more.")]
    return errors


def _period_start(target: Target) -> None:
    if isinstance(target.period, date):
        target.period = (
            target.period.replace(day=1, month=1)
            if target.period_type == TargetPeriod.YEAR
            else target.period.replace(day=1)
        )


@transaction.atomic
def target_save(*, actor, target: Target | None = None, expected_version: int | None = None, **fields) -> Target:
    """Create or change a target. Analysts and admins set targets for org units in their own subtree; a year
    target's period is 1 January, a month's the first day. With `expected_version` (the version the caller
    read: the edit form, the API's If-Match), a target changed since is refused (core.concurrency.StaleEdit)."""
    require_target_setter(actor)
    unknown = set(fields) - set(TARGET_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed here.")] for name in sorted(unknown)})
    if target is not None and target.pk:
        target = Target.objects.select_for_update().get(pk=target.pk)
        check_version(target, expected_version)
    target = target or Target()
    before = snapshot(target, TARGET_FIELDS) if target.pk else {}
    for name, value in fields.items():
        setattr(target, name, value)
    _period_start(target)
    errors = _target_errors(actor, target)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError:
        raise ValidationError(
            {"period": [_("This org unit already has a target for this indicator and period.")]}
        ) from None
    record_changes(actor=actor, target=target, customer_id=None, before=before, after=snapshot(target, TARGET_FIELDS))
    return target


def _unit_visible(actor, unit_pk: int) -> bool:
    from .queries import units_visible

    return units_visible(actor).filter(pk=unit_pk).exists()


@transaction.atomic
def target_delete(*, actor, target: Target, expected_version: int | None = None) -> None:
    require_target_setter(actor)
    target = Target.objects.select_for_update().get(pk=target.pk)
    check_version(target, expected_version)
    record(
        actor=actor, action=AuditAction.DELETE, target=target, customer_id=None, before=snapshot(target, TARGET_FIELDS)
    )
    target.delete()


# Loading targets from Excel: the headings a file may use (Chinese first: the template's), and the words.
TARGET_COLUMNS = (
    Column("org_unit", ("组织单元编码", "组织单元", "单位编码", "单位", "org unit code", "org unit", "org_unit"), True),
    Column("indicator", ("指标", "指标编码", "指标名称", "indicator", "indicator code"), True),
    Column("period", ("周期", "月份", "年度", "期间", "period", "month"), True),
    Column("period_type", ("周期类型", "period type", "period_type")),
    Column("value", ("目标值", "目标", "target value", "target", "value"), True),
)
TARGET_IMPORT_MAX_ROWS = 10_000
PERIOD_TYPE_WORDS = {
    "月": TargetPeriod.MONTH,
    "月度": TargetPeriod.MONTH,
    "年": TargetPeriod.YEAR,
    "年度": TargetPeriod.YEAR,
}
_YEAR = re.compile(r"^(\d{4})\s*年?(?:度)?$")
_MONTH = re.compile(r"^(\d{4})\s*(?:[-/.年]\s*(\d{1,2})|(\d{2}))\s*(?:月(?:份)?)?(?:\s*[-/.]\s*(\d{1,2})\s*日?)?$")
_NUMBER_NOISE = re.compile(r"[\s,，¥￥元]")


@dataclass
class TargetImport:
    """What a target file did: targets created and changed, or (nothing written) every bad row's errors as
    {"row", "values", "errors": {column: [messages]}}."""

    created: int = 0
    updated: int = 0
    rows: int = 0
    errors: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def indicator_words() -> dict[str, str]:
    """Every word a file may give for a targetable indicator → its code: the code, its name in each UI
    language (收入, Revenue (收入)) and the name without its bracketed part (Revenue), compared by word_key."""
    words: dict[str, str] = {}
    for item in targetable_indicators():
        words[word_key(item.code)] = item.code
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for item in targetable_indicators():
                name = str(item.name)
                for word in (name, re.sub(r"\s*[(（][^()（）]*[)）]\s*", "", name)):
                    words.setdefault(word_key(word), item.code)
    return words


def _period_words() -> dict[str, str]:
    return choice_words(TargetPeriod, PERIOD_TYPE_WORDS)


def parse_target_period(text: str, period_type: str = "") -> tuple[date, str] | None:
    """A period as people write it → (first day, "month" or "year"): 2026-05, 2026/5, 2026年5月, 202605, an
    Excel date (2026-05-01), or a year alone (2026, 2026年). Without a period type, a year alone is a year
    target and anything else a month's; a year target given a month takes its year. None: not a period."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    year = _YEAR.match(text)
    if year:
        if period_type == TargetPeriod.MONTH:
            return None
        return date(int(year.group(1)), 1, 1), TargetPeriod.YEAR
    month = _MONTH.match(text)
    if not month:
        return None
    number = int(month.group(2) or month.group(3))
    if not 1 <= number <= 12:
        return None
    kind = period_type or TargetPeriod.MONTH
    return date(int(month.group(1)), number if kind == TargetPeriod.MONTH else 1, 1), kind


def _target_value(text: str) -> Decimal | None:
    try:
        value = Decimal(_NUMBER_NOISE.sub("", unicodedata.normalize("NFKC", text or "")))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def read_target_file(upload) -> list[tuple[int, dict]]:
    """The rows of an uploaded .xlsx or .csv as (row number as the sheet shows it, {column: text}), read by the
    bounded reader (core.spreadsheets) up to TARGET_IMPORT_MAX_ROWS rows. ValidationError on `file`."""
    limits = Limits.from_settings().with_rows(TARGET_IMPORT_MAX_ROWS)
    try:
        with open_spreadsheet(upload, name=getattr(upload, "name", None), limits=limits) as book:
            sheet = next(book.sheets())
            header = HeaderMap(TARGET_COLUMNS).locate(sheet)
            return [(number, header.values(cells)) for number, cells in sheet.rows]
    except SpreadsheetError as exc:
        raise ValidationError({"file": [str(exc)]}) from exc


@transaction.atomic
def targets_import(*, actor, upload) -> TargetImport:
    """Load targets from a file (组织单元编码 / 指标 / 周期 / [周期类型] / 目标值; codes or names): each row
    creates its unit's target for the indicator and period, or changes the value of the one already set.
    Every row is checked by the same rules as a target saved in the browser or the API before anything is
    written; when any row is bad nothing is written and every bad row comes back with all its errors."""
    require_target_setter(actor)
    rows = read_target_file(upload)
    if not rows:
        raise ValidationError({"file": [_("The file has no rows below its headings.")]})
    result = TargetImport(rows=len(rows))
    words, kinds = indicator_words(), _period_words()
    texts = {(values.get("org_unit") or "").strip() for _number, values in rows} - {""}
    units: dict[str, OrgUnit] = {}
    for unit in OrgUnit.objects.filter(Q(code__in=texts) | Q(name__in=texts)).order_by("-depth"):
        units[unit.name] = unit  # a code wins over a name that looks like one; the nearest unit of a repeated name
        units[unit.code] = unit
    from .queries import units_visible

    visible = set(units_visible(actor).filter(pk__in=[u.pk for u in units.values()]).values_list("pk", flat=True))
    existing = {
        (t.org_unit_id, t.indicator, t.period_type, t.period): t
        for t in Target.objects.select_for_update().filter(org_unit_id__in=visible)
    }
    seen: dict[tuple, int] = {}
    planned: list[tuple[Target, dict]] = []
    for number, values in rows:
        errors: dict[str, list[str]] = {}
        unit_text = (values.get("org_unit") or "").strip()
        unit = units.get(unit_text)
        if not unit_text:
            errors["org_unit"] = [_("Give the org unit's code.")]
        elif unit is None:
            errors["org_unit"] = [_("There is no org unit with this code or name.")]
        indicator_text = values.get("indicator") or ""
        code = words.get(word_key(indicator_text)) if indicator_text.strip() else ""
        if code is None:
            everything = {word_key(item.code): item.code for item in indicators.REGISTRY.values()}
            code = everything.get(word_key(indicator_text), indicator_text.strip())
        kind_text = (values.get("period_type") or "").strip()
        kind = kinds.get(word_key(kind_text), "") if kind_text else ""
        if kind_text and not kind:
            errors["period_type"] = [_("Give 月 (month) or 年 (year).")]
        period = parse_target_period(values.get("period") or "", kind)
        if period is None:
            errors["period"] = [_("Give a month as 2026-05 or a year as 2026.")]
        value = _target_value(values.get("value") or "")
        if value is None:
            errors["value"] = [_("Give the target as a number.")]
        target = Target(
            org_unit=unit,
            indicator=code or "",
            period_type=period[1] if period else (kind or TargetPeriod.MONTH),
            period=period[0] if period else None,
            value=value,
        )
        for name, messages in _target_errors(actor, target, visible_units=visible).items():
            if name not in errors and not (name == "period" and period is None):
                errors[name] = messages
        key = (target.org_unit_id, target.indicator, target.period_type, target.period)
        if not errors:
            if key in seen:
                errors["period"] = [
                    _("Row %(row)s already gives this unit's target for this indicator and period.")
                    % {"row": seen[key]}
                ]
            seen.setdefault(key, number)
        if errors:
            result.errors.append({"row": number, "values": values, "errors": errors})
            continue
        planned.append((existing.get(key) or target, {"value": value}))
    if result.errors:
        return result
    for target, change in planned:
        if target.pk:
            before = snapshot(target, TARGET_FIELDS)
            if target.value == change["value"]:
                continue
            target.value = change["value"]
            target.save(update_fields=["value", "updated_at"])
            record_changes(
                actor=actor, target=target, customer_id=None, before=before, after=snapshot(target, TARGET_FIELDS)
            )
            result.updated += 1
        else:
            target.save()
            record_changes(
                actor=actor, target=target, customer_id=None, before={}, after=snapshot(target, TARGET_FIELDS)
            )
            result.created += 1
    return result


def target_template(actor) -> list[list]:
    """The rows of the target file template: the headings the import reads and two example rows for the
    actor's own unit (this month's revenue, this year's new customers), in the user's language."""
    from .queries import units_visible

    staff = staff_of(actor)
    unit = staff.org_unit if staff is not None else units_visible(actor).order_by("path").first()
    month = indicators.latest_period()
    code = unit.code if unit is not None else ""
    return [
        [column.label for column in TARGET_COLUMNS],
        [code, str(indicators.get("revenue").name), f"{month:%Y-%m}", str(TargetPeriod.MONTH.label), 1000000],
        [code, str(indicators.get("new_customers").name), f"{month:%Y}", str(TargetPeriod.YEAR.label), 120],
    ]


# --- background runs -------------------------------------------------------------------------------
def run_start(*, actor, kind: str, period: date | None = None) -> AnalyticsRun:
    """Queue a run for the task worker (never run in the request): a re-grade of the actor's scope
    (supervisors, analysts, admins), or the segments of a month. A run of the same kind and month still
    queued or running is returned instead of a second one (per actor for a re-grade: its scope is theirs)."""
    if kind == RunKind.REGRADE:
        _require(actor, REGRADE_ROLES, _("Only supervisors, analysts and administrators run a re-grade."))
    elif kind != RunKind.SEGMENTS:
        raise ValidationError({"kind": [_("Unknown kind of run.")]})
    period = period or indicators.latest_period()
    with transaction.atomic():
        pending = AnalyticsRun.objects.select_for_update().filter(
            kind=kind, period=period, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
        )
        if kind == RunKind.REGRADE:
            pending = pending.filter(created_by=actor)
        run = pending.first()
        if run is not None:
            return run
        run = AnalyticsRun.objects.create(kind=kind, period=period, created_by=actor)
        language = translation.get_language()
        transaction.on_commit(lambda: _enqueue(run.pk, language), robust=True)
    return run


def _enqueue(run_id: int, language: str | None) -> None:
    from .tasks import execute

    try:
        execute.enqueue(run_id, language)
    except Exception:  # the daily job runs what is left queued
        log.exception("could not enqueue analytics run %s", run_id)


def _progress(run: AnalyticsRun, **fields) -> None:
    for name, value in fields.items():
        setattr(run, name, value)
    AnalyticsRun.objects.filter(pk=run.pk).update(**fields)


def run_execute(run_id: int) -> AnalyticsRun | None:
    """Do a queued run (the task worker, or the daily job for runs left queued). A run already taken by
    another worker is left alone. Failures are recorded on the run, not raised."""
    taken = AnalyticsRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now(), progress=0
    )
    run = AnalyticsRun.objects.select_related("created_by").filter(pk=run_id).first()
    if not taken or run is None:
        return run
    try:
        if run.kind == RunKind.SEGMENTS:
            rows = segments.refresh(run.period)
            message = _("Segments of %(period)s computed for %(rows)s customers.") % {
                "period": f"{run.period:%Y-%m}",
                "rows": f"{rows:,}",
            }
            _progress(run, result=rows)
        else:
            made = _regrade(run)
            message = _("Re-grade run: %(count)s proposals.") % {"count": made}
    except Exception as exc:  # noqa: BLE001 - the run says what went wrong; the worker goes on
        log.exception("analytics run %s failed", run.pk)
        _progress(run, status=RunStatus.FAILED, message=str(exc)[:2000], finished_at=timezone.now())
        return run
    _progress(run, status=RunStatus.SUCCEEDED, progress=100, message=message, finished_at=timezone.now())
    return run


def segments_refresh(period: date, *, actor=None) -> AnalyticsRun:
    """Compute a month's segments here and now, recorded as a run (the daily job: already in the background)."""
    run = AnalyticsRun.objects.create(kind=RunKind.SEGMENTS, period=period, created_by=actor)
    return run_execute(run.pk)


def _regrade(run: AnalyticsRun) -> int:
    """Score every signed customer in the starter's scope and propose a new grade where the score says so,
    from the month's segments (computed first when the month has none). Pending proposals of those customers
    are replaced, a chunk of customers per transaction, so the run's progress shows as it goes."""
    actor = run.created_by
    if actor is None or not can(actor, REGRADE_ROLES):
        raise PermissionDenied(_("Only supervisors, analysts and administrators run a re-grade."))
    if not SegmentPeriod.objects.filter(period=run.period).exists():
        segments.refresh(run.period)
    scheme = GradeScheme.current()
    customers = Customer.objects.visible_to(actor).filter(status__in=segments.SIGNED).order_by("pk")
    total = customers.count()
    made = done = 0
    last = 0
    while True:
        chunk = list(customers.filter(pk__gt=last).only("pk", "grade", "type", "size")[:BATCH])
        if not chunk:
            break
        last = chunk[-1].pk
        ids = [customer.pk for customer in chunk]
        rows = CustomerSegment.objects.filter(period=run.period, customer_id__in=ids)
        figures = {row.customer_id: row for row in rows}
        proposals = []
        for customer in chunk:
            score = segments.grade_score(customer, figures.get(customer.pk), scheme)
            if score.grade != customer.grade:
                proposals.append(
                    GradeProposal(
                        customer=customer,
                        old_grade=customer.grade,
                        new_grade=score.grade,
                        score=score.score,
                        reasons=score.reasons,
                    )
                )
        with transaction.atomic():
            GradeProposal.objects.filter(status=ProposalStatus.PENDING, customer_id__in=ids).delete()
            made += len(GradeProposal.objects.bulk_create(proposals))
        done += len(chunk)
        _progress(run, progress=min(99, done * 100 // max(total, 1)), result=made)
    return made


def regrade_run(*, actor, period: date | None = None) -> int:
    """A re-grade of the actor's scope run here and now (the CLI, tests): the same work as the background run.
    Returns the number of proposals made."""
    _require(actor, REGRADE_ROLES, _("Only supervisors, analysts and administrators run a re-grade."))
    run = AnalyticsRun.objects.create(
        kind=RunKind.REGRADE, period=period or indicators.latest_period(), created_by=actor
    )
    run = run_execute(run.pk)
    if run.status == RunStatus.FAILED:
        raise RuntimeError(run.message)
    return run.result


@transaction.atomic
def proposal_decide(*, actor, proposal_pk: int, confirm: bool, note: str = "") -> GradeProposal:
    """A supervisor confirms (the customer is re-graded, with the proposal's reasons in the grade history)
    or rejects a pending proposal of a customer in their scope."""
    _require(actor, DECIDE_ROLES, _("Only a supervisor can confirm or reject a grade proposal."))
    proposal = get_object_or_404(
        GradeProposal.objects.visible_to(actor).select_for_update().select_related("customer"), pk=proposal_pk
    )
    if proposal.status != ProposalStatus.PENDING:
        raise ValidationError({"status": [_("This proposal has already been decided.")]})
    if confirm:
        reason = (note.strip() or proposal.reasons)[:200]
        customer_update(actor=actor, customer=proposal.customer, grade=proposal.new_grade, grade_reason=reason)
    proposal.status = ProposalStatus.CONFIRMED if confirm else ProposalStatus.REJECTED
    proposal.decided_by = actor
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "decided_by", "decided_at"])
    record(
        actor=actor,
        action=AuditAction.APPROVE if confirm else AuditAction.REJECT,
        target=proposal,
        customer_id=proposal.customer_id,
        after={"status": proposal.status, "grade": proposal.new_grade},
        note=note,
    )
    return proposal
