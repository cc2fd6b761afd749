"""CustomerMonth: each customer's month rolled up from the facts (and member snapshots) in set-based SQL,
so a period of a million customers is a few statements, not a million ORM saves. See CustomerMonth for
what each number means.

The statistical categories and sticky revenue are decided here, once per customer and month, when the
month is built (docs/decisions/0604): the indicators count the flags instead of looking into every
customer's bill on every page."""

from datetime import date

from django.db import connection

from jiketong.catalog.models import Product, Stickiness

from . import partitions
from .models import BillingFact, CustomerMonth, MemberSnapshot

MOBILE_MIN_MEMBERS = 10  # 移动集团客户: at least this many members on our mobile network
INTEGRATED_MIN_BASIC = 2  # 综合业务: at least this many basic services in use, one of them paid by the group


def month_before(period: date) -> date:
    return date(period.year - 1, 12, 1) if period.month == 1 else date(period.year, period.month - 1, 1)


def month_after(period: date) -> date:
    return date(period.year + 1, 1, 1) if period.month == 12 else date(period.year, period.month + 1, 1)


def refresh_months(periods: list[date]) -> list[date]:
    """Recompute CustomerMonth for these periods, and for the month after each when it has facts (its
    joined / left numbers compare against the month just changed). Returns the periods recomputed."""
    todo = set(periods)
    todo |= {month_after(p) for p in periods if BillingFact.objects.filter(period=month_after(p)).exists()}
    partitions.ensure(todo, [CustomerMonth._meta.db_table])
    for period in sorted(todo):
        refresh_month(period)
    return sorted(todo)


def _names() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "cm": quote(CustomerMonth._meta.db_table),
        "fact": quote(BillingFact._meta.db_table),
        "snap": quote(MemberSnapshot._meta.db_table),
        "product": quote(Product._meta.db_table),
        "left": quote("left"),
    }


def _bill_sql() -> str:
    """Per customer of the month %(period)s, from its bill lines: revenue, products in use, billed members,
    arrears, sticky revenue, and the basic services in use and paid by the group (综合业务). One definition
    for building a month and for recomputing the flags of rows already there (`refresh_flags`)."""
    n = _names()
    in_use = "(f.revenue > 0 OR f.billed_members > 0)"
    return f"""SELECT f.customer_id, SUM(f.revenue) AS revenue,
                      SUM(CASE WHEN {in_use} THEN 1 ELSE 0 END) AS products,
                      MAX(f.billed_members) AS billed,
                      SUM(CASE WHEN f.paid_on_time THEN 0 ELSE 1 END) > 0 AS arrears,
                      MAX(f.days_to_pay) AS days_to_pay,
                      SUM(CASE WHEN p.stickiness <> %(not_sticky)s THEN f.revenue ELSE 0 END) AS sticky,
                      SUM(CASE WHEN p.is_basic_service AND {in_use} THEN 1 ELSE 0 END) AS basic_used,
                      SUM(CASE WHEN p.is_basic_service AND f.revenue > 0 THEN 1 ELSE 0 END) AS basic_paid
               FROM {n["fact"]} f JOIN {n["product"]} p ON p.id = f.product_id
               WHERE f.period = %(period)s GROUP BY f.customer_id"""


# 综合业务 and 移动集团客户 over `_bill_sql` (alias f) and the month's on-net members.
INTEGRATED_SQL = f"(f.basic_used >= {INTEGRATED_MIN_BASIC} AND f.basic_paid > 0)"


def _mobile_sql(on_net: str) -> str:
    return f"({on_net} >= {MOBILE_MIN_MEMBERS})"


def _params(period: date) -> dict:
    return {"period": period, "previous": month_before(period), "not_sticky": Stickiness.NONE}


def refresh_month(period: date) -> None:
    """Rebuild one month's rows from its facts and snapshots (and the month before, for joins and "new")."""
    params = _params(period)
    # With no data at all for the month before (the first month loaded), nobody counts as joined.
    params["has_previous"] = CustomerMonth.objects.filter(period=params["previous"]).exists()
    n = _names()
    members = "COALESCE(s.members, f.billed)"
    on_net = "COALESCE(s.on_net, f.billed)"
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {n['cm']} WHERE period = %(period)s", params)
        cursor.execute(
            f"""
            INSERT INTO {n["cm"]} (period, customer_id, revenue, products, billed_members, members,
                                   on_net_members, arrears, days_to_pay, joined, {n["left"]},
                                   is_new, is_mobile_group, is_integrated, sticky_revenue)
            SELECT %(period)s, f.customer_id, f.revenue, f.products, f.billed, {members},
                   {on_net}, f.arrears, f.days_to_pay,
                   CASE WHEN prev.customer_id IS NULL THEN CASE WHEN %(has_previous)s THEN {members} ELSE 0 END
                        WHEN {members} > prev.members THEN {members} - prev.members ELSE 0 END,
                   CASE WHEN prev.members > {members} THEN prev.members - {members} ELSE 0 END,
                   prev.customer_id IS NULL, {_mobile_sql(on_net)}, {INTEGRATED_SQL}, f.sticky
            FROM ({_bill_sql()}) f
            LEFT JOIN (SELECT customer_id, COUNT(*) AS members, SUM(CASE WHEN on_net THEN 1 ELSE 0 END) AS on_net
                       FROM {n["snap"]} WHERE period = %(period)s GROUP BY customer_id) s
                   ON s.customer_id = f.customer_id
            LEFT JOIN {n["cm"]} prev ON prev.customer_id = f.customer_id AND prev.period = %(previous)s
            """,
            params,
        )
        if (
            MemberSnapshot.objects.filter(period=period).exists()
            and MemberSnapshot.objects.filter(period=params["previous"]).exists()
        ):
            _joined_left_from_snapshots(cursor, params)


def _joined_left_from_snapshots(cursor, params: dict) -> None:
    """Where both months have a customer's snapshots, count the numbers themselves: one joining and one
    leaving in the same month is two movements, not zero."""
    n = _names()
    cm = n["cm"]

    def moved(now: str, before: str) -> str:
        return f"""(SELECT COUNT(*) FROM {n["snap"]} a WHERE a.period = %({now})s AND a.customer_id = {cm}.customer_id
                    AND NOT EXISTS (SELECT 1 FROM {n["snap"]} b WHERE b.period = %({before})s
                                    AND b.customer_id = a.customer_id AND b.phone = a.phone))"""

    def has(period: str) -> str:
        return (
            f"EXISTS (SELECT 1 FROM {n['snap']} x WHERE x.period = %({period})s AND x.customer_id = {cm}.customer_id)"
        )

    cursor.execute(
        f"""UPDATE {cm} SET joined = {moved("period", "previous")}, {n["left"]} = {moved("previous", "period")}
            WHERE period = %(period)s AND {has("period")} AND {has("previous")}""",
        params,
    )


def refresh_flags(periods: list[date]) -> None:
    """Recompute the flags and sticky revenue of the rows already in these months from their facts and the
    month before, leaving every other number as it is (rows written by hand, and rows built before these
    facts were kept). Same definitions as `refresh_month`; one UPDATE per month."""
    n = _names()
    cm = n["cm"]
    with connection.cursor() as cursor:
        for period in periods:
            cursor.execute(
                f"""UPDATE {cm} SET is_new = x.is_new, is_mobile_group = x.is_mobile_group,
                        is_integrated = x.is_integrated, sticky_revenue = x.sticky_revenue
                    FROM (SELECT c.id, prev.customer_id IS NULL AS is_new,
                                 {_mobile_sql("c.on_net_members")} AS is_mobile_group,
                                 COALESCE({INTEGRATED_SQL}, FALSE) AS is_integrated,
                                 COALESCE(f.sticky, 0) AS sticky_revenue
                          FROM {cm} c
                          LEFT JOIN ({_bill_sql()}) f ON f.customer_id = c.customer_id
                          LEFT JOIN {cm} prev ON prev.customer_id = c.customer_id AND prev.period = %(previous)s
                          WHERE c.period = %(period)s) x
                    WHERE {cm}.id = x.id AND {cm}.period = %(period)s""",
                _params(period),
            )
