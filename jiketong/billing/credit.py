"""Credit grade (信用等级) per customer, from its billed months (CustomerMonth), in set-based SQL.

Over the `window_months` billed months ending at the latest month loaded (`as_of`), per customer:
- average days to pay (回款天数): the mean of the months' days to pay, months without one left out (empty
  when BOSS never gave it: the days threshold then does not count);
- months in arrears: billed months with any bill line unpaid on time;
- current consecutive months in arrears: months in arrears after the customer's latest paid month in the
  window (all of its months in arrears when none was paid).
The grade is the best of AAA, AA, A, B whose three thresholds (CreditRule) the customer meets, else C.
The nightly job replaces the whole table in two statements (docs/loyalty-points.md for worked examples).
"""

from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from .models import CREDIT_LEVELS_WITH_RULES, CreditGrade, CreditLevel, CreditRule, CustomerMonth


def window_start(as_of: date, months: int) -> date:
    index = as_of.year * 12 + as_of.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def _grade_sql() -> str:
    cases = " ".join(
        f"WHEN (x.avg_days IS NULL OR x.avg_days <= %({level}_days)s) AND x.arrears <= %({level}_arrears)s "
        f"AND x.consecutive <= %({level}_consecutive)s THEN %({level})s"
        for level in CREDIT_LEVELS_WITH_RULES
    )
    return f"CASE {cases} ELSE %(c)s END"


def refresh_credit_grades(rule: CreditRule | None = None, as_of: date | None = None) -> int:
    """Recompute every customer's grade; returns how many customers were graded. Idempotent."""
    rule = rule or CreditRule.current()
    if as_of is None:
        as_of = CustomerMonth.objects.order_by("-period").values_list("period", flat=True).first()
    quote = connection.ops.quote_name
    grades, months = quote(CreditGrade._meta.db_table), quote(CustomerMonth._meta.db_table)
    params: dict = {"start": None, "as_of": as_of, "now": timezone.now(), "c": CreditLevel.C.value}
    for level in CREDIT_LEVELS_WITH_RULES:
        params[level] = CreditLevel[level.upper()].value
        for what in ("days", "arrears", "consecutive"):
            params[f"{level}_{what}"] = getattr(rule, f"{level}_max_{what}")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {grades}")
        if as_of is None:
            return 0
        params["start"] = window_start(as_of, rule.window_months)
        cursor.execute(
            f"""
            INSERT INTO {grades} (customer_id, grade, as_of, months, avg_days_to_pay, arrears_months,
                                  consecutive_arrears, computed_at)
            SELECT x.customer_id, {_grade_sql()}, %(as_of)s, x.months, x.avg_days, x.arrears, x.consecutive, %(now)s
            FROM (SELECT m.customer_id, COUNT(*) AS months, ROUND(AVG(m.days_to_pay), 1) AS avg_days,
                         SUM(CASE WHEN m.arrears THEN 1 ELSE 0 END) AS arrears,
                         SUM(CASE WHEN m.arrears AND (p.last_paid IS NULL OR m.period > p.last_paid)
                                  THEN 1 ELSE 0 END) AS consecutive
                  FROM {months} m
                  JOIN (SELECT customer_id, MAX(CASE WHEN arrears THEN NULL ELSE period END) AS last_paid
                        FROM {months} WHERE period >= %(start)s AND period <= %(as_of)s
                        GROUP BY customer_id) p ON p.customer_id = m.customer_id
                  WHERE m.period >= %(start)s AND m.period <= %(as_of)s
                  GROUP BY m.customer_id) x
            """,
            params,
        )
        return cursor.rowcount
