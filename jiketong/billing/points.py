"""Loyalty points (DOMAIN §9) from CustomerMonth, in set-based SQL.

Each month a customer has billing: tenure points (`points_per_month`) + spend points (one per
`yuan_per_point` yuan billed, rounded down). A month in arrears earns nothing when the rule says so, and
also resets the balance to 0 when the rule says so. The balance carries over from the customer's latest
earlier month; the club tier follows cumulative spend. Recomputing from a period onwards is idempotent:
each month reads only the month before it.

Points redeemed (billing.redemption) are spent from the balance of the month they were recorded against
(`from_period`, the customer's latest ledger month at the time): a rebuild subtracts them again, so
recomputing history keeps every redemption. The balance never goes below 0.
"""

from datetime import date

from django.db import connection

from .models import ClubTier, CustomerMonth, PointsLedger, PointsRule, Redemption
from .rollup import month_before


def refresh_points(since: date, rule: PointsRule | None = None) -> int:
    """Rebuild the ledger for `since` and every later month; returns the months rebuilt."""
    rule = rule or PointsRule.current()
    ledger = connection.ops.quote_name(PointsLedger._meta.db_table)
    periods = list(
        CustomerMonth.objects.filter(period__gte=since).order_by("period").values_list("period", flat=True).distinct()
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {ledger} WHERE period >= %s", [since])
        for period in periods:
            cursor.execute(_month_sql(), _params(rule, period))
    return len(periods)


def _params(rule: PointsRule, period: date) -> dict:
    return {
        "period": period,
        "previous": month_before(period),
        "per_month": rule.points_per_month,
        "yuan_per_point": rule.yuan_per_point,
        "forfeit_accrual": rule.arrears_forfeits_accrual,
        "forfeit_balance": rule.arrears_forfeits_balance,
        "silver": rule.silver_from,
        "gold": rule.gold_from,
        "diamond": rule.diamond_from,
        "regular_tier": ClubTier.REGULAR.value,
        "silver_tier": ClubTier.SILVER.value,
        "gold_tier": ClubTier.GOLD.value,
        "diamond_tier": ClubTier.DIAMOND.value,
    }


def _month_sql() -> str:
    quote = connection.ops.quote_name
    ledger, months = quote(PointsLedger._meta.db_table), quote(CustomerMonth._meta.db_table)
    redemptions = quote(Redemption._meta.db_table)

    def earlier(column: str) -> str:
        # The customer's latest earlier month: the month just before when it has one (one join, a month's rows),
        # else a lookup by index for the few that skipped months. Not a join on "the latest earlier month" for
        # everyone, which made PostgreSQL hash the whole ledger for every month rebuilt (quadratic in months).
        return (
            f"CASE WHEN prev.customer_id IS NULL THEN (SELECT l.{column} FROM {ledger} l WHERE "
            f"l.customer_id = cm.customer_id AND l.period < %(period)s ORDER BY l.period DESC LIMIT 1) "
            f"ELSE prev.{column} END"
        )

    # SQLite's CAST truncates (= rounds down for amounts ≥ 0); PostgreSQL's rounds, so floor first.
    spend = "CAST(FLOOR(cm.revenue / CAST(%(yuan_per_point)s AS numeric)) AS integer)"
    if connection.vendor == "sqlite":
        spend = "CAST(cm.revenue / CAST(%(yuan_per_point)s AS numeric) AS integer)"
    return f"""
        INSERT INTO {ledger} (period, customer_id, tenure_points, spend_points, arrears, earned, balance,
                              cumulative_spend, tier, redeemed)
        SELECT x.period, x.customer_id, x.tenure, x.spend, x.arrears, x.earned,
               CASE WHEN x.arrears AND %(forfeit_balance)s THEN 0
                    WHEN x.previous_balance + x.earned > x.redeemed THEN x.previous_balance + x.earned - x.redeemed
                    ELSE 0 END,
               x.cumulative,
               CASE WHEN x.cumulative >= CAST(%(diamond)s AS numeric) THEN %(diamond_tier)s
                    WHEN x.cumulative >= CAST(%(gold)s AS numeric) THEN %(gold_tier)s
                    WHEN x.cumulative >= CAST(%(silver)s AS numeric) THEN %(silver_tier)s
                    ELSE %(regular_tier)s END,
               x.redeemed
        FROM (SELECT cm.period, cm.customer_id, cm.arrears, %(per_month)s AS tenure, {spend} AS spend,
                     CASE WHEN cm.arrears AND %(forfeit_accrual)s THEN 0 ELSE %(per_month)s + {spend} END AS earned,
                     COALESCE({earlier("balance")}, 0) AS previous_balance,
                     COALESCE({earlier("cumulative_spend")}, 0) + cm.revenue AS cumulative,
                     COALESCE(r.points, 0) AS redeemed
              FROM {months} cm
              LEFT JOIN {ledger} prev ON prev.customer_id = cm.customer_id AND prev.period = %(previous)s
              LEFT JOIN (SELECT customer_id, SUM(points) AS points FROM {redemptions}
                         WHERE from_period = %(period)s GROUP BY customer_id) r ON r.customer_id = cm.customer_id
              WHERE cm.period = %(period)s) x
    """
