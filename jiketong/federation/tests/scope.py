"""The scope matrix's hook: national groups are HQ's (not a customer of the world), readable by HQ only."""

from ..models import NationalGroup


def populate(world, customers: dict) -> None:
    NationalGroup.objects.create(key="91110000100000000X", uscc="91110000100000000X", name="全国测试集团")
