"""CustomerMonth: each customer's month rolled up from the facts (and member snapshots) in set-based SQL,
so a period of a million customers is a few statements, not a million ORM saves. See CustomerMonth for
what each number means."""

from datetime import date

from django.db import connection

from .models import BillingFact, CustomerMonth, MemberSnapshot


def month_before(period: date) -> date:
    return date(period.year - 1, 12, 1) if period.month == 1 else date(period.year, period.month - 1, 1)


def month_after(period: date) -> date:
    return date(period.year + 1, 1, 1) if period.month == 12 else date(period.year, period.month + 1, 1)


def refresh_months(periods: list[date]) -> list[date]:
    """Recompute CustomerMonth for these periods, and for the month after each when it has facts (its
    joined / left numbers compare against the month just changed). Returns the periods recomputed."""
    todo = set(periods)
    todo |= {month_after(p) for p in periods if BillingFact.objects.filter(period=month_after(p)).exists()}
    for period in sorted(todo):
        refresh_month(period)
    return sorted(todo)


def _names() -> dict[str, str]:
    quote = connection.ops.quote_name
    return {
        "cm": quote(CustomerMonth._meta.db_table),
        "fact": quote(BillingFact._meta.db_table),
        "snap": quote(MemberSnapshot._meta.db_table),
        "left": quote("left"),
    }


def refresh_month(period: date) -> None:
    previous = month_before(period)
    params = {
        "period": period,
        "previous": previous,
        # With no data at all for the month before (the first month loaded), nobody counts as joined.
        "has_previous": CustomerMonth.objects.filter(period=previous).exists(),
    }
    n = _names()
    members = "COALESCE(s.members, f.billed)"
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {n['cm']} WHERE period = %(period)s", params)
        cursor.execute(
            f"""
            INSERT INTO {n["cm"]} (period, customer_id, revenue, products, billed_members, members,
                                   on_net_members, arrears, joined, {n["left"]})
            SELECT %(period)s, f.customer_id, f.revenue, f.products, f.billed, {members},
                   COALESCE(s.on_net, f.billed), f.arrears,
                   CASE WHEN prev.customer_id IS NULL THEN CASE WHEN %(has_previous)s THEN {members} ELSE 0 END
                        WHEN {members} > prev.members THEN {members} - prev.members ELSE 0 END,
                   CASE WHEN prev.members > {members} THEN prev.members - {members} ELSE 0 END
            FROM (SELECT customer_id, SUM(revenue) AS revenue,
                         SUM(CASE WHEN revenue > 0 OR billed_members > 0 THEN 1 ELSE 0 END) AS products,
                         MAX(billed_members) AS billed,
                         SUM(CASE WHEN paid_on_time THEN 0 ELSE 1 END) > 0 AS arrears
                  FROM {n["fact"]} WHERE period = %(period)s GROUP BY customer_id) f
            LEFT JOIN (SELECT customer_id, COUNT(*) AS members, SUM(CASE WHEN on_net THEN 1 ELSE 0 END) AS on_net
                       FROM {n["snap"]} WHERE period = %(period)s GROUP BY customer_id) s
                   ON s.customer_id = f.customer_id
            LEFT JOIN {n["cm"]} prev ON prev.customer_id = f.customer_id AND prev.period = %(previous)s
            """,
            params,
        )
        if (
            MemberSnapshot.objects.filter(period=period).exists()
            and MemberSnapshot.objects.filter(period=previous).exists()
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
