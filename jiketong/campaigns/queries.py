"""Every read of campaigns and cross-sell, scoped to the user (`visible_to`): out of scope answers 404.

The results' definitions (docs/campaigns.md, and next to the figures on the campaign page):
- targets: customers on the list that the reader sees;
- reached: targets with at least one contact recorded (any outcome);
- responded: targets whose customer answered: interested, declined or converted;
- converted: targets that ordered (an order in one step, or their campaign lead's opportunity was won);
- leads: targets whose response opened a lead;
- revenue gained: the monthly value of the conversions (the order's quote total, or the won opportunity's
  monthly amount), yuan a month;
- cost per conversion: the budget ÷ conversions; for a unit or a manager, the budget shared by targets
  (budget × their targets ÷ the campaign's targets) ÷ their conversions; none without conversions;
- members reached (打线): the members of the reached targets the campaign's rule selects (a customer campaign
  counts none), against the members on the list.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.shortcuts import get_object_or_404

from jiketong.billing.models import CustomerMonth
from jiketong.catalog.models import Product, Subscription, SubscriptionStatus
from jiketong.core.money import yuan
from jiketong.core.trees import subtree
from jiketong.org.models import OrgUnit, staff_of
from jiketong.org.scope import customer_scope

from . import bands
from .models import RESPONDED, Campaign, CampaignTarget, CrossSellOffer, TargetStatus
from .targeting import IN_SERVICE


def campaigns(user, status: str = ""):
    queryset = Campaign.objects.visible_to(user).select_related("owner", "org_unit")
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-starts_on", "-id")


def campaign_get(user, pk: int) -> Campaign:
    return get_object_or_404(
        Campaign.objects.visible_to(user).select_related("owner", "org_unit").prefetch_related("products"), pk=pk
    )


def targets(user, campaign: Campaign, *, mine: bool = False, status: str = ""):
    """The campaign's targets the user sees (a manager: their customers), biggest member reach first."""
    queryset = (
        CampaignTarget.objects.visible_to(user)
        .filter(campaign=campaign)
        .select_related("customer", "manager", "org_unit", "lead", "order")
    )
    if mine:
        staff = staff_of(user)
        queryset = queryset.filter(manager_id=getattr(staff, "pk", None))
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("status", "-members", "id")


def target_get(user, campaign: Campaign, pk: int) -> CampaignTarget:
    return get_object_or_404(
        CampaignTarget.objects.visible_to(user).select_related("customer", "campaign", "manager"),
        campaign=campaign, pk=pk,
    )  # fmt: skip


REACHED = ~Q(status=TargetStatus.PENDING)
MEASURES = {
    "targets": Count("pk"),
    "reached": Count("pk", filter=REACHED),
    "responded": Count("pk", filter=Q(status__in=RESPONDED)),
    "converted": Count("pk", filter=Q(status=TargetStatus.CONVERTED)),
    "leads": Count("pk", filter=Q(lead__isnull=False)),
    "revenue": Sum("revenue", filter=Q(status=TargetStatus.CONVERTED)),
    "members_listed": Sum("members"),
    "members_reached": Sum("members", filter=REACHED),
}


@dataclass
class Result:
    """One row of a campaign's results (the whole campaign, a unit or a manager)."""

    label: str
    targets: int
    reached: int
    responded: int
    converted: int
    leads: int
    revenue: Decimal
    members_listed: int
    members_reached: int
    cost_per_conversion: Decimal | None

    @property
    def response_rate(self) -> Decimal | None:
        return _rate(self.responded, self.reached)

    @property
    def conversion_rate(self) -> Decimal | None:
        return _rate(self.converted, self.targets)


def _rate(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1")) if whole else None


def _result(label: str, row: dict, budget: Decimal, all_targets: int) -> Result:
    converted = row["converted"] or 0
    share = budget * row["targets"] / all_targets if all_targets else Decimal(0)
    return Result(
        label=label, targets=row["targets"], reached=row["reached"], responded=row["responded"], converted=converted,
        leads=row["leads"], revenue=yuan(row["revenue"] or 0), members_listed=row["members_listed"] or 0,
        members_reached=row["members_reached"] or 0,
        cost_per_conversion=yuan(share / converted) if converted else None,
    )  # fmt: skip


@dataclass
class Results:
    total: Result
    by_unit: list[Result]
    by_manager: list[Result]


def results(user, campaign: Campaign) -> Results:
    """The campaign's results over the targets the user sees: three grouped queries, whatever the list's size."""
    from django.utils.translation import gettext as _

    rows = CampaignTarget.objects.visible_to(user).filter(campaign=campaign).order_by()
    budget, all_targets = campaign.budget, campaign.targets_count
    total = _result(str(_("All")), rows.aggregate(**MEASURES) | {"targets": rows.count()}, budget, all_targets)
    by_unit = [
        _result(row["org_unit__name"], row, budget, all_targets)
        for row in rows.values("org_unit__name").annotate(**MEASURES).order_by("org_unit__name")
    ]
    by_manager = [
        _result(row["manager__name"] or str(_("Unassigned")), row, budget, all_targets)
        for row in rows.values("manager__name").annotate(**MEASURES).order_by("manager__name")
    ]
    return Results(total=total, by_unit=by_unit, by_manager=by_manager)


def preview(user, campaign: Campaign):
    """The first targets of a built list (for the page), 20 at most."""
    return targets(user, campaign)[:20]


# --- cross-sell -------------------------------------------------------------------------------------
def offers_for(user, customer_id: int) -> list[CrossSellOffer]:
    """A visible customer's next best offers in rank order: one query on the (customer, rank) key."""
    return list(
        CrossSellOffer.objects.visible_to(user)
        .filter(customer_id=customer_id)
        .select_related("product", "industry")
        .order_by("rank")
    )


def whitespace(user, product: Product, *, region: OrgUnit | None = None, industry: str = ""):
    """In-service customers the user sees who do not hold `product`, most valuable first: the last billed month's
    revenue (billing.CustomerMonth, walked down its (period, -revenue) index). Customers with no bill that month
    are not in the list: there is no value to rank them by."""
    period = bands.last_billed_month()
    holds = Subscription.objects.filter(
        customer_id=OuterRef("customer_id"), product=product, status=SubscriptionStatus.ACTIVE
    )
    queryset = (
        CustomerMonth.objects.filter(period=period)
        .filter(customer_scope(user, "customer__"), customer__status__in=IN_SERVICE)
        .exclude(Exists(holds))
        .select_related("customer__org_unit", "customer__owner", "customer__industry")
        .order_by("-revenue", "customer_id")
    )
    if region is not None:
        queryset = queryset.filter(customer__org_unit__in=OrgUnit.objects.filter(subtree(region.path)).values("pk"))
    if industry:
        queryset = queryset.filter(customer__industry_id=industry)
    return queryset
