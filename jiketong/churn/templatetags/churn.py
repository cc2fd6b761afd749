from django import template

from jiketong.churn.rules import describe

register = template.Library()


@register.filter
def reason_text(reason: dict) -> str:
    """A stored reason (code and numbers) in the current language."""
    return describe(reason)
