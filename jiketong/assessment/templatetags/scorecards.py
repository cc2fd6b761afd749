"""`{{ value|figure:component.unit }}`: a component's actual or target as the scorecard shows it."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

from jiketong.core.money import format_yuan

register = template.Library()


@register.filter
def figure(value, unit: str) -> str:
    """A ratio as a percentage with one decimal (0.8571 → 85.7%), money as yuan, a count as it is; — for none."""
    if value is None or value == "":
        return "—"
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if unit == "percent":
        return f"{(number * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}%"
    if unit == "yuan":
        return format_yuan(number)
    return f"{number.normalize():f}"


@register.filter
def points(value) -> str:
    """A component's score as points of 100 (0.9523 → 95.2)."""
    if value is None or value == "":
        return "—"
    return f"{(Decimal(str(value)) * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}"


@register.filter
def get_item(mapping: dict, key):
    return (mapping or {}).get(key)
