"""Every write of the analytics app: targets, background runs (the segments of a month, re-grades) and the
decisions on the re-grade proposals."""

import logging
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from jiketong.core.audit import record, record_changes, snapshot
from jiketong.core.models import AuditAction
from jiketong.customers.models import Customer
from jiketong.customers.services import customer_update
from jiketong.org.models import Role, can

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
@transaction.atomic
def target_save(*, actor, target: Target | None = None, **fields) -> Target:
    """Create or change a target. Analysts and admins set targets for org units in their own subtree."""
    _require(actor, TARGET_ROLES, _("Only analysts and administrators set targets."))
    target = target or Target()
    before = snapshot(target, TARGET_FIELDS) if target.pk else {}
    for name, value in fields.items():
        setattr(target, name, value)
    errors: dict[str, list[str]] = {}
    indicator = indicators.REGISTRY.get(target.indicator)
    if indicator is None:
        errors["indicator"] = [_("Unknown indicator.")]
    elif not indicator.monthly or indicator.needs_product:
        errors["indicator"] = [_("This indicator cannot be given a target.")]
    if target.org_unit_id and not _unit_visible(actor, target.org_unit_id):
        errors["org_unit"] = [_("Choose an org unit within your own.")]
    if errors:
        raise ValidationError(errors)
    if isinstance(target.period, date):
        target.period = (
            target.period.replace(day=1, month=1)
            if target.period_type == TargetPeriod.YEAR
            else target.period.replace(day=1)
        )
    # The unique target per unit, indicator and period is checked by the insert, so its error names the period.
    target.full_clean(validate_constraints=False)
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
def target_delete(*, actor, target: Target) -> None:
    _require(actor, TARGET_ROLES, _("Only analysts and administrators set targets."))
    record(
        actor=actor, action=AuditAction.DELETE, target=target, customer_id=None, before=snapshot(target, TARGET_FIELDS)
    )
    target.delete()


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
