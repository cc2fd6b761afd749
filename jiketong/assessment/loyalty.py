"""Loyalty and value retention per customer and month (the facts the loyalty indicators count).

A customer in service in a month is **loyal** (behavioural loyalty, DOMAIN §10, §12) when
- it was billed in each of the 12 months to the month (repeat purchase: it keeps buying every month), and
- either it has been a customer for at least 24 months (tenure: `cooperation since`), or it uses more products
  than 12 months before (it adopted new products).
Referrals are not recorded in the archive (a customer's source says how *it* came, not whom it brought), so
they do not count yet; attitudinal and emotional loyalty come from the surveys (the satisfaction indicator).

A **value customer** (grade A or B, as graded now) billed 12 months before the month is **retained** when it is
still billed in the month.
"""

from datetime import date

from django.db import transaction
from django.db.models import Count, DecimalField, Max, Q, Sum

from jiketong.analytics.periods import add_months
from jiketong.billing.models import CustomerMonth

from . import summary
from .models import LoyaltyFact

TENURE_MONTHS = 24
REPEAT_MONTHS = 12
VALUE_GRADES = ("A1", "A2", "B1", "B2")
BATCH = 5000


def refresh(period: date, *, summarise: bool = True) -> int:
    """Replace the month's loyalty facts from its customer-months: one GROUP BY over 13 months of rows. Then the
    month's kept counts (`summary`; the whole table when it was never built), unless the caller rebuilds them."""
    year_before = add_months(period, -REPEAT_MONTHS)
    tenure_since = add_months(period, -TENURE_MONTHS)
    now = Q(period=period)
    rows = (
        CustomerMonth.objects.filter(period__gte=year_before, period__lte=period)
        .order_by()
        .values("customer_id", "customer__cooperation_since", "customer__grade")
        .annotate(
            months=Count("pk", filter=Q(period__gt=year_before)),
            billed=Count("pk", filter=now),
            r_now=Sum("revenue", filter=now, output_field=DecimalField(max_digits=20, decimal_places=2)),
            p_now=Max("products", filter=now),
            p_before=Max("products", filter=Q(period=year_before)),
            before=Count("pk", filter=Q(period=year_before)),
        )
    )
    facts = []
    for row in rows.iterator(chunk_size=BATCH):
        in_service = row["billed"] > 0
        value_base = row["before"] > 0 and row["customer__grade"] in VALUE_GRADES
        if not in_service and not value_base:
            continue
        since = row["customer__cooperation_since"]
        tenure = since is not None and since <= tenure_since
        adopted = row["before"] > 0 and (row["p_now"] or 0) > (row["p_before"] or 0)
        loyal = in_service and row["months"] >= REPEAT_MONTHS and (tenure or adopted)
        facts.append(
            LoyaltyFact(
                period=period,
                customer_id=row["customer_id"],
                in_service=in_service,
                revenue=row["r_now"] or 0,
                loyal=loyal,
                value_base=value_base,
                value_retained=value_base and in_service,
            )
        )
    with transaction.atomic():
        LoyaltyFact.objects.filter(period=period).delete()
        LoyaltyFact.objects.bulk_create(facts, batch_size=BATCH)
    if summarise:
        summary.refresh([period] if summary.built() else None)
    return len(facts)
