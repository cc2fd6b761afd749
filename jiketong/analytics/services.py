"""Every write of the analytics app: targets, re-grade runs and the decisions on their proposals."""

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from jiketong.core.audit import record, record_changes, snapshot
from jiketong.core.models import AuditAction
from jiketong.customers.models import Customer, LifecycleStatus
from jiketong.customers.services import customer_update
from jiketong.org.models import Role, can

from . import indicators, segments
from .models import GradeProposal, GradeScheme, ProposalStatus, Target, TargetPeriod

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


# --- re-grading ----------------------------------------------------------------------------------------
def regrade_run(*, actor, period: date | None = None) -> int:
    """Score every signed customer in the actor's scope and propose a new grade where the score says so.
    Pending proposals of those customers are replaced. Returns the number of proposals made."""
    _require(actor, REGRADE_ROLES, _("Only supervisors, analysts and administrators run a re-grade."))
    period = period or indicators.latest_period()
    scheme = GradeScheme.current()
    customers = Customer.objects.visible_to(actor).filter(
        status__in=[LifecycleStatus.ACTIVE, LifecycleStatus.AT_RISK, LifecycleStatus.DORMANT]
    )
    made = 0
    with transaction.atomic():
        GradeProposal.objects.filter(status=ProposalStatus.PENDING, customer__in=customers.values("pk")).delete()
        batch: list[GradeProposal] = []
        for customer in segments.scoring_queryset(customers.order_by(), period).iterator(chunk_size=BATCH):
            score = segments.grade_score(customer, scheme)
            if score.grade == customer.grade:
                continue
            batch.append(
                GradeProposal(
                    customer=customer,
                    old_grade=customer.grade,
                    new_grade=score.grade,
                    score=score.score,
                    reasons=score.reasons,
                )
            )
            if len(batch) >= BATCH:
                made += len(GradeProposal.objects.bulk_create(batch))
                batch = []
        made += len(GradeProposal.objects.bulk_create(batch))
    return made


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
