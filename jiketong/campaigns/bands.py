"""The bands campaigns and cross-sell group customers by (docs/campaigns.md says why these edges).

- Size band: the archive's headcount (`Customer.size`), the basis of "customers of this size".
- Revenue band: the customer's revenue in the last billed month (billing.CustomerMonth, kept at import), so
  a filter by band reads one precomputed row per customer through the (customer, period) key.
"""

from datetime import date
from decimal import Decimal

from django.db.models import Case, CharField, Max, Q, Value, When
from django.utils.translation import gettext_lazy as _

# code, label, lowest headcount (inclusive), highest (exclusive; None: no limit)
SIZE_BANDS = [
    ("s", _("under 50 people"), 0, 50),
    ("m", _("50–199 people"), 50, 200),
    ("l", _("200–999 people"), 200, 1000),
    ("xl", _("1,000 people or more"), 1000, None),
]
UNKNOWN_SIZE = "na"
SIZE_LABELS = {code: label for code, label, _lo, _hi in SIZE_BANDS} | {UNKNOWN_SIZE: _("size not recorded")}

# code, label, lowest monthly revenue in yuan (inclusive), highest (exclusive)
REVENUE_BANDS = [
    ("r1", _("under 1,000 yuan a month"), Decimal(0), Decimal(1000)),
    ("r2", _("1,000–9,999 yuan a month"), Decimal(1000), Decimal(10000)),
    ("r3", _("10,000–49,999 yuan a month"), Decimal(10000), Decimal(50000)),
    ("r4", _("50,000 yuan a month or more"), Decimal(50000), None),
]
REVENUE_LABELS = {code: label for code, label, _lo, _hi in REVENUE_BANDS}


def size_band(size: int | None) -> str:
    if size is None:
        return UNKNOWN_SIZE
    for code, _label, low, high in SIZE_BANDS:
        if size >= low and (high is None or size < high):
            return code
    return UNKNOWN_SIZE


def size_band_expression(field: str = "size") -> Case:
    """`size_band` in SQL, for the nightly grouping."""
    whens = [
        When(Q(**{f"{field}__gte": low}) & (Q() if high is None else Q(**{f"{field}__lt": high})), then=Value(code))
        for code, _label, low, high in SIZE_BANDS
    ]
    return Case(*whens, default=Value(UNKNOWN_SIZE), output_field=CharField())


def revenue_range(code: str) -> Q:
    """CustomerMonth rows in the band."""
    for band, _label, low, high in REVENUE_BANDS:
        if band == code:
            return Q(revenue__gte=low) & (Q() if high is None else Q(revenue__lt=high))
    raise LookupError(code)


def last_billed_month() -> date | None:
    """The newest month with customer-month rows (the head of the (period, -revenue) index)."""
    from jiketong.billing.models import CustomerMonth

    return CustomerMonth.objects.aggregate(latest=Max("period"))["latest"]
