"""Province side: fill the federation outbox with what HQ should hold (decision 1101).

What travels, and nothing else (docs/federation.md "What travels"):
- `group`: a shared group's identity — the head's USCC and 集团编号, name, industry;
- `unit`: each of the group's units in this province — name, org unit, owner's name, grade, lifecycle status,
  products in service, whether it is under a churn warning;
- `unit_month`: each unit's billing months — revenue, a count of members, arrears (yes/no);
- `indicator`: the province's indicator summary cells (org unit × industry × grade × month);
- `contact`: the head office's contacts the province marked shareable — name and title only.
Never members, their numbers, other contacts, or any mobile, e-mail or birthday: the collection does not read them.

Collecting is idempotent: a row whose content did not change keeps its place (and is not sent again); a changed
row moves to the end of the outbox; a row that disappeared (a unit left the group, a cell is gone) is sent once
as a tombstone. `collect()` is the nightly job's and `federation resync`'s; the reactions collect single groups.
"""

import contextlib
import hashlib
import json
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from jiketong.core.dbrouter import reading_replica
from jiketong.core.trees import subtree
from jiketong.customers.models import Contact, Customer, LifecycleStatus

from . import instance
from .models import MEASURES, Kind, OutboxRow, SharedGroup, SyncState

MONTHS_BACK = 13  # the nightly collection looks at this many months; `resync --since` at more
TOMBSTONE = {"deleted": True}

Row = tuple[str, str, str, str, dict]  # kind, key, period ("YYYY-MM" or ""), scope (the group's key), payload


def digest(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def month(period: date) -> str:
    return f"{period:%Y-%m}"


def group_key(customer: Customer) -> str:
    if customer.uscc:
        return customer.uscc
    return f"code:{customer.number}" if customer.number else ""


def unit_key(customer: Customer) -> str:
    return group_key(customer) or f"id:{customer.pk}"


def province_unit():
    from jiketong.org.models import OrgUnit

    return OrgUnit.objects.filter(code=instance.province_code()).first()


def shared_heads(among: set[str] | None = None) -> list[Customer]:
    """Heads of the groups HQ sees: those shared (by HQ's assignment or the province), and groups whose units
    sit in two provinces or more on this instance (analytics' group spread of the latest month). `among`: only
    the heads with these paths (a reaction's few groups: read those, not every shared one)."""
    from jiketong.analytics.models import GroupSpread

    heads = Customer.objects.filter(depth=1)
    if among is not None:
        heads = heads.filter(path__in=among)
    shared = Q(pk__in=SharedGroup.objects.values("customer_id"))
    latest = GroupSpread.objects.order_by("-period").values_list("period", flat=True).first()
    if latest:
        shared |= Q(pk__in=GroupSpread.objects.filter(period=latest, provinces__gte=2).values("head_id"))
    return list(heads.filter(shared))


# --- building rows ----------------------------------------------------------------------------------------
def group_rows(heads: Iterable[Customer], periods: list[date] | None) -> tuple[list[Row], Q]:
    """Rows of these groups (their identity, their units in this province, the units' months of `periods`,
    or every month when None), and the outbox rows they replace (to find the ones that disappeared)."""
    from jiketong.billing.models import CustomerMonth
    from jiketong.catalog.models import Subscription, SubscriptionStatus
    from jiketong.churn.models import ChurnScore, RiskLevel

    province = province_unit()
    rows: list[Row] = []
    covered = Q(pk__in=[])
    for head in heads:
        key = group_key(head)
        if not key or province is None:
            continue
        identity = {
            "uscc": head.uscc or "",
            "group_code": head.number or "",
            "name": head.name,
            "industry": head.industry_id,
        }
        rows.append((Kind.GROUP, key, "", key, identity))
        covered |= Q(kind=Kind.GROUP, key=key)
        units = list(
            Customer.objects.filter(subtree(head.path), subtree(province.path, "org_unit__path"))
            .select_related("org_unit", "owner")
            .order_by("path")
        )
        products: dict[int, list[str]] = {}
        for customer_id, name in (
            Subscription.objects.filter(customer__in=units, status=SubscriptionStatus.ACTIVE)
            .order_by("product__name")
            .values_list("customer_id", "product__name")
        ):
            products.setdefault(customer_id, [])
            if name not in products[customer_id]:
                products[customer_id].append(name)
        risky = set(
            ChurnScore.objects.filter(customer__in=units, risk=RiskLevel.HIGH).values_list("customer_id", flat=True)
        )
        keys = {unit.pk: unit_key(unit) for unit in units}
        for unit in units:
            rows.append(
                (
                    Kind.UNIT,
                    keys[unit.pk],
                    "",
                    key,
                    {
                        "group": key,
                        "name": unit.name,
                        "is_head": unit.pk == head.pk,
                        "org_unit_code": unit.org_unit.code,
                        "org_unit_name": unit.org_unit.name,
                        "owner_name": unit.owner.name if unit.owner else "",
                        "grade": unit.grade,
                        "status": unit.status,
                        "products": products.get(unit.pk, []),
                        "at_risk": unit.status == LifecycleStatus.AT_RISK or unit.pk in risky,
                    },
                )
            )
        covered |= Q(kind=Kind.UNIT, scope=key)
        # Head-office contacts the province marked shareable: a name and a title, never a mobile (PIPL minimum).
        if head.pk in keys:
            for contact_id, name, title in (
                Contact.objects.filter(customer_id=head.pk, is_shareable=True, left_on__isnull=True)
                .order_by("pk")
                .values_list("pk", "name", "title")
            ):
                rows.append(
                    (Kind.CONTACT, f"{key}|{contact_id}", "", key, {"group": key, "name": name, "title": title})
                )
        covered |= Q(kind=Kind.CONTACT, scope=key)
        months = CustomerMonth.objects.filter(customer__in=units).order_by("customer_id", "period")
        month_scope = Q(kind=Kind.UNIT_MONTH, scope=key)
        if periods is not None:
            months = months.filter(period__in=periods)
            month_scope &= Q(period__in=[month(p) for p in periods])
        for customer_id, period, revenue, members, arrears in months.values_list(
            "customer_id", "period", "revenue", "members", "arrears"
        ):
            rows.append(
                (
                    Kind.UNIT_MONTH,
                    keys[customer_id],
                    month(period),
                    key,
                    {"group": key, "revenue": str(revenue), "members": members, "arrears": arrears},
                )
            )
        covered |= month_scope
    return rows, covered


def indicator_rows(periods: list[date]) -> tuple[list[Row], Q]:
    """The province's indicator cells of these months (its org units only)."""
    from jiketong.analytics.models import IndicatorSummary

    province = province_unit()
    covered = Q(kind=Kind.INDICATOR, period__in=[month(p) for p in periods])
    if province is None:
        return [], covered
    cells = (
        IndicatorSummary.objects.filter(subtree(province.path, "org_unit__path"), period__in=periods)
        .values_list(
            "period",
            "org_unit__code",
            "org_unit__name",
            "industry_id",
            "grade",
            *MEASURES,
        )
        .order_by("period", "org_unit__code", "industry_id", "grade")
    )
    rows: list[Row] = []
    for period, code, name, industry, grade, *measures in cells:
        figures = dict(zip(MEASURES, measures, strict=True))
        figures["revenue"] = str(Decimal(figures["revenue"]).quantize(Decimal("0.01")))
        payload = {"org_unit_code": code, "org_unit_name": name, "industry": industry, "grade": grade, **figures}
        rows.append((Kind.INDICATOR, f"{code}|{industry}|{grade}", month(period), "", payload))
    return rows, covered


# --- writing the outbox -----------------------------------------------------------------------------------
@transaction.atomic
def write(rows: list[Row], covered: Q) -> int:
    """Put these rows in the outbox where they changed, and tombstones for the rows under `covered` that are no
    longer there. Returns the rows queued to send."""
    SyncState.objects.get_or_create(pk=1)
    # The lock orders the writers: ids commit in the order they were given, so the sender never passes one.
    SyncState.objects.select_for_update().get(pk=1)
    existing = {
        (kind, key, period): (pk, digest_)
        for pk, kind, key, period, digest_ in OutboxRow.objects.filter(covered).values_list(
            "pk", "kind", "key", "period", "digest"
        )
    }
    fresh: dict[tuple, OutboxRow] = {}
    for kind, key, period, scope, payload in rows:
        found = digest(payload)
        old = existing.get((kind, key, period))
        if old is None or old[1] != found:
            fresh[(kind, key, period)] = OutboxRow(
                kind=kind, key=key, period=period, scope=scope, payload=payload, digest=found
            )
    gone_digest = digest(TOMBSTONE)
    seen = {(kind, key, period) for kind, key, period, _scope, _payload in rows}
    for ident, (_pk, old_digest) in existing.items():
        if ident not in seen and old_digest != gone_digest:
            kind, key, period = ident
            fresh[ident] = OutboxRow(kind=kind, key=key, period=period, payload=TOMBSTONE, digest=gone_digest)
    stale = [existing[ident][0] for ident in fresh if ident in existing]
    for start in range(0, len(stale), 900):
        OutboxRow.objects.filter(pk__in=stale[start : start + 900]).delete()
    OutboxRow.objects.bulk_create(list(fresh.values()), batch_size=500)
    if fresh:
        transaction.on_commit(_send_soon, robust=True)
    return len(fresh)


def _send_soon() -> None:
    from .tasks import send

    with contextlib.suppress(Exception):  # the frequent job sends instead
        send.enqueue()


def recent_periods(since: date | None = None) -> list[date]:
    """The months to collect: from `since` (or MONTHS_BACK months back) to the latest billed month."""
    from jiketong.analytics.models import SummaryPeriod
    from jiketong.billing.models import CustomerMonth

    known = set(SummaryPeriod.objects.values_list("period", flat=True))
    known |= set(CustomerMonth.objects.order_by().values_list("period", flat=True).distinct())
    if not known:
        return []
    latest = max(known)
    first = since
    if first is None:
        year, mon = latest.year, latest.month - (MONTHS_BACK - 1)
        while mon < 1:
            year, mon = year - 1, mon + 12
        first = date(year, mon, 1)
    return sorted(period for period in known if period >= first)


def collect(since: date | None = None) -> int:
    """Everything HQ should hold for the months from `since` (default: the last 13): shared groups with their
    units and months, and the indicator cells. Returns the rows queued."""
    if not instance.is_province():
        return 0
    # The reads on the replica once it has replayed what was committed before (core.dbrouter); the outbox's
    # own reads and writes (`write`, a transaction) stay on the primary.
    with reading_replica(fresh=True, sticky=False):
        periods = recent_periods(since)
        queued = 0
        group, covered = group_rows(shared_heads(), periods)
        queued += write(group, covered)
        if periods:
            cells, covered = indicator_rows(periods)
            queued += write(cells, covered)
    return queued


def collect_groups(customer_ids: Iterable[int]) -> int:
    """A reaction's collection: the shared groups these customers belong to (every month they have)."""
    if not instance.is_province():
        return 0
    paths = list(Customer.objects.filter(pk__in=list(customer_ids)).values_list("path", flat=True))
    heads = shared_heads(among={path[: Customer.steplen] for path in paths})
    if not heads:
        return 0
    return write(*group_rows(heads, None))


def resync(since: date) -> int:
    """Send again every row of the months from `since` (and every shared group), changed or not: the rows move
    to the end of the outbox, so the next sends carry them whatever HQ holds."""
    if not instance.is_province():
        return 0
    collect(since)
    periods = {month(period) for period in recent_periods(since)}
    with transaction.atomic():
        SyncState.objects.get_or_create(pk=1)
        SyncState.objects.select_for_update().get(pk=1)
        again = OutboxRow.objects.filter(Q(period="") | Q(period__in=periods))
        rows = list(again)
        again.delete()
        for row in rows:
            row.pk = None
        OutboxRow.objects.bulk_create(rows, batch_size=500)
        if rows:
            transaction.on_commit(_send_soon, robust=True)
    return len(rows)
