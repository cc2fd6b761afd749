"""Money is Decimal yuan with two places, never float."""

from decimal import ROUND_HALF_UP, Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")


def yuan(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class MoneyField(models.DecimalField):
    """Yuan, 2 decimal places, up to 10^12."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(*args, **kwargs)


def format_yuan(value: Decimal | None) -> str:
    if value is None:
        return ""
    return _("¥%(amount)s") % {"amount": f"{value:,.2f}"}
