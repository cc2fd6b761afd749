"""Every write of the assessment: computing a month, closing and reopening it, the weights and targets
(versioned: each save is a new version, refused when someone saved one since the form was read) and the
rank-grade matrix. Each takes the acting user and writes its audit row in the same transaction."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jiketong.core.audit import record
from jiketong.core.models import AuditAction
from jiketong.core.notes import stored
from jiketong.customers.models import Grade
from jiketong.org.models import OrgUnit, Rank, Role, Staff, can, staff_of

from . import compute, rules
from .components import BY_CODE, COMPONENTS
from .models import AssessmentMonth, ManagerScore, MonthStatus, RankGrades, ScoreSettings, UnitScore

CLOSE_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
MIN_CAP, MAX_CAP = Decimal("1.00"), Decimal("2.00")


def _require(actor, roles, message: str) -> Staff | None:
    if not can(actor, roles):
        raise PermissionDenied(message)
    return staff_of(actor)


def _over_unit(actor, unit: OrgUnit) -> bool:
    staff = staff_of(actor)
    if actor.is_superuser or (staff is not None and (Role.ADMIN in staff.role_codes or staff.org_unit.is_root())):
        return True
    return staff is not None and unit.path.startswith(staff.org_unit.path)


# --- computing, closing, reopening ---------------------------------------------------------------------------
@transaction.atomic
def month_compute(*, actor, period: date) -> AssessmentMonth:
    """Compute a month's scorecards on request (the monthly job calls `compute.month_compute` itself)."""
    _require(actor, CLOSE_ROLES, _("Only a supervisor or an administrator can compute the scorecards."))
    month = compute.month_compute(period)
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=month,
        customer_id=None,
        after={"computed_at": month.computed_at.isoformat(), "managers": month.managers},
        note=stored(gettext_noop("Scorecards computed")),
    )
    return month


def _can_close(actor) -> bool:
    """Closing freezes the figures of the whole instance: admins and supervisors at province level or above."""
    staff = staff_of(actor)
    if actor.is_superuser or (staff and Role.ADMIN in staff.role_codes):
        return True
    return bool(staff and Role.SUPERVISOR in staff.role_codes and staff.org_unit.depth <= 2)


@transaction.atomic
def month_close(*, actor, period: date) -> AssessmentMonth:
    """关账: copy the month's computed scorecards into its frozen copy; the pages, the export and the API read that
    copy from now on and no recomputation changes it. Only a computed, open month closes."""
    if not _can_close(actor):
        raise PermissionDenied(_("Only a province supervisor or an administrator can close a month."))
    month = AssessmentMonth.objects.select_for_update().filter(period=period).first()
    if month is None or month.computed_at is None:
        raise ValidationError({"period": [_("This month has no scorecards yet: compute it first.")]})
    if month.is_closed:
        raise ValidationError({"period": [_("This month is already closed.")]})
    for model in (ManagerScore, UnitScore):
        copies = list(model.objects.filter(period=period, closed=False))
        for row in copies:
            row.pk, row.closed = None, True
        model.objects.bulk_create(copies, batch_size=1000)
    month.status, month.closed_at, month.closed_by = MonthStatus.CLOSED, timezone.now(), actor
    month.save(update_fields=["status", "closed_at", "closed_by"])
    record(
        actor=actor,
        action=AuditAction.STATUS,
        target=month,
        customer_id=None,
        before={"status": MonthStatus.OPEN},
        after={"status": MonthStatus.CLOSED, "managers": month.managers},
    )
    return month


@transaction.atomic
def month_reopen(*, actor, period: date, reason: str) -> AssessmentMonth:
    """Reopen a closed month (administrators only, with a reason): its frozen copy is dropped, the drafts show
    again and the next computation refreshes them. The audit trail keeps who, when, why and the closed totals."""
    _require(actor, {Role.ADMIN}, _("Only a system administrator can reopen a closed month."))
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the month is reopened.")]})
    month = AssessmentMonth.objects.select_for_update().filter(period=period).first()
    if month is None or not month.is_closed:
        raise ValidationError({"period": [_("This month is not closed.")]})
    totals = {
        str(unit): str(total)
        for unit, total in UnitScore.objects.filter(period=period, closed=True, org_unit__depth__lte=2).values_list(
            "org_unit__name", "total"
        )
    }
    ManagerScore.objects.filter(period=period, closed=True).delete()
    UnitScore.objects.filter(period=period, closed=True).delete()
    month.status, month.closed_at, month.closed_by = MonthStatus.OPEN, None, None
    month.save(update_fields=["status", "closed_at", "closed_by"])
    record(
        actor=actor,
        action=AuditAction.STATUS,
        target=month,
        customer_id=None,
        before={"status": MonthStatus.CLOSED, "totals": totals},
        after={"status": MonthStatus.OPEN},
        note=reason.strip(),
    )
    return month


# --- weights and targets -------------------------------------------------------------------------------------
def _clean_terms(terms: dict, cap) -> tuple[dict, Decimal, dict]:
    errors: dict[str, list[str]] = {}
    cleaned = {}
    for component in COMPONENTS:
        given = terms.get(component.code) or {}
        try:
            weight = int(given.get("weight", component.weight))
        except (TypeError, ValueError):
            weight = -1
        if not 0 <= weight <= 100:
            errors[f"{component.code}_weight"] = [_("A weight is a whole number from 0 to 100.")]
        try:
            target = Decimal(str(given.get("target", component.target)))
        except (InvalidOperation, ValueError):
            target = Decimal(-1)
        if not target.is_finite() or target <= 0 or target > Decimal("1000000000"):
            errors[f"{component.code}_target"] = [_("A target is a number above zero.")]
        cleaned[component.code] = {"weight": weight, "target": str(target)}
    unknown = sorted(set(terms) - set(BY_CODE))
    if unknown:
        errors["terms"] = [_("Unknown components: %(codes)s.") % {"codes": ", ".join(unknown)}]
    if not errors and not sum(term["weight"] for term in cleaned.values()):
        errors["terms"] = [_("At least one component needs a weight.")]
    try:
        cap = Decimal(str(cap))
    except (InvalidOperation, ValueError):
        cap = Decimal(0)
    if not MIN_CAP <= cap <= MAX_CAP:
        errors["cap"] = [_("The cap is from 1.00 to 2.00 (100% to 200% of the target).")]
    return cleaned, cap, errors


@transaction.atomic
def settings_save(
    *,
    actor,
    valid_from: date,
    terms: dict,
    cap,
    org_unit: OrgUnit | None = None,
    staff: Staff | None = None,
    base_version: int | None = None,
) -> ScoreSettings:
    """A new version of a unit's default weights and targets, or of one manager's own, valid from a month.
    `base_version` is the version the form was read at: when someone saved another since, the save is refused
    (the form shows the newer one)."""
    _require(
        actor, {Role.SUPERVISOR, Role.ADMIN}, _("Only a supervisor or an administrator can set weights and targets.")
    )
    if (org_unit is None) == (staff is None):
        raise ValidationError({"staff": [_("Settings belong to one org unit or to one manager.")]})
    unit = org_unit if org_unit is not None else staff.org_unit
    if not _over_unit(actor, unit):
        raise PermissionDenied(_("You can set weights and targets only in your own org unit."))
    cleaned, cap, errors = _clean_terms(terms, cap)
    if valid_from.day != 1:
        errors["valid_from"] = [_("Settings start on the first day of a month.")]
    elif AssessmentMonth.objects.filter(period__gte=valid_from, status=MonthStatus.CLOSED).exists():
        errors["valid_from"] = [_("A closed month cannot be scored again: start from the month after it.")]
    existing = (
        ScoreSettings.objects.filter(staff=staff)
        if staff is not None
        else ScoreSettings.objects.filter(org_unit=org_unit, staff=None)
    )
    latest = existing.select_for_update().aggregate(v=Max("version"))["v"] or 0
    if base_version is not None and base_version != latest:
        errors["base_version"] = [
            _(
                "Someone saved version %(version)d of these settings after you opened them; "
                "check it before saving again."
            )
            % {"version": latest}
        ]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            row = ScoreSettings.objects.create(
                org_unit=org_unit,
                staff=staff,
                valid_from=valid_from,
                version=latest + 1,
                terms=cleaned,
                cap=cap,
                created_by=actor,
            )
    except IntegrityError:
        raise ValidationError(
            {"base_version": [_("Someone saved these settings at the same moment; try again.")]}
        ) from None
    record(
        actor=actor,
        action=AuditAction.CREATE if latest == 0 else AuditAction.UPDATE,
        target=row,
        customer_id=None,
        after={
            "subject": str(staff or org_unit),
            "version": row.version,
            "valid_from": valid_from.isoformat(),
            "cap": str(cap),
            "terms": cleaned,
        },
    )
    return row


# --- the rank-grade matrix -----------------------------------------------------------------------------------
@transaction.atomic
def rank_grades_save(*, actor, rank: str, grades: list[str]) -> RankGrades:
    """Which grades a rank may own (administrators: rules and thresholds are theirs, DOMAIN §2)."""
    _require(actor, {Role.ADMIN}, _("Only a system administrator can change which grades a rank may own."))
    errors = {}
    if rank not in Rank.values:
        errors["rank"] = [_("Unknown rank.")]
    bad = [g for g in grades if g not in Grade.values]
    if bad:
        errors["grades"] = [_("Unknown grades: %(grades)s.") % {"grades": ", ".join(bad)}]
    if errors:
        raise ValidationError(errors)
    ordered = [g for g in Grade.values if g in grades]
    before = rules.matrix().get(rank, [])
    row, _created = RankGrades.objects.update_or_create(
        rank=rank, defaults={"grades": ",".join(ordered), "updated_by": actor}
    )
    record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=row,
        customer_id=None,
        before={"grades": ",".join(before)},
        after={"grades": row.grades},
    )
    return row
