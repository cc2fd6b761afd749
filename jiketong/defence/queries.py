"""Every read of the defence app, scoped to the user (`visible_to`): the board, plans, the attack log, the
win-back list and the reports."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Substr, TruncMonth
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from jiketong.analytics.periods import add_months, month_start
from jiketong.billing.models import CustomerMonth
from jiketong.customers.models import Competitor, CompetitorPresence, Customer, Industry
from jiketong.org.models import OrgUnit, staff_of
from jiketong.work.models import Activity

from .filters import BoardFilter, GroupRiskFilter, PlanFilter, WinBackFilter
from .models import (
    Attack,
    ChainCode,
    Countermeasure,
    GroupRisk,
    GroupRiskUnit,
    Outcome,
    Plan,
    PlanKind,
    PlanStatus,
    RiskSetKind,
    Threat,
    WinBack,
)


def _open_defence_plan() -> Exists:
    return Exists(
        Plan.objects.filter(customer_id=OuterRef("customer_id"), kind=PlanKind.DEFENCE, status=PlanStatus.OPEN)
    )


def board(user, params=None) -> tuple[BoardFilter, QuerySet[Threat]]:
    """The user's threatened customers, highest value at risk first (the board's rows are kept facts: the page
    reads one page of them off the (value at risk) index, with their customer, unit and manager joined)."""
    queryset = (
        Threat.objects.visible_to(user)
        .select_related("customer", "customer__org_unit", "customer__owner")
        .annotate(has_plan=_open_defence_plan())
        .order_by("-value_at_risk", "id")
    )
    board_filter = BoardFilter(params or None, queryset=queryset, user=user)
    return board_filter, board_filter.qs


def threat_of(user, customer_id: int) -> Threat | None:
    return Threat.objects.visible_to(user).filter(customer_id=customer_id).first()


def plans(user, params=None) -> tuple[PlanFilter, QuerySet[Plan]]:
    queryset = Plan.objects.visible_to(user).select_related("customer", "customer__org_unit", "owner")
    plan_filter = PlanFilter(params or None, queryset=queryset.order_by("-created_at", "-id"), user=user)
    return plan_filter, plan_filter.qs


def plans_of(user, customer_id: int) -> QuerySet[Plan]:
    return Plan.objects.visible_to(user).filter(customer_id=customer_id).select_related("owner")


def plan_get(user, pk: int) -> Plan:
    return get_object_or_404(
        Plan.objects.visible_to(user).select_related("customer", "customer__org_unit", "owner", "task", "lost_product"),
        pk=pk,
    )


def countermeasure_get(user, pk: int) -> Countermeasure:
    return get_object_or_404(Countermeasure.objects.visible_to(user).select_related("plan"), pk=pk)


def attacks_of(user, customer_id: int) -> QuerySet[Attack]:
    return Attack.objects.visible_to(user).filter(customer_id=customer_id).select_related("observed_by")


def presences_of(user, customer_id: int) -> QuerySet[CompetitorPresence]:
    return CompetitorPresence.objects.visible_to(user).filter(customer_id=customer_id)


def winbacks(user, params=None) -> tuple[WinBackFilter, QuerySet[WinBack]]:
    """Churned customers to win back, latest churned first; with their last contact (any activity), read for
    the page's rows only."""
    last_contact = (
        Activity.objects.filter(customer_id=OuterRef("customer_id")).order_by("-happened_at").values("happened_at")[:1]
    )
    queryset = (
        WinBack.objects.visible_to(user)
        .select_related("customer", "customer__org_unit", "customer__owner")
        .annotate(last_contact=Subquery(last_contact))
        .order_by("won_back_on", "-churned_on", "id")
    )
    data = params.copy() if params is not None and hasattr(params, "copy") else dict(params or {})
    if not data.get("won"):
        data["won"] = "no"
    winback_filter = WinBackFilter(data, queryset=queryset, user=user)
    return winback_filter, winback_filter.qs


# --- reports ------------------------------------------------------------------------------------------
def _home(user) -> OrgUnit:
    staff = staff_of(user)
    return staff.org_unit if staff is not None else OrgUnit.get_first_root_node()


def report_range(start: date | None, end: date | None) -> tuple[date, date]:
    """Months from `start` to `end` (first days); default the 12 months to this one."""
    end = month_start(end or date.today())
    start = month_start(start) if start else add_months(end, -11)
    return (start, end) if start <= end else (end, start)


def report(user, start: date, end: date) -> dict:
    """Losses per competitor, product, area and month; defence success per area; each competitor's presence by
    industry and by area. Grouped in the database over the plans closed in the months (a few hundred rows per
    province and year) and the presence rows in scope."""
    home = _home(user)
    width = (home.depth + 1) * OrgUnit.steplen
    closed = Plan.objects.visible_to(user).filter(
        status=PlanStatus.CLOSED, closed_on__gte=start, closed_on__lt=add_months(end, 1)
    )
    lost = closed.filter(outcome__in=[Outcome.LOST, Outcome.PARTLY])
    measures = {"customers": Count("customer", distinct=True), "revenue": Sum("revenue_lost")}

    def grouped(queryset, key) -> list[dict]:
        rows = queryset.annotate(_key=key).values("_key").annotate(**measures).order_by("-revenue", "_key")
        return list(rows)

    area = Substr(F("customer__org_unit__path"), 1, width)
    by_competitor = grouped(lost, F("lost_to"))
    by_product = grouped(lost, F("lost_product__name"))
    by_area = grouped(lost, area)
    by_month = sorted(grouped(lost, TruncMonth("closed_on")), key=lambda row: row["_key"])
    success = list(
        closed.filter(kind=PlanKind.DEFENCE)
        .annotate(_key=area)
        .values("_key")
        .annotate(
            closed=Count("pk"),
            kept=Count("pk", filter=Q(outcome=Outcome.KEPT)),
            partly=Count("pk", filter=Q(outcome=Outcome.PARTLY)),
            lost=Count("pk", filter=Q(outcome=Outcome.LOST)),
        )
        .order_by("_key")
    )
    totals = {name: sum(row[name] for row in success) for name in ("closed", "kept", "partly", "lost")}
    presences = CompetitorPresence.objects.visible_to(user)
    by_industry = list(
        presences.values("competitor", _key=F("customer__industry_id"))
        .annotate(customers=Count("customer", distinct=True))
        .order_by("competitor", "_key")
    )
    presence_area = list(
        presences.annotate(_key=area)
        .values("competitor", "_key")
        .annotate(customers=Count("customer", distinct=True))
        .order_by("competitor", "_key")
    )
    units = {row["_key"] for row in [*by_area, *success, *presence_area]}
    unit_names = dict(OrgUnit.objects.filter(path__in=units).values_list("path", "name"))
    industries = dict(Industry.objects.values_list("code", "name"))
    competitors = dict(Competitor.choices)
    for row in by_competitor:
        row["label"] = competitors.get(row["_key"], row["_key"]) or "—"
    for row in by_product:
        row["label"] = row["_key"] or "—"
    for row in [*by_area, *success, *presence_area]:
        row["label"] = unit_names.get(row["_key"], row["_key"])
    for row in by_month:
        row["label"] = f"{row['_key']:%Y-%m}" if row["_key"] else "—"
    for row in by_industry:
        row["label"] = industries.get(row["_key"], row["_key"])
    for row in [*by_industry, *presence_area]:
        row["competitor_label"] = competitors.get(row["competitor"], row["competitor"])
    for row in success:
        row["rate"] = _rate(row["kept"], row["closed"])
    return {
        "start": start,
        "end": end,
        "by_competitor": by_competitor,
        "by_product": by_product,
        "by_area": by_area,
        "by_month": by_month,
        "success": success,
        "totals": totals,
        "success_rate": _rate(totals["kept"], totals["closed"]),
        "presence_industry": by_industry,
        "presence_area": presence_area,
        "lost_customers": lost.aggregate(n=Count("customer", distinct=True))["n"],
        "lost_revenue": lost.aggregate(s=Sum("revenue_lost"))["s"] or Decimal(0),
    }


def _rate(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


# --- one group, one risk (decision 0802) ----------------------------------------------------------------
GROUP_LINES = {
    (RiskSetKind.GROUP, ChainCode.CHURN): gettext_lazy("Group unit %(unit)s has a churn warning"),
    (RiskSetKind.GROUP, ChainCode.THREAT): gettext_lazy("Group unit %(unit)s is under a high competitor threat"),
    (RiskSetKind.GROUP, ChainCode.ARREARS): gettext_lazy("Group unit %(unit)s is in arrears"),
    (RiskSetKind.AFFILIATED, ChainCode.CHURN): gettext_lazy("Affiliated company %(unit)s has a churn warning"),
    (RiskSetKind.AFFILIATED, ChainCode.THREAT): gettext_lazy(
        "Affiliated company %(unit)s is under a high competitor threat"
    ),
    (RiskSetKind.AFFILIATED, ChainCode.ARREARS): gettext_lazy("Affiliated company %(unit)s is in arrears"),
}
HIDDEN_LINES = {
    (RiskSetKind.GROUP, ChainCode.CHURN): ngettext_lazy(
        "%(count)d group unit outside your scope has a churn warning",
        "%(count)d group units outside your scope have a churn warning",
        "count",
    ),
    (RiskSetKind.GROUP, ChainCode.THREAT): ngettext_lazy(
        "%(count)d group unit outside your scope is under a high competitor threat",
        "%(count)d group units outside your scope are under a high competitor threat",
        "count",
    ),
    (RiskSetKind.GROUP, ChainCode.ARREARS): ngettext_lazy(
        "%(count)d group unit outside your scope is in arrears",
        "%(count)d group units outside your scope are in arrears",
        "count",
    ),
    (RiskSetKind.AFFILIATED, ChainCode.CHURN): ngettext_lazy(
        "%(count)d affiliated company outside your scope has a churn warning",
        "%(count)d affiliated companies outside your scope have a churn warning",
        "count",
    ),
    (RiskSetKind.AFFILIATED, ChainCode.THREAT): ngettext_lazy(
        "%(count)d affiliated company outside your scope is under a high competitor threat",
        "%(count)d affiliated companies outside your scope are under a high competitor threat",
        "count",
    ),
    (RiskSetKind.AFFILIATED, ChainCode.ARREARS): ngettext_lazy(
        "%(count)d affiliated company outside your scope is in arrears",
        "%(count)d affiliated companies outside your scope are in arrears",
        "count",
    ),
}


def _hidden_line(kind: str, code: str, count: int) -> str:
    return HIDDEN_LINES[(kind, code)] % {"count": count}


def _visible_units(user) -> QuerySet[GroupRiskUnit]:
    return GroupRiskUnit.objects.visible_to(user)


def _group_queryset(user) -> QuerySet[GroupRisk]:
    return GroupRisk.objects.visible_to(user).select_related("head", "head__org_unit")


def with_reader_fields(queryset: QuerySet[GroupRisk], user) -> QuerySet[GroupRisk]:
    """Per row, what the reader may read of it (the export: one statement for all rows): whether the head is in
    scope and how many units the reader sees. Pages get the same from `decorate`, for their rows only, so the
    count of a page never evaluates these per row."""
    seen = (
        _visible_units(user)
        .filter(risk_id=OuterRef("pk"))
        .order_by()
        .values("risk_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    head_visible = Exists(Customer.objects.visible_to(user).filter(pk=OuterRef("head_id")))
    return queryset.annotate(head_visible=head_visible, units_seen=Coalesce(Subquery(seen), 0))


def group_risks(user, params=None) -> tuple[GroupRiskFilter, QuerySet[GroupRisk]]:
    """The group risk view: the sets of which the user sees a unit, highest value at risk first (kept rows read
    off the (value at risk) index, like the board)."""
    queryset = _group_queryset(user).order_by("-value_at_risk", "id")
    group_filter = GroupRiskFilter(params or None, queryset=queryset, user=user)
    return group_filter, group_filter.qs


def group_risk_get(user, pk: int) -> GroupRisk:
    return get_object_or_404(_group_queryset(user), pk=pk)


def group_risks_of(user, customer_id: int) -> list[GroupRisk]:
    """The group and the affiliated set a customer the user sees belongs to (its 360 page's panel)."""
    sets = GroupRiskUnit.objects.filter(customer_id=customer_id).values("risk_id")
    return list(_group_queryset(user).filter(pk__in=sets).order_by("kind", "id"))


def decorate(user, rows: list[GroupRisk], *, viewer_unit: int | None = None) -> list[GroupRisk]:
    """Put each set's chained warnings into words for this reader (two queries for the whole page): units the
    reader sees are named, the others counted per reason; `viewer_unit`'s own warnings are left out (its 360
    page shows them). Sets `lines`, `units_hidden` and `title` (the head's name, or words saying it is out of
    scope)."""
    ids = {entry["unit"] for row in rows for entry in row.chain} | {row.head_id for row in rows}
    names = dict(Customer.objects.visible_to(user).filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    seen = dict(
        _visible_units(user)
        .filter(risk_id__in=[row.pk for row in rows])
        .order_by()
        .values("risk_id")
        .annotate(n=Count("pk"))
        .values_list("risk_id", "n")
    )
    for row in rows:
        row.head_visible = row.head_id in names
        row.units_seen = seen.get(row.pk, 0)
        lines, hidden = [], defaultdict(int)
        for entry in row.chain:
            unit, code = entry["unit"], entry["code"]
            if unit == viewer_unit:
                continue
            if unit in names:
                lines.append(GROUP_LINES[(row.kind, code)] % {"unit": names[unit]})
            else:
                hidden[code] += 1
        lines += [_hidden_line(row.kind, code, count) for code, count in hidden.items()]
        row.lines = lines
        row.units_hidden = max(row.units - row.units_seen, 0)
        if row.head_visible:
            row.title = row.head.name
        elif row.kind == RiskSetKind.AFFILIATED:
            row.title = _("Affiliated set (its first company is outside your scope)")
        else:
            row.title = _("Group head outside your scope")
        row.trend_values = [Decimal(value) for _month, value in row.trend]
    return rows


def group_units(user, risk: GroupRisk, limit: int = 50) -> list[Customer]:
    """The units of a set the user sees (at most `limit`), head first, with their newest month's revenue."""
    from .services import latest_month

    units = list(
        Customer.objects.visible_to(user)
        .filter(pk__in=GroupRiskUnit.objects.filter(risk=risk).values("customer_id"))
        .select_related("org_unit", "owner")
        .order_by("path")[:limit]
    )
    period = latest_month()
    revenue = {}
    if period is not None and units:
        revenue = dict(
            CustomerMonth.objects.filter(customer_id__in=[u.pk for u in units], period=period).values_list(
                "customer_id", "revenue"
            )
        )
    for unit in units:
        unit.latest_revenue = revenue.get(unit.pk)
    return units
