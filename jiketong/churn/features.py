"""The churn features of every customer as of one month, computed set-based.

Each source is one grouped query in the database (the billing months, contracts, complaints, visits,
competitors, surveys); only the per-customer aggregates travel to Python, where they land in numpy
columns aligned on the sorted customer ids. At 1M customers that is a handful of 1M-row results instead
of a query per customer. A source whose app is not installed (or has no such model) is skipped and its
features stay NaN; `FeatureTable.sources` says which sources were read, so a rule on a missing source
never fires (absent, not faked).

The group context (DOMAIN §12, risk spreads through a group: decision 0802) counts, for each customer, the other
customers of its group (the head and every unit, in any province) whose revenue is falling and the other
customers of its affiliated set in arrears; it needs the billing source and reads the hierarchy and the
affiliations (those recorded before on_date; the hierarchy as it is now).

Month m's snapshot describes the customer at the end of month m: billing facts of months ≤ m and events
up to `on_date` (the first day of month m+1 for history, today for the nightly scoring).
"""

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
from django.apps import apps
from django.db.models import Avg, Count, Exists, FloatField, Max, OuterRef, Q, Sum
from django.db.models.functions import Cast
from django.utils import timezone

from jiketong.customers.models import Customer, LifecycleStatus

NUMERIC = [
    "revenue",  # yuan billed in month m
    "revenue_change_pct",  # m against m-3, per cent
    "revenue_down_months",  # consecutive monthly falls ending at m (0–3)
    "members",
    "member_change_pct",  # m against m-3, per cent
    "members_left_3m",
    "members_joined_3m",
    "on_net_share",
    "products",
    "arrears_months_6m",
    "tenure_months",
    "contract_days_left",  # days to the nearest contract end on or after on_date
    "open_complaints_90d",
    "days_since_visit",  # NaN: never visited
    "competitors",
    "competitors_high_threat",
    "satisfaction",  # latest survey's average score
    "group_units_declining",  # other customers of the same group whose revenue fell ≥ 10% (m against m-3)
    "affiliated_arrears",  # other customers of the same affiliated set in arrears in the 6 months to m
]
CATEGORICAL = ["grade", "industry"]
IN_SERVICE = [LifecycleStatus.ACTIVE, LifecycleStatus.AT_RISK, LifecycleStatus.DORMANT]


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after (or before) `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def start_of(day: date) -> datetime:
    """Midnight (Asia/Shanghai) at the start of `day`: events before it happened before that day."""
    return timezone.make_aware(datetime.combine(day, time.min))


def source_model(label: str, name: str):
    """A model of another app, or None while that app does not provide it."""
    try:
        return apps.get_model(label, name)
    except LookupError:
        return None


@dataclass
class FeatureTable:
    """Features of many customers: `ids` sorted, every column aligned with them."""

    month: date
    on_date: date
    ids: np.ndarray
    numeric: dict[str, np.ndarray] = field(default_factory=dict)
    categorical: dict[str, np.ndarray] = field(default_factory=dict)
    sources: set[str] = field(default_factory=set)
    billed: np.ndarray | None = None  # True where the customer has a billing row in month m
    # Per-customer billing figures of every billed customer, not only `ids` (the group context needs the units
    # a subset leaves out): {"keys", "r0", "r3", "arrears6"}.
    everyone: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    def matrix(self, numeric_names=None, categorical_names=None) -> tuple[np.ndarray, np.ndarray]:
        """(numeric float matrix, categorical string matrix) in NUMERIC / CATEGORICAL order, or in the order of the
        names a kept model was trained on."""
        numeric_names, categorical_names = numeric_names or NUMERIC, categorical_names or CATEGORICAL
        numeric = np.column_stack([self.numeric[name] for name in numeric_names]) if len(self) else np.empty((0, 0))
        categorical = np.column_stack([self.categorical[name] for name in categorical_names]).astype(object)
        return numeric, categorical

    def subset(self, mask: np.ndarray) -> "FeatureTable":
        return FeatureTable(
            month=self.month,
            on_date=self.on_date,
            ids=self.ids[mask],
            numeric={k: v[mask] for k, v in self.numeric.items()},
            categorical={k: v[mask] for k, v in self.categorical.items()},
            sources=self.sources,
            billed=None if self.billed is None else self.billed[mask],
        )

    def _put(self, name: str, keys, values, default=np.nan) -> None:
        """Scatter (customer id, value) pairs into a column; customers without a pair get `default`."""
        column = np.full(len(self.ids), default, dtype=float)
        if len(keys):
            keys = np.asarray(keys, dtype=np.int64)
            index = np.searchsorted(self.ids, keys).clip(0, max(len(self.ids) - 1, 0))
            hit = self.ids[index] == keys if len(self.ids) else np.zeros(len(keys), bool)
            column[index[hit]] = np.asarray(values, dtype=float)[hit]
        self.numeric[name] = column


CHUNK = 50_000


def _columns(queryset, names: list[str], kinds: list | None = None) -> list[np.ndarray]:
    """The query's rows as one numpy array per column, read in chunks so that a million rows never sit in
    memory as Python tuples. `kinds` are the dtypes (default: the first column an id, the rest float, with
    None as NaN)."""
    kinds = kinds or [np.int64] + [float] * (len(names) - 1)
    parts: list[list[np.ndarray]] = [[] for _ in names]
    rows = queryset.values_list(*names).iterator(chunk_size=CHUNK)
    while chunk := list(itertools.islice(rows, CHUNK)):
        for part, kind, column in zip(parts, kinds, zip(*chunk, strict=True), strict=True):
            part.append(np.array(column, dtype=kind))
    return [np.concatenate(part) if part else np.array([], dtype=kind) for part, kind in zip(parts, kinds, strict=True)]


def build(month: date, *, on_date: date | None = None, customers=None, in_service_only: bool = True) -> FeatureTable:
    """Features as of month `month` (its first day) for every in-service customer (or `customers`, a
    queryset of Customer)."""
    on_date = on_date or add_months(month, 1)
    base = customers if customers is not None else Customer.objects.all()
    if in_service_only:
        base = base.filter(status__in=IN_SERVICE)
    ids, grades, industries, since = _columns(
        base.order_by("pk"), ["pk", "grade", "industry_id", "cooperation_since"], [np.int64, object, object, object]
    )
    table = FeatureTable(month=month, on_date=on_date, ids=ids)
    table.categorical["grade"] = grades
    table.categorical["industry"] = industries
    tenure = [np.nan if d is None else (on_date.year - d.year) * 12 + on_date.month - d.month for d in since]
    table.numeric["tenure_months"] = np.asarray(tenure, dtype=float)
    for step in (_billing, _contracts, _complaints, _visits, _competitors, _satisfaction, _group_context):
        step(table)
    for name in NUMERIC:
        table.numeric.setdefault(name, np.full(len(ids), np.nan))
    return table


def _billing(table: FeatureTable) -> None:
    CustomerMonth = source_model("billing", "CustomerMonth")
    if CustomerMonth is None:
        return
    table.sources.add("billing")
    m = [add_months(table.month, -k) for k in range(6)]  # m[0] is month m, m[5] five months before

    def revenue(k):
        return Cast(Sum("revenue", filter=Q(period=m[k])), FloatField())

    rows = (
        CustomerMonth.objects.filter(period__gte=m[5], period__lte=m[0])
        .values("customer_id")
        .annotate(
            r0=revenue(0),
            r1=revenue(1),
            r2=revenue(2),
            r3=revenue(3),
            members0=Sum("members", filter=Q(period=m[0])),
            members3=Sum("members", filter=Q(period=m[3])),
            on_net0=Sum("on_net_members", filter=Q(period=m[0])),
            products0=Sum("products", filter=Q(period=m[0])),
            left3=Sum("left", filter=Q(period__gt=m[3])),
            joined3=Sum("joined", filter=Q(period__gt=m[3])),
            arrears6=Count("pk", filter=Q(arrears=True)),
        )
        .order_by()
    )
    names = ["customer_id", "r0", "r1", "r2", "r3", "members0", "members3", "on_net0", "products0"]
    names += ["left3", "joined3", "arrears6"]
    f = dict(zip(names, _columns(rows, names), strict=True))
    keys = f.pop("customer_id")
    table.billed = np.isin(table.ids, keys[~np.isnan(f["r0"])]) if len(keys) else np.zeros(len(table), bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(f["r3"] > 0, (f["r0"] - f["r3"]) / f["r3"] * 100, np.nan)
        member_change = np.where(f["members3"] > 0, (f["members0"] - f["members3"]) / f["members3"] * 100, np.nan)
        on_net = np.where(f["members0"] > 0, f["on_net0"] / f["members0"], np.nan)
    # Consecutive falls ending at m: r0 < r1, then r1 < r2, then r2 < r3 (a gap ends the run).
    falls = f["r0"] < f["r1"]
    down = falls.astype(float)
    falls &= f["r1"] < f["r2"]
    down += falls
    falls &= f["r2"] < f["r3"]
    down += falls
    table._put("revenue", keys, f["r0"])
    table._put("revenue_change_pct", keys, change)
    table._put("revenue_down_months", keys, down, default=0)
    table._put("members", keys, f["members0"])
    table._put("member_change_pct", keys, member_change)
    table._put("members_left_3m", keys, np.nan_to_num(f["left3"]), default=0)
    table._put("members_joined_3m", keys, np.nan_to_num(f["joined3"]), default=0)
    table._put("on_net_share", keys, on_net)
    table._put("products", keys, f["products0"])
    table._put("arrears_months_6m", keys, f["arrears6"], default=0)
    table.everyone = {"keys": keys, "r0": f["r0"], "r3": f["r3"], "arrears6": f["arrears6"]}


def _contracts(table: FeatureTable) -> None:
    """Days until the contracts in force on on_date run out: the latest end among them, so a renewal
    signed in advance means nothing is expiring."""
    Contract = source_model("deals", "Contract")
    if Contract is None:
        return
    table.sources.add("contracts")
    day = table.on_date
    rows = (
        Contract.objects.filter(end_on__gte=day)
        .filter(Q(signed_on__lte=day) | Q(signed_on__isnull=True, start_on__lte=day))
        .exclude(status__in=["draft", "terminated"])
        .values("customer_id")
        .annotate(end=Max("end_on"))
        .order_by()
    )
    keys, ends = _columns(rows, ["customer_id", "end"], [np.int64, object])
    table._put("contract_days_left", keys, [(end - day).days for end in ends])


def _complaints(table: FeatureTable) -> None:
    """Complaints opened in the 90 days before on_date and not yet resolved or closed on that day (by
    their dates, so a history snapshot is not judged by today's status)."""
    Ticket = source_model("service", "Ticket")
    if Ticket is None:
        return
    table.sources.add("complaints")
    start, end = start_of(table.on_date - timedelta(days=90)), start_of(table.on_date)
    rows = (
        Ticket.objects.filter(type="complaint", opened_at__gte=start, opened_at__lt=end)
        .exclude(resolved_at__lt=end)
        .exclude(closed_at__lt=end)
        .values("customer_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    keys, counts = _columns(rows, ["customer_id", "n"])
    table._put("open_complaints_90d", keys, counts, default=0)


def _visits(table: FeatureTable) -> None:
    Activity = source_model("work", "Activity")
    if Activity is None:
        return
    table.sources.add("visits")
    rows = (
        Activity.objects.filter(kind="visit", customer__isnull=False, happened_at__lt=start_of(table.on_date))
        .values("customer_id")
        .annotate(last=Max("happened_at"))
        .order_by()
    )
    keys, last = _columns(rows, ["customer_id", "last"], [np.int64, object])
    table._put("days_since_visit", keys, [(table.on_date - timezone.localtime(moment).date()).days for moment in last])


def _competitors(table: FeatureTable) -> None:
    CompetitorPresence = source_model("customers", "CompetitorPresence")
    table.sources.add("competitors")
    rows = (
        CompetitorPresence.objects.filter(created_at__lt=start_of(table.on_date))
        .values("customer_id")
        .annotate(n=Count("pk"), high=Count("pk", filter=Q(threat="high")))
        .order_by()
    )
    keys, counts, high = _columns(rows, ["customer_id", "n", "high"])
    table._put("competitors", keys, counts, default=0)
    table._put("competitors_high_threat", keys, high, default=0)


def _satisfaction(table: FeatureTable) -> None:
    """The average satisfaction (1–5) of each customer's latest survey in the year before on_date."""
    Survey = source_model("service", "Survey")
    if Survey is None:
        return
    table.sources.add("satisfaction")
    day = table.on_date
    window = Survey.objects.filter(surveyed_on__lt=day, surveyed_on__gte=day - timedelta(days=365))
    later = window.filter(customer_id=OuterRef("customer_id"), surveyed_on__gt=OuterRef("surveyed_on"))
    rows = window.filter(~Exists(later)).values("customer_id").annotate(score=Avg("answers__satisfaction")).order_by()
    keys, scores = _columns(rows, ["customer_id", "score"])
    table._put("satisfaction", keys, scores)


GROUP_DECLINE_PCT = 10  # a unit's revenue down this much (m against m-3, per cent) counts as declining


def _group_context(table: FeatureTable) -> None:
    """`group_units_declining`: the other customers of the customer's group (same top of the hierarchy) whose
    revenue in month m is at least GROUP_DECLINE_PCT below m-3 (one that billed in m-3 and not in m fell 100%);
    `affiliated_arrears`: the other customers of its affiliated set (linked by affiliations recorded before
    on_date, in any direction, directly or through others) in arrears at least once in the 6 months to m.
    Customers in no group or set have 0. Set-based: the group members' paths and the affiliation edges, once."""
    if "billing" not in table.sources or not table.everyone:
        return
    table.sources.add("group")
    keys, r0, r3 = table.everyone["keys"], table.everyone["r0"], table.everyone["r3"]
    with np.errstate(divide="ignore", invalid="ignore"):
        falling = np.where(r3 > 0, (np.nan_to_num(r0) - r3) / r3 * 100 <= -GROUP_DECLINE_PCT, False)
    declining = keys[falling]
    in_arrears = keys[table.everyone["arrears6"] > 0]

    step = Customer.steplen
    pks, paths = _columns(
        Customer.objects.filter(Q(depth__gt=1) | Q(numchild__gt=0)).order_by(), ["pk", "path"], [np.int64, object]
    )
    if len(pks):
        _roots, group = np.unique(np.array([path[:step] for path in paths], dtype=object), return_inverse=True)
        mine = np.isin(pks, declining).astype(float)
        table._put("group_units_declining", pks, np.bincount(group, weights=mine)[group] - mine, default=0)
    else:
        table.numeric["group_units_declining"] = np.zeros(len(table.ids))

    Affiliation = source_model("customers", "Affiliation")
    left, right = _columns(
        Affiliation.objects.filter(created_at__lt=start_of(table.on_date)).order_by(),
        ["customer_id", "related_id"],
        [np.int64, np.int64],
    )
    if not len(left):
        table.numeric["affiliated_arrears"] = np.zeros(len(table.ids))
        return
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    nodes, index = np.unique(np.concatenate([left, right]), return_inverse=True)
    n = len(left)
    graph = coo_matrix((np.ones(n), (index[:n], index[n:])), shape=(len(nodes), len(nodes)))
    _count, component = connected_components(graph, directed=False)
    mine = np.isin(nodes, in_arrears).astype(float)
    table._put("affiliated_arrears", nodes, np.bincount(component, weights=mine)[component] - mine, default=0)
