"""REST endpoints of the defence app: the board, plans and retention cases (open, close), the attack log and
the win-back list. Thin: reads through queries (scoped; out of scope answers 404), writes through services."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from jiketong.api.base import ErrorOut, Id, Page, filtered, from_attr, referenced
from jiketong.catalog.models import Product
from jiketong.customers import queries as customer_queries
from jiketong.customers.services import require_edit
from jiketong.org.models import Staff

from . import queries, services
from .models import Plan

router = Router(tags=["defence"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class ThreatOut(Schema):
    customer: int = from_attr("customer_id")
    customer_name: str = from_attr("customer.name")
    grade: str = from_attr("customer.grade")
    level: str
    competitor: str
    offer: str
    their_contract_end: date | None
    our_contract_end: date | None
    revenue: Decimal = Field(..., description="Monthly revenue at stake (yuan): the newest billed month.")
    members: int
    last_visit: date | None
    value_at_risk: Decimal = Field(..., description="A year of revenue × the threat level's weight (yuan).")
    has_plan: bool


class BoardFilterIn(Schema):
    level: str | None = None
    competitor: str | None = None
    grade: str | None = None
    region: str | None = Field(None, description="Org unit code: its whole subtree.")
    ending: str | None = Field(None, description="yes / no: their contract ends within 90 days.")
    plan: str | None = Field(None, description="yes / no: an open defence plan.")


@router.get("/defence/threats", response={200: list[ThreatOut], 400: ErrorOut}, summary="Threatened customers")
@paginate(Page)
def threat_list(request, filters: Query[BoardFilterIn]):
    """The caller's threatened customers, highest value at risk first."""
    return filtered(queries.board, request.user, filters)


class CountermeasureOut(Schema):
    id: int
    kind: str
    description: str
    owner: int = from_attr("owner_id")
    due_on: date
    status: str
    done_on: date | None


class PlanOut(Schema):
    id: int
    customer: int = from_attr("customer_id")
    kind: str
    competitor: str
    owner: int = from_attr("owner_id")
    due_on: date
    status: str
    task: int | None = from_attr("task_id")
    revenue_at_stake: Decimal
    outcome: str
    lost_to: str
    lost_product: str | None = Field(None, description="Product code.")
    revenue_kept: Decimal
    revenue_lost: Decimal
    closed_on: date | None

    @staticmethod
    def resolve_lost_product(obj) -> str | None:
        return obj.lost_product.code if obj.lost_product_id else None


class PlanDetailOut(PlanOut):
    goal: str
    outcome_note: str
    countermeasures: list[CountermeasureOut]

    @staticmethod
    def resolve_countermeasures(obj) -> list:
        return list(obj.countermeasures.all())


class PlanFilterIn(Schema):
    kind: str | None = None
    status: str | None = None
    outcome: str | None = None
    region: str | None = None


@router.get("/defence/plans", response={200: list[PlanOut], 400: ErrorOut}, summary="Defence plans and retention cases")
@paginate(Page)
def plan_list(request, filters: Query[PlanFilterIn]):
    plans = filtered(queries.plans, request.user, filters)
    return plans.select_related("lost_product")


@router.get("/defence/plans/{plan_id}", response={200: PlanDetailOut, **ERRORS}, summary="A plan with its steps")
def plan_detail(request, plan_id: Id):
    return queries.plan_get(request.user, plan_id)


class PlanIn(Schema):
    competitor: str
    due_on: date
    owner: int | None = Field(None, description="Staff id; default the customer's manager.")
    goal: str = ""


def _staff(user, pk: int | None) -> Staff | None:
    """The owner a body names, among the colleagues the caller may pick (a 400 on `owner` otherwise)."""
    if pk is None:
        return None
    return referenced(Staff.objects.visible_to(user), pk, "owner", _("No such person."))


@router.post("/defence/customers/{customer_id}/plans", response={201: PlanOut, **ERRORS}, summary="Open a defence plan")
def plan_open(request, customer_id: Id, data: PlanIn):
    customer = customer_queries.customer_get(request.user, customer_id)
    require_edit(request.user)
    plan = services.plan_open(
        actor=request.user, customer=customer, competitor=data.competitor, due_on=data.due_on,
        owner=_staff(request.user, data.owner), goal=data.goal,
    )  # fmt: skip
    return Status(201, plan)


class CloseIn(Schema):
    outcome: str = Field(..., description="kept, partly or lost.")
    lost_to: str = ""
    lost_product: str | None = Field(None, description="Product code.")
    revenue_kept: Decimal | None = None
    revenue_lost: Decimal | None = None
    note: str = ""


@router.post(
    "/defence/plans/{plan_id}/close", response={200: PlanOut, **ERRORS}, summary="Close a plan with its outcome"
)
def plan_close(request, plan_id: Id, data: CloseIn):
    plan = queries.plan_get(request.user, plan_id)
    product = Product.objects.filter(code=data.lost_product).first() if data.lost_product else None
    if data.lost_product and product is None:
        raise ValidationError({"lost_product": [_("No product has this code.")]})
    fields = data.model_dump(exclude={"lost_product"})
    plan = services.plan_close(actor=request.user, plan=plan, lost_product=product, **fields)
    return Plan.objects.select_related("lost_product").get(pk=plan.pk)


class AttackIn(Schema):
    competitor: str
    kind: str
    description: str
    threat: str = "medium"
    observed_on: date
    members_targeted: int | None = Field(None, ge=0)


class AttackOut(Schema):
    id: int
    customer: int = from_attr("customer_id")
    competitor: str
    kind: str
    description: str
    threat: str
    observed_on: date
    members_targeted: int | None


@router.get("/defence/customers/{customer_id}/attacks", response={200: list[AttackOut], **ERRORS}, summary="Attack log")
@paginate(Page)
def attack_list(request, customer_id: Id):
    customer = customer_queries.customer_get(request.user, customer_id)
    return queries.attacks_of(request.user, customer.pk)


@router.post(
    "/defence/customers/{customer_id}/attacks", response={201: AttackOut, **ERRORS}, summary="Log a competitor action"
)
def attack_create(request, customer_id: Id, data: AttackIn):
    customer = customer_queries.customer_get(request.user, customer_id)
    return Status(201, services.attack_record(actor=request.user, customer=customer, **data.model_dump()))


class WinBackOut(Schema):
    customer: int = from_attr("customer_id")
    customer_name: str = from_attr("customer.name")
    churned_on: date
    last_products: str
    last_revenue: Decimal
    competitor: str
    won_back_on: date | None


class WinBackFilterIn(Schema):
    won: str | None = Field(None, description="yes: won back; no (default): still to win back.")
    competitor: str | None = None
    grade: str | None = None
    region: str | None = None


@router.get("/defence/win-back", response={200: list[WinBackOut], 400: ErrorOut}, summary="Customers to win back")
@paginate(Page)
def winback_list(request, filters: Query[WinBackFilterIn]):
    return filtered(queries.winbacks, request.user, filters)


# --- one group, one risk ---------------------------------------------------------------------------------
class GroupRiskOut(Schema):
    id: int
    kind: str = Field(..., description="group (a head and all its units) or affiliated (an affiliated set).")
    head: int | None = Field(None, description="The head's customer id; null when the head is outside your scope.")
    title: str = Field(..., description="The head's name, or words saying it is outside your scope.")
    units: int = Field(..., description="Every unit of the set, in your scope or not.")
    units_hidden: int = Field(..., description="Units outside your scope: counted in the totals, never named.")
    revenue: Decimal = Field(..., description="The newest billed month's revenue of all units (yuan).")
    revenue_change_pct: Decimal | None = Field(None, description="Against 3 months before, per cent.")
    trend: list[tuple[str, Decimal]] = Field(..., description="[month, revenue] of the last 12 months.")
    members: int
    arrears_units: int
    arrears_revenue: Decimal
    open_complaints: int
    contracts_expiring: int = Field(..., description="Our contracts in force ending within 90 days.")
    next_contract_end: date | None
    churn_max: int | None = Field(None, description="The highest churn score of the units.")
    churn_units: int = Field(..., description="Units with a churn warning (high risk).")
    competitor_units: int
    competitor_high_units: int
    risks: list[str] = Field(..., description="revenue, arrears, churn, competitor, complaints, contracts.")
    chain: list[str] = Field(..., description="The chained warnings (连锁联动) in words, for you.")
    value_at_risk: Decimal = Field(..., description="A year of the at-risk units' revenue plus the decline (yuan).")

    @staticmethod
    def resolve_head(obj) -> int | None:
        return obj.head_id if obj.head_visible else None

    @staticmethod
    def resolve_trend(obj) -> list:
        return [(month, Decimal(value)) for month, value in obj.trend]

    @staticmethod
    def resolve_risks(obj) -> list[str]:
        names = ("revenue", "arrears", "churn", "competitor", "complaints", "contracts")
        return [name for name in names if getattr(obj, f"risk_{name}")]

    @staticmethod
    def resolve_chain(obj) -> list[str]:
        return [str(line) for line in obj.lines]


class GroupRiskFilterIn(Schema):
    kind: str | None = Field(None, description="group or affiliated.")
    risk: str | None = Field(None, description="revenue, arrears, churn, competitor, complaints, contracts or chain.")
    region: str | None = Field(None, description="Org unit code: sets with a unit in its subtree.")
    industry: str | None = Field(None, description="Industry code of the head.")
    grade: str | None = Field(None, description="Grade letter of the head.")


class _GroupPage(Page):
    """The list helper's page (count up to the cap), its rows' chained warnings put into words for the caller
    (one query for the page)."""

    def paginate_queryset(self, queryset, pagination, **params):
        page = super().paginate_queryset(queryset, pagination, **params)
        page["items"] = queries.decorate(params["request"].user, list(page["items"]))
        return page


@router.get("/defence/groups", response={200: list[GroupRiskOut], 400: ErrorOut}, summary="Group risk")
@paginate(_GroupPage)
def group_list(request, filters: Query[GroupRiskFilterIn]):
    """Groups and affiliated sets of which you see a unit, highest value at risk first; totals over every unit."""
    return filtered(queries.group_risks, request.user, filters)


@router.get("/defence/groups/{group_id}", response={200: GroupRiskOut, **ERRORS}, summary="One group's risk")
def group_detail(request, group_id: Id):
    return queries.decorate(request.user, [queries.group_risk_get(request.user, group_id)])[0]
