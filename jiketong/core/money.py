"""Money is Decimal yuan with two places, never float."""

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def yuan(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def sum_yuan(amounts: Iterable[Decimal]) -> Decimal:
    """The sum of amounts in yuan with two places, also when there are none: 0.00, never a bare 0
    (`sum(values, Decimal(0))` of nothing is Decimal("0"), which the API and exports print as "0")."""
    return yuan(sum(amounts, ZERO))


class MoneyField(models.DecimalField):
    """Yuan, 2 decimal places, up to 10^12."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)


def format_yuan(value: Decimal | None) -> str:
    if value is None:
        return ""
    sign = "-" if round(value, 2) < 0 else ""  # -¥900.00, not ¥-900.00 (and never -¥0.00)
    return sign + _("¥%(amount)s") % {"amount": f"{abs(value):,.2f}"}
