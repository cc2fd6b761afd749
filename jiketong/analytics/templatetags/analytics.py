"""How an indicator's figure reads: yuan with separators, percentages with their sign, counts plain."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def figure(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "yuan":
        return f"¥{Decimal(value):,.2f}"
    if unit == "percent":
        return f"{value}%"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal) and unit in ("count", "members") and value == value.to_integral_value():
        return f"{int(value):,}"  # a target of 12 customers, kept with two places, reads as 12
    return str(value)


@register.filter
def get_item(mapping: dict, key):
    # A context variable left unset renders as "": answer nothing rather than fail the page.
    return mapping.get(key) if hasattr(mapping, "get") else None
