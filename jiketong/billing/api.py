"""REST endpoints for billing imports (analysts and admins) and a customer's points.

An upload answers at once with the run id; the import runs in the background and `GET
/billing/imports/{id}` reports its progress. Money is a decimal string with two places.
"""

from datetime import date, datetime

from django.http import FileResponse
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from jiketong.api.base import ErrorOut, Id
from jiketong.customers import queries as customer_queries

from . import queries, services
from .models import ClubTier, ImportKind, ImportMode, ImportRun, PointsLedger

router = Router(tags=["billing"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
MONEY = 'Yuan as a decimal string with two places, e.g. "1280.00".'


class ImportRunOut(Schema):
    id: int
    kind: str
    mode: str
    status: str = Field(..., description="queued, running, succeeded, failed or partially (good rows landed).")
    file_name: str
    periods: list[str] = Field(..., description="Months replaced, YYYY-MM.")
    rows_total: int
    rows_ok: int
    rows_bad: int
    progress: int = Field(..., description="Percent, 0–100.")
    message: str
    errors_url: str | None = Field(None, description="The per-row error report (CSV), when there are bad rows.")
    created_at: datetime
    started_at: datetime | None
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
        "only if every row is good; good: load the good rows). Re-importing a month replaces it. Analysts and admins."
    ),
)
def import_create(request, file: File[UploadedFile], kind: Form[ImportKind] = ImportKind.FACTS,
                  mode: Form[ImportMode] = ImportMode.ALL_OR_NOTHING):  # fmt: skip
    run = services.import_upload(actor=request.user, upload=file, kind=kind, mode=mode)
    run.refresh_from_db()
    return Status(202, run)


@router.get("/billing/imports/{import_id}", response={200: ImportRunOut, **ERRORS}, summary="An import's status")
def import_get(request, import_id: Id):
    return queries.import_run_get(request.user, import_id)


@router.get(
    "/billing/imports/{import_id}/errors",
    response={200: None, **ERRORS},
    summary="An import's error report",
    description="CSV (UTF-8 with BOM): row number, reason, then the row as it was in the file.",
)
def import_errors(request, import_id: Id):
    run, path = queries.error_report(request.user, import_id)
    return FileResponse(open(path, "rb"), as_attachment=True, filename=f"import-{run.pk}-errors.csv",
                        content_type="text/csv; charset=utf-8")  # fmt: skip


class PointsEntryOut(Schema):
    period: date
    tenure_points: int
    spend_points: int
    arrears: bool
    earned: int
    balance: int
    cumulative_spend: str = Field(..., description=MONEY)
    tier: str

    @staticmethod
    def resolve_cumulative_spend(obj: PointsLedger) -> str:
        return f"{obj.cumulative_spend:.2f}"


class PointsOut(Schema):
    customer_id: int
    balance: int
    tier: str = Field(..., description="regular, silver, gold or diamond (by cumulative spend).")
    cumulative_spend: str = Field(..., description=MONEY)
    entries: list[PointsEntryOut] = Field(..., description="Newest month first, at most 24.")


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
    }
