"""REST endpoints for billing imports (analysts and admins), a customer's points, redemptions, club benefits and
credit grade.

An upload answers at once with the run id; the import runs in the background and `GET
/billing/imports/{id}` reports its progress. Money is a decimal string with two places.
"""

from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from jiketong.api.base import ErrorOut, Id, Page, TwoPlaces, csv_download, referenced, validation_errors
from jiketong.customers import queries as customer_queries

from . import queries, services
from .models import ClubTier, ImportKind, ImportMode, ImportRun

router = Router(tags=["billing"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
MONEY = 'Yuan as a decimal string with two places, e.g. "1280.00".'


class ImportRunOut(Schema):
    id: int
    kind: str
    mode: str
    status: str = Field(
        ...,
        description=(
            "queued, running, succeeded, failed, partially (good rows landed), confirm (stopped before replacing "
            "months with far fewer rows: confirm or cancel it) or cancelled."
        ),
    )
    file_name: str
    periods: list[str] = Field(..., description="Months replaced, YYYY-MM.")
    rows_total: int
    rows_ok: int
    rows_bad: int
    progress: int = Field(..., description="Percent, 0–100.")
    message: str
    errors_url: str | None = Field(None, description="The per-row error report (CSV), when there are bad rows.")
    drop_confirmed: bool = Field(..., description="Good rows may replace months that hold far more.")
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None = Field(
        ..., description="The worker's last sign of life; a run silent for a few minutes is closed as failed."
    )
    finished_at: datetime | None

    @staticmethod
    def resolve_errors_url(obj: ImportRun) -> str | None:
        return f"/api/v1/billing/imports/{obj.pk}/errors" if obj.error_path else None


@router.post(
    "/billing/imports",
    response={202: ImportRunOut, **ERRORS},
    summary="Import a billing file",
    description=(
        "Multipart upload: `file` (.csv in UTF-8 or GBK, or .xlsx), `kind` (facts or members), `mode` (all: load "
        "only if every row is good; good: load the good rows). Re-importing a month replaces it. In good-rows mode, "
        "a file that would leave a month with less than half its rows (BILLING_MAX_DROP) stops with status "
        "`confirm` unless `confirm_drop` is true. Analysts and admins."
    ),
)
def import_create(request, file: File[UploadedFile], kind: Form[ImportKind] = ImportKind.FACTS,
                  mode: Form[ImportMode] = ImportMode.ALL_OR_NOTHING, confirm_drop: Form[bool] = False):  # fmt: skip
    run = services.import_upload(actor=request.user, upload=file, kind=kind, mode=mode, confirm_drop=confirm_drop)
    run.refresh_from_db()
    return Status(202, run)


@router.get("/billing/imports/{import_id}", response={200: ImportRunOut, **ERRORS}, summary="An import's status")
def import_get(request, import_id: Id):
    return queries.import_run_get(request.user, import_id)


def _decide(request, import_id: int, service, code: int):
    queries.import_run_get(request.user, import_id)  # 404 for a run that is not there or not theirs to see
    try:
        run = service(actor=request.user, run_id=import_id)
    except services.NotAwaiting as exc:
        return Status(409, {"detail": exc.messages[0], "errors": validation_errors(exc)})
    run.refresh_from_db()
    return Status(code, run)


@router.post(
    "/billing/imports/{import_id}/confirm",
    response={202: ImportRunOut, 409: ErrorOut, **ERRORS},
    summary="Confirm an import that would shrink months",
    description=(
        "For a run with status `confirm`: its good rows replace the months anyway. The run is queued again (202) "
        "and reads its file anew. The uploader or an admin; any other status answers 409."
    ),
)
def import_confirm(request, import_id: Id):
    return _decide(request, import_id, services.import_confirm_drop, 202)


@router.post(
    "/billing/imports/{import_id}/cancel",
    response={200: ImportRunOut, 409: ErrorOut, **ERRORS},
    summary="Cancel an import waiting for a confirmation",
    description="For a run with status `confirm`: nothing is replaced. The uploader or an admin; otherwise 409.",
)
def import_cancel(request, import_id: Id):
    return _decide(request, import_id, services.import_cancel, 200)


@router.get(
    "/billing/imports/{import_id}/errors",
    response={200: None, **ERRORS},
    summary="An import's error report",
    description="CSV (UTF-8 with BOM): row number, reason, then the row as it was in the file.",
)
def import_errors(request, import_id: Id):
    run, path = queries.error_report(request.user, import_id)
    return csv_download(path, f"import-{run.pk}-errors.csv")


class PointsEntryOut(Schema):
    period: date
    tenure_points: int
    spend_points: int
    arrears: bool
    earned: int
    balance: int
    cumulative_spend: TwoPlaces = Field(..., description=MONEY)
    tier: str
    redeemed: int = Field(..., description="Points spent on redemptions out of this month's balance.")


class RedemptionOut(Schema):
    id: int
    customer_id: int
    points: int
    benefit: TwoPlaces = Field(..., description=MONEY)
    kind: str = Field(..., description="amount (yuan off per block of points) or ratio (a share of the bill).")
    from_period: date = Field(..., description="The ledger month whose balance the points came from.")
    applied_period: date = Field(..., description="The bill BOSS takes the benefit off.")
    created_at: datetime


class PointsOut(Schema):
    customer_id: int
    balance: int
    tier: str = Field(..., description="regular, silver, gold or diamond (by cumulative spend).")
    cumulative_spend: str = Field(..., description=MONEY)
    entries: list[PointsEntryOut] = Field(..., description="Newest month first, at most 24.")
    redemptions: list[RedemptionOut] = Field(..., description="Newest first, at most 24.")


@router.get("/customers/{customer_id}/points", response={200: PointsOut, **ERRORS}, summary="A customer's points")
def customer_points(request, customer_id: Id):
    customer = customer_queries.customer_get(request.user, customer_id)
    entries = list(queries.points_of(request.user, customer.pk)[: queries.STATEMENT_MONTHS])
    latest = entries[0] if entries else None
    return {
        "customer_id": customer.pk,
        "balance": latest.balance if latest else 0,
        "tier": latest.tier if latest else ClubTier.REGULAR,
        "cumulative_spend": f"{latest.cumulative_spend:.2f}" if latest else "0.00",
        "entries": entries,
        "redemptions": list(queries.redemptions_of(request.user, customer.pk)[: queries.STATEMENT_MONTHS]),
    }


class RedemptionIn(Schema):
    points: int = Field(
        ..., ge=1, le=10**9, description="Whole blocks of the rule's points per block (100 by default)."
    )


@router.post(
    "/customers/{customer_id}/points/redemptions",
    response={201: RedemptionOut, **ERRORS},
    summary="Redeem a customer's points",
    description=(
        "Turns points of the balance into a benefit on the next bill (amount or share off, capped per month). "
        "400 with the reason at `points`: in arrears, not whole blocks, more than the balance, above the cap. "
        "Customer managers, supervisors and admins who can see the customer."
    ),
)
def redemption_create(request, customer_id: Id, body: RedemptionIn):
    services.require_redeem(request.user)
    customer = customer_queries.customer_get(request.user, customer_id)
    return Status(201, services.redemption_create(actor=request.user, customer=customer, points=body.points))


class RedemptionFilterIn(Schema):
    period: date | None = Field(None, description="The bill the redemptions apply to (any day of its month); "
                                                  "this month by default.")  # fmt: skip


@router.get(
    "/billing/redemptions",
    response={200: list[RedemptionOut], **ERRORS},
    summary="The month's redemptions to apply",
    description="What BOSS takes off the bills of a month, in the caller's scope.",
)
@paginate(Page)
def redemption_list(request, filters: Query[RedemptionFilterIn]):
    period = (filters.period or timezone.localdate()).replace(day=1)
    return queries.redemptions_to_apply(request.user, period)


class CreditOut(Schema):
    customer_id: int
    grade: str | None = Field(..., description="AAA, AA, A, B or C; null before the customer is graded.")
    as_of: date | None = Field(..., description="The latest billing month the grade looked at.")
    months: int = Field(..., description="Billed months in the window (12 by default).")
    avg_days_to_pay: str | None = Field(..., description="Average days to pay, one decimal; null when BOSS gave none.")
    arrears_months: int
    consecutive_arrears: int = Field(..., description="Months in arrears since the latest month paid on time.")


@router.get("/customers/{customer_id}/credit", response={200: CreditOut, **ERRORS}, summary="A customer's credit grade")
def customer_credit(request, customer_id: Id):
    customer = customer_queries.customer_get(request.user, customer_id)
    grade = queries.credit_grade_of(request.user, customer.pk)
    if grade is None:
        return {"customer_id": customer.pk, "grade": None, "as_of": None, "months": 0, "avg_days_to_pay": None,
                "arrears_months": 0, "consecutive_arrears": 0}  # fmt: skip
    return {
        "customer_id": customer.pk, "grade": grade.grade, "as_of": grade.as_of, "months": grade.months,
        "avg_days_to_pay": None if grade.avg_days_to_pay is None else f"{grade.avg_days_to_pay:.1f}",
        "arrears_months": grade.arrears_months, "consecutive_arrears": grade.consecutive_arrears,
    }  # fmt: skip


class BenefitUseIn(Schema):
    benefit: int = Field(..., ge=1, le=2**62, description="A club benefit's id (GET /billing/benefits).")
    used_on: date
    note: str = Field("", max_length=200)


class BenefitUseOut(Schema):
    id: int
    customer_id: int
    benefit_id: int
    used_on: date
    note: str
    created_at: datetime


class BenefitOut(Schema):
    id: int
    name: str
    kind: str = Field(..., description="repair, event, discount, greeting or other.")
    min_tier: str = Field(..., description="regular, silver, gold or diamond: the lowest tier it is open to.")
    description: str
    yearly_limit: int | None = Field(..., description="Uses per customer a calendar year; null: no limit.")
    active: bool


@router.get("/billing/benefits", response={200: list[BenefitOut], **ERRORS}, summary="The club's benefits")
@paginate(Page)
def benefit_list(request):
    return queries.benefits()


@router.post(
    "/customers/{customer_id}/benefit-uses",
    response={201: BenefitUseOut, **ERRORS},
    summary="Record a use of a club benefit",
    description="400 at `benefit` when it is not offered, above the customer's tier or past its yearly limit.",
)
def benefit_use_create(request, customer_id: Id, body: BenefitUseIn):
    services.require_redeem(request.user)
    customer = customer_queries.customer_get(request.user, customer_id)
    benefit = referenced(queries.benefits(), body.benefit, "benefit", _("No such benefit."))
    use = services.benefit_use_record(actor=request.user, customer=customer, benefit=benefit, used_on=body.used_on,
                                      note=body.note)  # fmt: skip
    return Status(201, use)
