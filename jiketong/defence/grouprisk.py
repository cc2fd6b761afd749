"""One group, one risk (issue 13 item 2, DOMAIN §4 and §12, decision 0802): a group head with all its units and
an affiliated set (关联关系) rolled up into one `GroupRisk` row each — revenue and its 12-month trend, arrears,
members, open complaints, contracts expiring, churn risk and competitor presence summed over every unit, in
scope of the reader or not — and the chained warnings (连锁联动) of its units.

Kept, not computed per request: the whole set at night (`refresh()`, chunks of sets, a handful of grouped
queries per chunk) and the sets of one customer when an event concerns it (`refresh([customer_id])`).
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from jiketong.analytics.periods import add_months
from jiketong.billing.models import CustomerMonth
from jiketong.churn.models import ChurnScore, RiskLevel
from jiketong.core.trees import _upper_bound, subtree
from jiketong.customers.models import Affiliation, CompetitorPresence, Customer, ThreatLevel
from jiketong.deals.models import IN_FORCE, Contract
from jiketong.service.models import OPEN_STATUSES, Ticket, TicketType

from .models import ChainCode, GroupRisk, GroupRiskUnit, RiskSetKind, Threat

# A group's or set's revenue down by this share over 3 months is a revenue decline (setting
# DEFENCE_GROUP_DECLINE_PCT, per cent).
DEFAULT_DECLINE_PCT = Decimal("10")
CONTRACT_DAYS = 90
MONTHS = 12
UNITS_PER_CHUNK = 5000  # customers whose facts are read together (IN lists stay bounded)
SETS_PER_CHUNK = 2000
CHAIN_MAX = 20  # chained warnings kept per set
STEP = Customer.steplen


def decline_pct() -> Decimal:
    return Decimal(str(getattr(settings, "DEFENCE_GROUP_DECLINE_PCT", DEFAULT_DECLINE_PCT)))


@dataclass
class UnitFacts:
    """One customer's facts as the roll-up needs them."""

    trend: dict[date, Decimal] = field(default_factory=dict)
    members: int = 0
    members_before: int = 0
    arrears: bool = False
    complaints: int = 0
    expiring: int = 0
    next_end: date | None = None
    churn_score: int | None = None
    warned: bool = False
    competitors: int = 0
    high_threat: bool = False


# --- which sets ----------------------------------------------------------------------------------------
def _group_chunks() -> Iterator[dict[tuple[str, int], list[int]]]:
    """Every group head (a top-level customer with units) with all its units, SETS_PER_CHUNK heads at a time:
    the units of consecutive heads are one range of the materialised path, read in one query."""
    heads = list(Customer.objects.filter(depth=1, numchild__gt=0).order_by("path").values_list("pk", "path"))
    for start in range(0, len(heads), SETS_PER_CHUNK):
        chunk = heads[start : start + SETS_PER_CHUNK]
        by_path = {path: pk for pk, path in chunk}
        sets: dict[tuple[str, int], list[int]] = {(RiskSetKind.GROUP, pk): [] for pk, _path in chunk}
        span = Q(path__gte=chunk[0][1])
        if upper := _upper_bound(chunk[-1][1]):
            span &= Q(path__lt=upper)
        rows = Customer.objects.filter(span).values_list("pk", "path")
        for pk, path in rows.order_by("path").iterator(chunk_size=10_000):
            head = by_path.get(path[:STEP])
            if head is not None:
                sets[(RiskSetKind.GROUP, head)].append(pk)
        yield sets


def _affiliated_sets() -> dict[tuple[str, int], list[int]]:
    """The affiliated sets: customers linked by affiliations, directly or through others (connected
    components, any direction), keyed by their lowest customer id."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in Affiliation.objects.values_list("customer_id", "related_id").iterator(chunk_size=10_000):
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    members: dict[int, list[int]] = defaultdict(list)
    for x in parent:
        members[find(x)].append(x)
    return {(RiskSetKind.AFFILIATED, min(m)): sorted(m) for m in members.values() if len(m) > 1}


def _sets_of(customer_ids: Iterable[int]) -> dict[tuple[str, int], list[int]]:
    """The sets these customers are in now: their group (by path) and the affiliated sets already rolled up
    (a new or broken affiliation regroups the sets at night)."""
    sets: dict[tuple[str, int], list[int]] = {}
    ids = list(customer_ids)
    roots = {path[:STEP] for path in Customer.objects.filter(pk__in=ids).values_list("path", flat=True)}
    for pk, path in Customer.objects.filter(path__in=roots, numchild__gt=0).values_list("pk", "path"):
        sets[(RiskSetKind.GROUP, pk)] = list(
            Customer.objects.filter(subtree(path)).order_by("path").values_list("pk", flat=True)
        )
    affiliated = GroupRiskUnit.objects.filter(customer_id__in=ids, risk__kind=RiskSetKind.AFFILIATED).values("risk_id")
    for head, customer_id in GroupRiskUnit.objects.filter(risk_id__in=affiliated).values_list(
        "risk__head_id", "customer_id"
    ):
        sets.setdefault((RiskSetKind.AFFILIATED, head), []).append(customer_id)
    return sets


# --- the facts -----------------------------------------------------------------------------------------
def _facts(ids: list[int], today: date, period: date | None) -> dict[int, UnitFacts]:
    """The facts of these customers: seven grouped queries, whatever their number (≤ UNITS_PER_CHUNK)."""
    facts = {pk: UnitFacts() for pk in ids}
    if period is not None:
        first, before = add_months(period, -(MONTHS - 1)), add_months(period, -3)
        for pk, month, revenue, members, arrears in CustomerMonth.objects.filter(
            customer_id__in=ids, period__gte=first, period__lte=period
        ).values_list("customer_id", "period", "revenue", "members", "arrears"):
            unit = facts[pk]
            unit.trend[month] = revenue
            if month == period:
                unit.members, unit.arrears = members, arrears
            elif month == before:
                unit.members_before = members
    for pk, n in (
        Ticket.objects.filter(customer_id__in=ids, type=TicketType.COMPLAINT, status__in=OPEN_STATUSES)
        .values("customer_id")
        .annotate(n=Count("pk"))
        .values_list("customer_id", "n")
        .order_by()
    ):
        facts[pk].complaints = n
    # A unit's contracts expire when all its contracts in force end within the window: a renewal already in
    # force (signed in advance) means nothing is expiring, as in the churn features.
    window = today + timedelta(CONTRACT_DAYS)
    for pk, n, end, last in (
        Contract.objects.filter(customer_id__in=ids, status__in=IN_FORCE, end_on__gte=today)
        .values("customer_id")
        .annotate(n=Count("pk", filter=Q(end_on__lte=window)), end=Min("end_on"), last=Max("end_on"))
        .values_list("customer_id", "n", "end", "last")
        .order_by()
    ):
        if last <= window:
            facts[pk].expiring, facts[pk].next_end = n, end
    for pk, score, risk in ChurnScore.objects.filter(customer_id__in=ids).values_list("customer_id", "score", "risk"):
        facts[pk].churn_score, facts[pk].warned = score, risk == RiskLevel.HIGH
    for pk, threat in CompetitorPresence.objects.filter(customer_id__in=ids).values_list("customer_id", "threat"):
        facts[pk].competitors += 1
        facts[pk].high_threat |= threat == ThreatLevel.HIGH
    for pk in Threat.objects.filter(customer_id__in=ids, level=ThreatLevel.HIGH).values_list("customer_id", flat=True):
        facts[pk].high_threat = True
    return facts


def _chain_of(pk: int, unit: UnitFacts) -> list[dict]:
    found = []
    if unit.warned:
        found.append({"code": ChainCode.CHURN.value, "unit": pk})
    if unit.high_threat:
        found.append({"code": ChainCode.THREAT.value, "unit": pk})
    if unit.arrears:
        found.append({"code": ChainCode.ARREARS.value, "unit": pk})
    return found


def _row(kind: str, head: int, members: list[int], facts: dict[int, UnitFacts], period: date | None) -> GroupRisk:
    """A set's row from its units' facts (docs/defence.md gives each figure's definition)."""
    units = [facts[pk] for pk in members]
    months = [add_months(period, -k) for k in range(MONTHS - 1, -1, -1)] if period else []
    trend = [sum((u.trend.get(m, Decimal(0)) for u in units), Decimal(0)) for m in months]
    revenue = trend[-1] if trend else Decimal(0)
    before = trend[-4] if len(trend) >= 4 else Decimal(0)
    change = ((revenue - before) * 100 / before).quantize(Decimal("0.1")) if before else None
    latest = {pk: facts[pk].trend.get(period, Decimal(0)) if period else Decimal(0) for pk in members}
    warned_revenue = sum((latest[pk] for pk in members if facts[pk].warned), Decimal(0))
    arrears_revenue = sum((latest[pk] for pk in members if facts[pk].arrears), Decimal(0))
    at_risk = sum(
        (
            latest[pk]
            for pk in members
            if (u := facts[pk]).warned or u.high_threat or u.arrears or u.complaints or u.expiring
        ),
        Decimal(0),
    )
    decline = max(before - revenue, Decimal(0))
    chain = [entry for pk in members for entry in _chain_of(pk, facts[pk])][:CHAIN_MAX]
    ends = [u.next_end for u in units if u.next_end]
    scores = [u.churn_score for u in units if u.churn_score is not None]
    return GroupRisk(
        kind=kind,
        head_id=head,
        units=len(members),
        revenue=revenue,
        revenue_before=before,
        revenue_change_pct=change,
        trend=[[f"{m:%Y-%m}", str(value)] for m, value in zip(months, trend, strict=True)],
        members=sum(u.members for u in units),
        members_before=sum(u.members_before for u in units),
        arrears_units=sum(1 for u in units if u.arrears),
        arrears_revenue=arrears_revenue,
        open_complaints=sum(u.complaints for u in units),
        contracts_expiring=sum(u.expiring for u in units),
        next_contract_end=min(ends) if ends else None,
        churn_max=max(scores) if scores else None,
        churn_units=sum(1 for u in units if u.warned),
        churn_revenue=warned_revenue,
        competitor_units=sum(1 for u in units if u.competitors),
        competitor_high_units=sum(1 for u in units if u.high_threat),
        chain=chain if len(members) > 1 else [],
        value_at_risk=((at_risk + decline) * 12).quantize(Decimal("0.01")),
        risk_revenue=change is not None and change <= -decline_pct(),
        risk_arrears=any(u.arrears for u in units),
        risk_churn=any(u.warned for u in units),
        risk_competitor=any(u.high_threat for u in units),
        risk_complaints=any(u.complaints for u in units),
        risk_contracts=any(u.expiring for u in units),
        risk_chain=bool(chain) and len(members) > 1,
        refreshed_at=timezone.now(),
    )


ROW_FIELDS = [
    "units", "revenue", "revenue_before", "revenue_change_pct", "trend", "members", "members_before",
    "arrears_units", "arrears_revenue", "open_complaints", "contracts_expiring", "next_contract_end", "churn_max",
    "churn_units", "churn_revenue", "competitor_units", "competitor_high_units", "chain", "value_at_risk",
    "risk_revenue", "risk_arrears", "risk_churn", "risk_competitor", "risk_complaints", "risk_contracts",
    "risk_chain", "refreshed_at",
]  # fmt: skip


def _batches(sets: dict[tuple[str, int], list[int]]) -> Iterator[dict[tuple[str, int], list[int]]]:
    """Sets grouped so that one batch reads the facts of about UNITS_PER_CHUNK customers."""
    batch: dict[tuple[str, int], list[int]] = {}
    size = 0
    for key, members in sets.items():
        batch[key] = members
        size += len(members)
        if size >= UNITS_PER_CHUNK:
            yield batch
            batch, size = {}, 0
    if batch:
        yield batch


def _write(sets: dict[tuple[str, int], list[int]], today: date, period: date | None) -> int:
    ids = sorted({pk for members in sets.values() for pk in members})
    facts: dict[int, UnitFacts] = {}
    units: dict[int, int] = {}  # each unit's org unit, copied on its row for the scope (decision 0803)
    for start in range(0, len(ids), UNITS_PER_CHUNK):
        chunk = ids[start : start + UNITS_PER_CHUNK]
        facts |= _facts(chunk, today, period)
        units |= dict(Customer.objects.filter(pk__in=chunk).values_list("pk", "org_unit_id"))
    rows = [_row(kind, head, members, facts, period) for (kind, head), members in sets.items()]
    with transaction.atomic():
        GroupRisk.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["kind", "head"], update_fields=ROW_FIELDS
        )
        risk_ids = {}
        for kind in {kind for kind, _head in sets}:
            heads = [head for k, head in sets if k == kind]
            for start in range(0, len(heads), UNITS_PER_CHUNK):
                risk_ids |= {
                    (kind, head): pk
                    for pk, head in GroupRisk.objects.filter(
                        kind=kind, head_id__in=heads[start : start + UNITS_PER_CHUNK]
                    ).values_list("pk", "head_id")
                }
        GroupRiskUnit.objects.filter(risk_id__in=list(risk_ids.values())).delete()
        GroupRiskUnit.objects.bulk_create(
            [
                GroupRiskUnit(risk_id=risk_ids[key], customer_id=pk, org_unit_id=units.get(pk))
                for key, members in sets.items()
                for pk in members
            ],
            batch_size=UNITS_PER_CHUNK,
        )
    return len(rows)


def refresh(customer_ids: Iterable[int] | None = None, *, today: date | None = None) -> int:
    """Roll up the sets of these customers (every group and affiliated set when None, at night, and sets that
    are no more are dropped). Returns the sets written."""
    from .services import latest_month

    today = today or timezone.localdate()
    period = latest_month()
    written = 0
    if customer_ids is not None:
        sets = _sets_of(customer_ids)
        gone = [key for key, members in sets.items() if len(members) < 2]
        for kind, head in gone:
            GroupRisk.objects.filter(kind=kind, head_id=head).delete()
        live = {key: members for key, members in sets.items() if len(members) >= 2}
        for batch in _batches(live):
            written += _write(batch, today, period)
        return written
    kept: set[tuple[str, int]] = set()
    for chunk in _group_chunks():
        for batch in _batches(chunk):
            written += _write(batch, today, period)
        kept |= set(chunk)
    affiliated = _affiliated_sets()
    for batch in _batches(affiliated):
        written += _write(batch, today, period)
    kept |= set(affiliated)
    rows = GroupRisk.objects.values_list("pk", "kind", "head_id")
    stale = [pk for pk, kind, head in rows.iterator(chunk_size=10_000) if (kind, head) not in kept]
    for start in range(0, len(stale), UNITS_PER_CHUNK):
        GroupRisk.objects.filter(pk__in=stale[start : start + UNITS_PER_CHUNK]).delete()
    return written
