"""`{% export_note %}`: what an export button's page says about size (core.exports.note)."""

from django import template

from jiketong.core import exports

register = template.Library()


@register.simple_tag
def export_note() -> str:
    return exports.note()
