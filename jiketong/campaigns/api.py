"""REST endpoints of campaigns and cross-sell. Thin: reads through queries (scoped; out of scope answers 404),
writes through services."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import Http404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from jiketong.api.base import ErrorOut, Id, Page, from_attr
from jiketong.catalog.models import Product
from jiketong.customers import queries as customer_queries
from jiketong.org.models import OrgUnit

from . import queries, services
from .models import Campaign, TargetStatus

router = Router(tags=["campaigns"])
ERRORS = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class CampaignOut(Schema):
    id: int
    name: str
    goal: str
    audience: str
    status: str
    starts_on: date
    ends_on: date
    budget: Decimal
    owner: int = from_attr("owner_id")
    org_unit: int = from_attr("org_unit_id")
    criteria: dict
    targets_count: int = Field(..., description="Customers on the whole list (every reader's count).")
    members_count: int = Field(..., description="Members the whole list reaches (打线).")
    progress: int


class ResultOut(Schema):
    label: str
    targets: int
    reached: int
    responded: int
    converted: int
    leads: int
    revenue: Decimal = Field(..., description="Monthly revenue gained, yuan.")
    members_listed: int
    members_reached: int
    cost_per_conversion: Decimal | None


class ResultsOut(Schema):
    total: ResultOut
    by_unit: list[ResultOut]
    by_manager: list[ResultOut]


class TargetOut(Schema):
    id: int
    customer: int = from_attr("customer_id")
    customer_name: str = from_attr("customer.name")
    manager: int | None = from_attr("manager_id", None)
    members: int
    status: str
    lead: int | None = from_attr("lead_id", None)
    order: int | None = from_attr("order_id", None)
    revenue: Decimal


class ResponseIn(Schema):
    outcome: str = Field(..., description="contacted, interested, declined or converted")
    note: str = ""
    make_lead: bool = Field(False, description="With an interested customer: open a lead (营销活动).")
    products: list[Id] = Field(
        default_factory=list, description="Ordered products (converted); default: the campaign's."
    )


class OfferOut(Schema):
    rank: int
    product: int = from_attr("product_id")
    product_name: str = from_attr("product.name")
    share: Decimal
    peers: int
    holders: int
    reason: str


class WhitespaceIn(Schema):
    product: Id
    region: str | None = Field(None, description="Org unit code: its whole subtree.")
    industry: str | None = None


class WhitespaceOut(Schema):
    customer: int = from_attr("customer_id")
    customer_name: str = from_attr("customer.name")
    revenue: Decimal = Field(..., description="Revenue of the last billed month, yuan.")


@router.get("/campaigns", response={200: list[CampaignOut]}, summary="Campaigns")
@paginate(Page)
def campaign_list(request):
    return queries.campaigns(request.user)


@router.get("/campaigns/{campaign_id}", response={200: CampaignOut, **ERRORS}, summary="A campaign")
def campaign_detail(request, campaign_id: Id):
    return queries.campaign_get(request.user, campaign_id)


@router.get("/campaigns/{campaign_id}/results", response={200: ResultsOut, **ERRORS}, summary="A campaign's results")
def campaign_results(request, campaign_id: Id):
    return queries.results(request.user, queries.campaign_get(request.user, campaign_id))


@router.get("/campaigns/{campaign_id}/targets", response={200: list[TargetOut], **ERRORS}, summary="Targets")
@paginate(Page)
def campaign_targets(request, campaign_id: Id, mine: bool = False):
    return queries.targets(request.user, queries.campaign_get(request.user, campaign_id), mine=mine)


@router.post(
    "/campaigns/{campaign_id}/targets/{campaign_target_id}/responses",
    response={201: TargetOut, **ERRORS},
    summary="Record a contact and the customer's response",
)
def target_respond(request, campaign_id: Id, campaign_target_id: Id, payload: ResponseIn):
    campaign: Campaign = queries.campaign_get(request.user, campaign_id)
    target = queries.target_get(request.user, campaign, campaign_target_id)
    if payload.outcome not in TargetStatus.values:
        raise ValidationError({"outcome": ["Unknown outcome."]})
    products = list(Product.objects.filter(pk__in=payload.products, is_active=True))
    services.response_record(actor=request.user, target=target, outcome=payload.outcome, note=payload.note,
                             make_lead=payload.make_lead, products=products)  # fmt: skip
    return 201, queries.target_get(request.user, campaign, campaign_target_id)


@router.get("/crosssell/customers/{customer_id}", response={200: list[OfferOut], **ERRORS},
            summary="A customer's next best offers")  # fmt: skip
def customer_offers(request, customer_id: Id):
    customer_queries.customer_get(request.user, customer_id)
    return queries.offers_for(request.user, customer_id)


@router.get("/whitespace", response={200: list[WhitespaceOut], **ERRORS}, summary="Customers without a product")
@paginate(Page)
def whitespace(request, filters: Query[WhitespaceIn]):
    product = Product.objects.filter(pk=filters.product).first()
    if product is None:
        raise Http404
    region = OrgUnit.objects.filter(code=filters.region).first() if filters.region else None
    return queries.whitespace(request.user, product, region=region, industry=filters.industry or "")
