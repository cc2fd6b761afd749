"""REST endpoints for leads, opportunities, stages and the forecast.

Handlers only translate between JSON and the queries/services: reads go through `queries` (scoped;
out of scope answers 404), writes through `services` (rules, permissions, audit). Contact mobiles are
always masked.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from jiketong.api.base import (
    ErrorOut,
    Id,
    IfMatch,
    Lookups,
    Money,
    Page,
    PatchSchema,
    RowVersion,
    csv_download,
    filtered,
    from_attr,
    resolve_ids,
)
from jiketong.core.concurrency import expected_from_if_match, with_etag
from jiketong.customers.models import Customer, Industry
from jiketong.org.models import OrgUnit, Staff

from . import queries, services
from .models import Opportunity, Stage, StageChange

router = Router(tags=["sales"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _related(user, data: dict[str, Any]) -> dict[str, Any]:
    """Swap the ids in a request body for records; an id the user may not see answers like a missing one."""
    staff = Staff.objects.visible_to(user).select_related("user")
    lookups: Lookups = {
        "industry": (Industry.objects.all(), _("There is no industry with this code.")),
        "org_unit": (OrgUnit.objects.all(), _("There is no org unit with this id.")),
        "owner": (staff, _("There is no staff member with this id.")),
        "customer": (Customer.objects.visible_to(user), _("There is no customer with this id.")),
        "stage": (Stage.objects.all(), _("There is no stage with this id.")),
    }
    return resolve_ids(data, lookups)


# --- leads -----------------------------------------------------------------------------------------
class LeadOut(Schema):
    id: int
    row_version: RowVersion
    source: str
    name: str
    uscc: str
    org_unit: int = from_attr("org_unit_id")
    industry: str | None = from_attr("industry_id", description="Industry code.")
    expected_size: int | None
    grade_hint: str
    contact_name: str
    contact_mobile: str = from_attr("contact_mobile_masked", description="Always masked (138****1234).")
    need: str
    owner: int | None = from_attr("owner_id", description="Staff id.")
    status: str
    disqualify_reason: str
    customer: int | None = from_attr("customer_id")
    opportunity: int | None = from_attr("opportunity_id")
    converted_at: datetime | None
    created_at: datetime
    updated_at: datetime


class LeadFilterIn(Schema):
    search: str | None = Field(None, description="Part of the prospect's name.")
    status: str | None = Field(None, description="new, working, qualified, converted, disqualified.")
    open: bool | None = Field(None, description="Only new, working and qualified leads.")
    source: str | None = None
    region: str | None = Field(None, description="Org unit code; includes every unit under it.")
    industry: str | None = Field(None, description="Industry code.")
    grade_hint: str | None = None
    owner: Id | None = Field(None, description="Staff id.")


class LeadIn(Schema):
    source: str
    name: str
    uscc: str = Field("", description="统一社会信用代码, checked per GB 32100-2015; optional.")
    org_unit: int | None = Field(None, description="Region (org unit id); your own unit when omitted.")
    industry: str | None = Field(None, description="Industry code.")
    expected_size: int | None = None
    grade_hint: str = ""
    contact_name: str = ""
    contact_mobile: str = ""
    need: str = ""
    owner: int | None = Field(
        None, description="Staff id. Omitted: managers own what they record; otherwise the assignment rules choose."
    )
    confirm_duplicates: bool = Field(
        False, description="Save although the lead matches a customer or open lead (see /leads/duplicates)."
    )


class LeadPatch(PatchSchema):
    nullable = frozenset({"expected_size", "industry"})

    source: str | None = None
    name: str | None = None
    uscc: str | None = None
    org_unit: int | None = None
    industry: str | None = None
    expected_size: int | None = None
    grade_hint: str | None = None
    contact_name: str | None = None
    contact_mobile: str | None = None
    need: str | None = None
    status: str | None = Field(None, description="new, working or qualified; closing is convert or disqualify.")
    confirm_duplicates: bool = False


class DuplicateOut(Schema):
    kind: Literal["customer", "lead"]
    id: int | None = from_attr("pk", description="Null when the match is outside your scope.")
    name: str = Field(..., description="Empty when the match is outside your scope.")
    matched_on: Literal["uscc", "name"] = from_attr("field")
    org_unit: str
    owner: str
    visible: bool
    message: str

    @staticmethod
    def resolve_message(obj) -> str:
        return obj.message()


class ConvertIn(Schema):
    customer: int | None = Field(None, description="Link this visible customer; omitted: create one from the lead.")
    customer_type: str = Field("enterprise", description="Type of the customer created from the lead.")
    opportunity_name: str = ""
    expected_close: date
    amount_monthly: Money = Decimal(0)
    amount_once: Money = Decimal(0)
    industry: str | None = Field(
        None, description="Industry code, for a lead recorded without one: a new customer archive needs it."
    )


class DisqualifyIn(Schema):
    reason: str


class AssignIn(Schema):
    owner: int | None = Field(None, description="Staff id; omitted: the assignment rules choose.")
    note: str = ""


class ImportOut(Schema):
    done: int
    errors: list[dict[str, Any]] = Field(..., description="Per bad row: row (1 = first data row), name, errors.")


class LeadImportRunOut(Schema):
    id: int
    status: str = Field(..., description="queued, running, succeeded, partially or failed.")
    file_name: str
    mode: str
    rows_total: int
    rows_ok: int
    rows_bad: int
    progress: int = Field(..., description="0–100.")
    message: str
    error_report: str | None = Field(..., description="URL of the CSV of the bad rows, when there are any.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @staticmethod
    def resolve_error_report(obj) -> str | None:
        return f"/api/v1/lead-imports/{obj.pk}/errors" if obj.error_path else None


@router.get("/leads", response={200: list[LeadOut], 400: ErrorOut}, summary="List leads")
@paginate(Page)
def lead_list(request, filters: Query[LeadFilterIn]):
    return filtered(queries.lead_list, request.user, filters)


@router.get("/leads/duplicates", response={200: list[DuplicateOut], **ERRORS}, summary="Find duplicates")
def lead_duplicates(request, name: str = "", uscc: str = ""):
    """Customers and open leads with the same credit code or the same name once spacing and legal-form
    suffixes (有限公司, 集团 …) are stripped. Check before creating; matches outside your scope tell only
    their region."""
    return queries.lead_duplicates(request.user, name=name, uscc=uscc)


@router.post("/leads", response={201: LeadOut, **ERRORS}, summary="Create a lead")
def lead_create(request, payload: LeadIn):
    """A lead matching a customer or an open lead answers 400 with the matches on `name`/`uscc`, unless
    `confirm_duplicates` is true."""
    data = _related(request.user, payload.model_dump())
    return Status(201, services.lead_create(actor=request.user, **data))


@router.post(
    "/leads/import",
    response={200: ImportOut, 202: LeadImportRunOut, **ERRORS},
    summary="Import leads",
)
def lead_import(request, file: File[UploadedFile], all_or_nothing: Form[bool] = True):
    """An .xlsx or .csv (UTF-8 or GBK) with a heading row: 单位名称 (required), 统一社会信用代码, 区域编码,
    行业, 规模, 预计等级, 联系人, 联系电话, 需求, 来源. Every bad row comes back with its reasons; with
    `all_or_nothing` one bad row stops the whole file, otherwise the good rows land. A file of more than
    IMPORT_INLINE_ROWS rows (2,000) is imported by the task worker: the answer is 202 with the run, to follow
    at `/lead-imports/{id}`."""
    result, run = services.lead_import_start(actor=request.user, upload=file, all_or_nothing=all_or_nothing)
    if run is not None:
        run.refresh_from_db()
        return Status(202, run)
    return {"done": result.done, "errors": result.errors}


@router.get("/leads/{lead_id}", response={200: LeadOut, **ERRORS}, summary="Get a lead")
def lead_get(request, response: HttpResponse, lead_id: Id):
    return with_etag(response, queries.lead_get(request.user, lead_id))


@router.patch("/leads/{lead_id}", response={200: LeadOut, **ERRORS}, summary="Change a lead")
def lead_patch(request, response: HttpResponse, lead_id: Id, payload: LeadPatch, if_match: IfMatch = None):
    lead = queries.lead_get(request.user, lead_id)
    data = _related(request.user, payload.model_dump(exclude_unset=True))
    services.lead_update(actor=request.user, lead=lead, expected_version=expected_from_if_match(if_match), **data)
    return with_etag(response, queries.lead_get(request.user, lead_id))


@router.post("/leads/{lead_id}/convert", response={200: LeadOut, **ERRORS}, summary="Convert a lead")
def lead_convert(request, lead_id: Id, payload: ConvertIn):
    """In one transaction: link the customer or create it from the lead, open an opportunity at the first
    stage, and mark the lead converted."""
    lead = queries.lead_get(request.user, lead_id)
    data = _related(request.user, payload.model_dump())
    services.lead_convert(actor=request.user, lead=lead, **data)
    return queries.lead_get(request.user, lead_id)


@router.post("/leads/{lead_id}/disqualify", response={200: LeadOut, **ERRORS}, summary="Disqualify a lead")
def lead_disqualify(request, lead_id: Id, payload: DisqualifyIn):
    lead = queries.lead_get(request.user, lead_id)
    return services.lead_disqualify(actor=request.user, lead=lead, reason=payload.reason)


@router.post("/leads/{lead_id}/assign", response={200: LeadOut, **ERRORS}, summary="Reassign a lead")
def lead_assign(request, lead_id: Id, payload: AssignIn):
    """Supervisors only."""
    lead = queries.lead_get(request.user, lead_id)
    data = _related(request.user, payload.model_dump())
    return services.lead_assign(actor=request.user, lead=lead, **data)


# --- opportunities -------------------------------------------------------------------------------
class LineSchema(Schema):
    product: int
    quantity: int = 1
    amount_monthly: Money = Decimal(0)
    amount_once: Money = Decimal(0)


class OpportunityOut(Schema):
    id: int
    row_version: RowVersion
    customer: int = from_attr("customer_id")
    customer_name: str = from_attr("customer.name")
    name: str
    owner: int = from_attr("owner_id")
    stage: str = from_attr("stage.code", description="Stage code.")
    probability: int = from_attr("stage.probability")
    expected_close: date
    amount_monthly: Decimal
    amount_once: Decimal
    competitor: str
    lost_reason: str
    lead: int | None = from_attr("lead_id")
    closed_on: date | None
    note: str
    created_at: datetime
    updated_at: datetime


class OpportunityDetailOut(OpportunityOut):
    lines: list[LineSchema]

    @staticmethod
    def resolve_lines(obj: Opportunity) -> list[dict]:
        return [
            {
                "product": x.product_id,
                "quantity": x.quantity,
                "amount_monthly": x.amount_monthly,
                "amount_once": x.amount_once,
            }
            for x in obj.lines.all()
        ]


class OpportunityFilterIn(Schema):
    search: str | None = Field(None, description="Part of the opportunity's name.")
    stage: str | None = Field(None, description="Stage code.")
    open: bool | None = Field(None, description="Only opportunities neither won nor lost.")
    region: str | None = Field(None, description="Org unit code of the customer; includes every unit under it.")
    owner: Id | None = Field(None, description="Staff id.")
    competitor: str | None = None
    close_from: date | None = None
    close_to: date | None = None
    customer: Id | None = None


class OpportunityIn(Schema):
    customer: int
    name: str
    expected_close: date
    owner: int | None = Field(None, description="Staff id; yourself when omitted.")
    stage: int | None = Field(None, description="Stage id; the first open stage when omitted.")
    amount_monthly: Money = Decimal(0)
    amount_once: Money = Decimal(0)
    competitor: str = ""
    note: str = ""
    lines: list[LineSchema] | None = Field(None, description="Product lines; the amounts become their totals.")


class OpportunityPatch(PatchSchema):
    name: str | None = None
    owner: int | None = None
    expected_close: date | None = None
    amount_monthly: Money | None = None
    amount_once: Money | None = None
    competitor: str | None = None
    note: str | None = None
    lines: list[LineSchema] | None = Field(None, description="Replaces every line.")


class MoveIn(Schema):
    stage: str = Field(..., description="Stage code (discovery, solution, negotiation, signing, won, lost, …).")
    note: str = ""
    lost_reason: str = Field("", description="Required when moving to a lost stage.")
    competitor: str = ""


class StageChangeOut(Schema):
    from_stage: str | None
    to_stage: str = from_attr("to_stage.code")
    changed_by: str | None = Field(..., description="Username.")
    changed_at: datetime
    note: str

    @staticmethod
    def resolve_from_stage(obj: StageChange) -> str | None:
        return obj.from_stage.code if obj.from_stage_id else None

    @staticmethod
    def resolve_changed_by(obj: StageChange) -> str | None:
        return obj.changed_by.username if obj.changed_by_id else None


class StageOut(Schema):
    id: int
    code: str
    name: str
    probability: int
    order: int
    is_won: bool
    is_lost: bool
    active: bool


def _lines(user, lines: list[dict] | None) -> list[dict] | None:
    if lines is None:
        return None
    from jiketong.catalog.models import Product

    products = {p.pk: p for p in Product.objects.filter(pk__in=[line["product"] for line in lines])}
    missing = [line["product"] for line in lines if line["product"] not in products]
    if missing:
        raise ValidationError({"lines": [_("There is no product with this id.")]})
    return [line | {"product": products[line["product"]]} for line in lines]


@router.get("/opportunities", response={200: list[OpportunityOut], 400: ErrorOut}, summary="List opportunities")
@paginate(Page)
def opportunity_list(request, filters: Query[OpportunityFilterIn]):
    return filtered(queries.opportunity_list, request.user, filters)


@router.post("/opportunities", response={201: OpportunityDetailOut, **ERRORS}, summary="Create an opportunity")
def opportunity_create(request, payload: OpportunityIn):
    data = payload.model_dump()
    data["lines"] = _lines(request.user, data["lines"])
    data = _related(request.user, data)
    opportunity = services.opportunity_create(actor=request.user, **data)
    return Status(201, queries.opportunity_get(request.user, opportunity.pk))


@router.get("/opportunities/{opportunity_id}", response={200: OpportunityDetailOut, **ERRORS}, summary="Get one")
def opportunity_get(request, response: HttpResponse, opportunity_id: Id):
    return with_etag(response, queries.opportunity_get(request.user, opportunity_id))


@router.patch("/opportunities/{opportunity_id}", response={200: OpportunityDetailOut, **ERRORS}, summary="Change one")
def opportunity_patch(
    request, response: HttpResponse, opportunity_id: Id, payload: OpportunityPatch, if_match: IfMatch = None
):
    """Send only the fields to change; the stage changes through …/stage."""
    opportunity = queries.opportunity_get(request.user, opportunity_id)
    data = payload.model_dump(exclude_unset=True)
    if "lines" in data:
        data["lines"] = _lines(request.user, data["lines"])
    data = _related(request.user, data)
    expected = expected_from_if_match(if_match)
    services.opportunity_update(actor=request.user, opportunity=opportunity, expected_version=expected, **data)
    return with_etag(response, queries.opportunity_get(request.user, opportunity_id))


@router.post("/opportunities/{opportunity_id}/stage", response={200: OpportunityOut, **ERRORS}, summary="Move stage")
def opportunity_move(request, opportunity_id: Id, payload: MoveIn):
    """The one stage-change path, as on the board. Lost needs `lost_reason`."""
    opportunity = queries.opportunity_get(request.user, opportunity_id)
    stage = Stage.objects.filter(code=payload.stage).first()
    if stage is None:
        raise ValidationError({"stage": [_("There is no stage with this code.")]})
    services.opportunity_move(
        request.user,
        opportunity,
        stage,
        note=payload.note,
        lost_reason=payload.lost_reason,
        competitor=payload.competitor,
    )
    return queries.opportunity_get(request.user, opportunity_id)


@router.get(
    "/opportunities/{opportunity_id}/history", response={200: list[StageChangeOut], **ERRORS}, summary="Stage history"
)
def opportunity_history(request, opportunity_id: Id):
    """Every stage change, oldest first, the opening stage included."""
    return list(queries.stage_history(queries.opportunity_get(request.user, opportunity_id)))


@router.get("/stages", response=list[StageOut], summary="Stages")
def stage_list(request):
    """The configured stages in order, with their win probabilities."""
    return queries.stages(active_only=False)


# --- forecast --------------------------------------------------------------------------------------
class ForecastRowOut(Schema):
    key: str = Field(..., description="Staff id (by owner) or org-unit path (by org unit).")
    label: str
    values: list[Decimal]
    total: Decimal


class ForecastOut(Schema):
    definition: str
    months: list[date]
    rows: list[ForecastRowOut]
    totals: list[Decimal]
    total: Decimal


@router.get("/forecast", response={200: ForecastOut, **ERRORS}, summary="Weighted pipeline forecast")
def forecast(request, start: date | None = None, months: int = 3, by: Literal["owner", "org_unit"] = "owner"):
    """Expected revenue per month = (one-time + monthly amount) × stage probability, in the month the
    opportunity is expected to close, over open opportunities you can see. `start` defaults to next month."""
    if not 1 <= months <= 24:
        raise ValidationError({"months": [_("Give 1 to 24 months.")]})
    table = queries.forecast(request.user, start=start, months=months, by=by)
    return {
        "definition": str(queries.FORECAST_DEFINITION),
        "months": table.months,
        "rows": [{"key": str(r.key), "label": r.label, "values": r.values, "total": r.total} for r in table.rows],
        "totals": table.totals,
        "total": table.total,
    }


# --- large lead imports (services.lead_import_start) ------------------------------------------------------
@router.get("/lead-imports/{lead_run_id}", response={200: LeadImportRunOut, **ERRORS}, summary="A large lead import")
def lead_import_run(request, lead_run_id: Id):
    return queries.lead_import_run_get(request.user, lead_run_id)


@router.get(
    "/lead-imports/{lead_run_id}/errors",
    response={200: None, **ERRORS},
    summary="A large lead import's error report",
    description="CSV (UTF-8 with BOM): row (1 = the first data row), name, field and problem, one line per problem.",
)
def lead_import_errors(request, lead_run_id: Id):
    run, path = queries.lead_import_error_report(request.user, lead_run_id)
    return csv_download(path, f"lead-import-{run.pk}-errors.csv")


# --- reference cases (标杆案例) ---------------------------------------------------------------------
class CaseOut(Schema):
    id: int
    title: str
    customer: int | None = Field(..., description="The customer's id, only for a reader who may see it.")
    customer_name: str = from_attr(
        "customer_label", description="Its name for a reader who may see it, else the anonymised name."
    )
    names_customer: bool = Field(..., description="Whether `customer_name` is the real name.")
    industry: str = from_attr("industry_id")
    region: int = from_attr("org_unit_id", description="The customer's org unit (GET /org-units).")
    region_name: str = from_attr("org_unit.name")
    products: list[int]
    value: Decimal = Field(..., description="First-year value of the won opportunity (yuan): monthly × 12 + once.")
    what_won: str
    published_by: int | None = from_attr("published_by_id")
    created_at: datetime

    @staticmethod
    def resolve_customer(obj) -> int | None:
        return obj.customer_id if obj.names_customer else None

    @staticmethod
    def resolve_products(obj) -> list[int]:
        return [product.pk for product in obj.products.all()]


class CaseFilterIn(Schema):
    search: str | None = Field(None, description="Words of the title, the story or the anonymised name.")
    industry: str | None = Field(None, description="Industry code.")
    product: int | None = Field(None, description="Product id.")
    region: str | None = Field(None, description="Org unit code: the cases of that unit and below.")


class CasePublishIn(Schema):
    title: str
    what_won: str
    public_name: str = Field("", description="What readers outside the customer's scope read instead of its name.")
    products: list[int] = Field([], description="Only when the opportunity has no product lines.", max_length=50)


@router.get("/reference-cases", response={200: list[CaseOut], 400: ErrorOut}, summary="List reference cases")
@paginate(Page)
def case_list(request, filters: Query[CaseFilterIn]):
    """The cases of the caller's province, largest value first; the customer named only within the caller's scope."""
    return filtered(queries.case_list, request.user, filters)


@router.get("/reference-cases/{case_id}", response={200: CaseOut, **ERRORS}, summary="Get a reference case")
def case_get(request, case_id: Id):
    return queries.case_get(request.user, case_id)


@router.post(
    "/opportunities/{opportunity_id}/reference-case",
    response={201: CaseOut, **ERRORS},
    summary="Publish a won opportunity as a reference case",
)
def case_publish(request, opportunity_id: Id, payload: CasePublishIn):
    """Only a won opportunity, once; the title, story and anonymised name may not name the customer."""
    from jiketong.catalog.models import Product

    opportunity = queries.opportunity_get(request.user, opportunity_id)
    data = payload.model_dump()
    products = Product.objects.in_bulk(data["products"])
    if len(products) != len(set(data["products"])):
        raise ValidationError({"products": [_("There is no product with this id.")]})
    data["products"] = list(products.values())
    case = services.case_publish(actor=request.user, opportunity=opportunity, **data)
    return Status(201, queries.case_get(request.user, case.pk))
