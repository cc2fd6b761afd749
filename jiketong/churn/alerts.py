"""The nightly risk-alert detector (风险提醒, decision 0705, docs/churn-early-warning.md).

Sudden events are alerts, not just score changes (DOMAIN §12). Each kind is one set-based query over the facts,
returning only the customers it hits (a few hundred a night at province scale), never a loop over customers:
- members down sharply, revenue down sharply, arrears beginning: one self-join of billing `CustomerMonth` over
  the latest billed month and the one before it;
- a key person leaving: key contacts whose `left_on` falls in the last days;
- a complaint surge: complaints opened in the last days, grouped per customer;
- a competitor's high threat: the archive's competitor presence raised to high and high-threat actions in the
  defence app's attack log (the two records the defence board is derived from).

Each hit has a key (the billing month or the source row) so that `(kind, customer, key)` is raised once; the
thresholds are in `CHURN_ALERTS` (settings), with `DEFAULTS` below.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from jiketong.core.money import yuan
from jiketong.core.notes import stored
from jiketong.customers.models import Competitor, CompetitorPresence, Contact, Customer, LifecycleStatus, ThreatLevel

from .models import AlertKind

DEFAULTS = {
    "members_drop_pct": 20,  # members down at least this share of last month's …
    "members_from": 10,  # … in a group that had at least this many (a 4 → 3 group is noise, not an event)
    "revenue_drop_pct": 30,  # revenue down at least this share of last month's …
    "revenue_from": 100,  # … when last month's bill was at least this many yuan
    "complaints": 3,  # this many complaints opened …
    "complaint_days": 30,  # … within this many days (and not raised again for the customer within them)
    "key_person_days": 30,  # a key person who left within this many days (older departures are history)
    "attack_days": 30,  # a high-threat competitor action observed within this many days
}
NOT_WATCHED = (LifecycleStatus.PROSPECT, LifecycleStatus.CHURNED)  # not ours (yet, or any more)


def config() -> dict:
    """The thresholds: `DEFAULTS` overridden by the setting `CHURN_ALERTS` (same keys)."""
    configured = getattr(settings, "CHURN_ALERTS", {})
    unknown = set(configured) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"CHURN_ALERTS: unknown keys {sorted(unknown)}")
    return {**DEFAULTS, **configured}


@dataclass(frozen=True)
class Hit:
    """One alert to raise: what, at which customer, its once-key, when it happened and its reason (stored)."""

    kind: str
    customer_id: int
    key: str
    occurred_on: date
    reason: str


def _pct(before, after) -> int:
    """The fall as a whole percentage (35 for 120 → 78)."""
    share = (Decimal(before) - Decimal(after)) * 100 / Decimal(before)
    return int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _month_key(period: date) -> str:
    return f"{period:%Y-%m}"


def billing_hits(period: date, previous: date, conf: dict) -> list[Hit]:
    """Members and revenue down sharply and arrears beginning in `period` against `previous`: one query joining
    the month's rows to the month before (the (customer, period) key serves the join)."""
    from jiketong.billing.models import CustomerMonth

    months = CustomerMonth._meta.db_table
    customers = Customer._meta.db_table
    members_pct, revenue_pct = conf["members_drop_pct"], conf["revenue_drop_pct"]
    # Integer and decimal arithmetic only, so "at the threshold" is exact: 100 → 80 is a 20 % fall.
    sql = f"""
        SELECT cur.customer_id, cur.members, prev.members, cur.revenue, prev.revenue, cur.arrears, prev.arrears
        FROM {months} cur
        JOIN {customers} c ON c.id = cur.customer_id
        LEFT JOIN {months} prev ON prev.customer_id = cur.customer_id AND prev.period = %s
        WHERE cur.period = %s AND c.status NOT IN (%s, %s) AND (
            (prev.members >= %s AND prev.members > 0 AND cur.members * 100 <= prev.members * (100 - %s))
            OR (prev.revenue >= %s AND prev.revenue > 0 AND cur.revenue * 100 <= prev.revenue * (100 - %s))
            OR (cur.arrears = %s AND (prev.arrears IS NULL OR prev.arrears = %s))
        )
        ORDER BY cur.customer_id
    """  # noqa: S608 - table names from the models, every value a parameter
    params = [previous, period, *NOT_WATCHED, conf["members_from"], members_pct, conf["revenue_from"], revenue_pct,
              True, False]  # fmt: skip
    hits = []
    key = _month_key(period)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for customer_id, members, prev_members, revenue, prev_revenue, arrears, prev_arrears in rows:
        if (
            prev_members
            and prev_members >= conf["members_from"]
            and members * 100 <= prev_members * (100 - members_pct)
        ):
            reason = stored(
                gettext_noop("Members down %(pct)s%% on last month (%(before)s → %(after)s)"),
                pct=_pct(prev_members, members), before=prev_members, after=members,
            )  # fmt: skip
            hits.append(Hit(AlertKind.MEMBERS_DOWN, customer_id, key, period, reason))
        if prev_revenue is not None:
            before, after = Decimal(str(prev_revenue)), Decimal(str(revenue))
            if before > 0 and before >= conf["revenue_from"] and after * 100 <= before * (100 - revenue_pct):
                reason = stored(
                    gettext_noop("Revenue down %(pct)s%% on last month (¥%(before)s → ¥%(after)s)"),
                    pct=_pct(before, after), before=f"{yuan(before):,}", after=f"{yuan(after):,}",
                )  # fmt: skip
                hits.append(Hit(AlertKind.REVENUE_DOWN, customer_id, key, period, reason))
        if arrears and not prev_arrears:
            reason = stored(gettext_noop("Arrears began in %(month)s (none the month before)"), month=key)
            hits.append(Hit(AlertKind.ARREARS_BEGAN, customer_id, key, period, reason))
    return hits


def key_person_hits(today: date, conf: dict) -> list[Hit]:
    """Key persons marked as left (离职) within the last days: one query on the `left_on` index."""
    since = today - timedelta(days=conf["key_person_days"])
    rows = (
        Contact.objects.filter(is_key_person=True, left_on__gt=since, left_on__lte=today)
        .exclude(customer__status__in=NOT_WATCHED)
        .order_by("customer_id", "pk")
        .values_list("pk", "customer_id", "name", "title", "left_on")
    )
    hits = []
    for pk, customer_id, name, title, left_on in rows:
        if title:
            reason = stored(gettext_noop("Key person %(name)s (%(title)s) left on %(date)s"),
                            name=name, title=title, date=left_on.isoformat())  # fmt: skip
        else:
            reason = stored(gettext_noop("Key person %(name)s left on %(date)s"), name=name, date=left_on.isoformat())
        hits.append(Hit(AlertKind.KEY_PERSON_LEFT, customer_id, f"contact:{pk}", left_on, reason))
    return hits


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def complaint_hits(today: date, conf: dict) -> list[Hit]:
    """Customers with at least N complaints opened in the last days, none raised for them within those days:
    one grouped query over the (type, opened) index. Keyed by the day found; the window keeps a lasting surge
    from raising again every night."""
    from jiketong.service.models import Ticket

    from .models import RiskAlert

    days = conf["complaint_days"]
    recent = RiskAlert.objects.filter(kind=AlertKind.COMPLAINT_SURGE, raised_on__gt=today - timedelta(days=days))
    rows = (
        Ticket.objects.filter(
            type="complaint",
            opened_at__gte=_day_start(today - timedelta(days=days - 1)),
            opened_at__lt=_day_start(today + timedelta(days=1)),
        )  # fmt: skip
        .exclude(customer__status__in=NOT_WATCHED)
        .exclude(customer_id__in=recent.values("customer_id"))
        .values("customer_id")
        .annotate(n=Count("pk"), last=Max("opened_at"))
        .filter(n__gte=conf["complaints"])
        .order_by("customer_id")
        .values_list("customer_id", "n", "last")
    )
    return [
        Hit(
            AlertKind.COMPLAINT_SURGE,
            customer_id,
            f"{today:%Y-%m-%d}",
            timezone.localtime(last).date(),
            stored(gettext_noop("%(count)s complaints in the last %(days)s days"), count=n, days=days),
        )  # fmt: skip
        for customer_id, n, last in rows
    ]


def competitor_hits(today: date, conf: dict) -> list[Hit]:
    """A competitor recorded at high threat: each presence (the archive) and each high-threat action in the
    attack log (defence) raises once. Competitors are named in the site language (a company's name)."""
    from jiketong.defence.models import Attack

    with translation.override(settings.LANGUAGE_CODE):
        names = {code: str(label) for code, label in Competitor.choices}
    hits = []
    presences = (
        CompetitorPresence.objects.filter(threat=ThreatLevel.HIGH)
        .exclude(customer__status__in=NOT_WATCHED)
        .order_by("customer_id", "pk")
        .values_list("pk", "customer_id", "competitor", "products", "updated_at")
    )
    for pk, customer_id, competitor, products, updated_at in presences:
        reason = stored(gettext_noop("High threat recorded for %(competitor)s: %(what)s"),
                        competitor=names.get(competitor, competitor), what=products)  # fmt: skip
        hits.append(Hit(AlertKind.COMPETITOR_THREAT, customer_id, f"presence:{pk}",
                        timezone.localtime(updated_at).date(), reason))  # fmt: skip
    attacks = (
        Attack.objects.filter(
            threat=ThreatLevel.HIGH, observed_on__gt=today - timedelta(days=conf["attack_days"]), observed_on__lte=today
        )  # fmt: skip
        .exclude(customer__status__in=NOT_WATCHED)
        .order_by("customer_id", "pk")
        .values_list("pk", "customer_id", "competitor", "description", "observed_on")
    )
    for pk, customer_id, competitor, description, observed_on in attacks:
        reason = stored(gettext_noop("High threat recorded for %(competitor)s: %(what)s"),
                        competitor=names.get(competitor, competitor), what=description)  # fmt: skip
        hits.append(Hit(AlertKind.COMPETITOR_THREAT, customer_id, f"attack:{pk}", observed_on, reason))
    return hits


def detect(today: date, period: date | None, conf: dict | None = None) -> list[Hit]:
    """Every hit as of `today`; the billing kinds compare `period` (the latest billed month) with the month
    before. Hits already raised are filtered out by the caller (services.alerts_raise)."""
    from .features import add_months

    conf = conf or config()
    hits = billing_hits(period, add_months(period, -1), conf) if period is not None else []
    return hits + key_person_hits(today, conf) + complaint_hits(today, conf) + competitor_hits(today, conf)
