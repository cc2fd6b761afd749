"""Which kind of instance this is (settings.JIKETONG_INSTANCE): one province's system, HQ's, or a single
instance holding everything (the default, today's behaviour). Read through these helpers, never the raw
setting, so tests can switch roles with `override_settings`."""

from django.conf import settings

SINGLE, PROVINCE, HQ = "single", "province", "hq"


def role() -> str:
    return settings.JIKETONG_INSTANCE


def is_province() -> bool:
    return role() == PROVINCE


def is_hq() -> bool:
    return role() == HQ


def serves_national_views() -> bool:
    """HQ's national pages exist on HQ, and on a single instance (which may receive nothing, and shows empty)."""
    return role() in (HQ, SINGLE)


def province_code() -> str:
    return settings.JIKETONG_PROVINCE
