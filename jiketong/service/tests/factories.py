"""Test helpers for service objects."""

from datetime import datetime
from zoneinfo import ZoneInfo

from jiketong.service import services
from jiketong.service.models import Channel

TZ = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hh, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def receive(staff, customer, *, type="complaint", opened_at=None, title="网络时断时续", **fields):
    return services.ticket_receive(
        actor=staff.user,
        customer=customer,
        type=type,
        title=title,
        channel=Channel.MANAGER,
        opened_at=opened_at,
        **fields,
    )
