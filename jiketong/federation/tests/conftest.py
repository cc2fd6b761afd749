"""A national group in the cast's world and a link from the province side to HQ's API in this process.

The test database plays both instances: `as_province` / `as_hq` switch the role setting, and `hq_link` makes
the province's client POST to HQ's API through the test client (as HQ), with the province's own token."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client, override_settings

from jiketong import testing
from jiketong.billing.models import CustomerMonth
from jiketong.customers.models import Contact, Member

from .. import client as sync_client
from .. import services
from ..models import SharedGroup

PERIOD = date(2026, 5, 1)
PHONE, MOBILE = "13912345678", "13800001111"


def as_province(code: str = "440000", url: str = "http://hq.test", token: str = ""):
    return override_settings(
        JIKETONG_INSTANCE="province",
        JIKETONG_PROVINCE=code,
        FEDERATION_HQ_URL=url,
        FEDERATION_HQ_TOKEN=token,
        FEDERATION_RETRY_SECONDS=30,
    )


def as_hq():
    return override_settings(JIKETONG_INSTANCE="hq", JIKETONG_PROVINCE="")


def hq_call(token: str, method: str, path: str, body: dict | None = None):
    """One call to HQ's sync API as the province holding `token` (a Django test response)."""
    with as_hq():
        return Client().generic(
            method,
            f"/api/v1/federation/{path}",
            json.dumps(body) if body is not None else "",
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def national(cast):
    """广州地铁 (Alice's, head in 天河区) with a unit in 深圳 and one in 杭州 (Zhejiang), a member with a phone
    number and a key person with a mobile, billed in May 2026; shared with HQ."""
    head = cast.alice_customer
    shenzhen = testing.make_customer(
        org_unit=cast.org["440304"], owner=cast.ivan, parent=head, name="广州地铁深圳分公司"
    )
    hangzhou = testing.make_customer(org_unit=cast.org["330106"], parent=head, name="广州地铁杭州分公司")
    Member.objects.create(customer=head, phone=PHONE, joined_on=date(2025, 1, 1))
    Contact.objects.create(customer=head, name="张总", title="总经理", mobile=MOBILE, is_key_person=True)
    for customer, revenue, members in ((head, "800000", 900), (shenzhen, "300000", 200), (hangzhou, "400000", 150)):
        CustomerMonth.objects.create(
            customer=customer,
            period=PERIOD,
            revenue=Decimal(revenue),
            members=members,
            billed_members=members,
            products=2,
        )
    from jiketong.analytics.summary import refresh

    refresh(PERIOD)
    SharedGroup.objects.create(customer=head, reason="province")
    cast.shenzhen_unit, cast.hangzhou_unit = shenzhen, hangzhou
    return cast


@pytest.fixture
def provinces(db):
    """Guangdong and Zhejiang registered at HQ: code → token."""
    actor = testing.system_user()
    return {
        code: services.province_add(actor=actor, code=code, name=name)[1]
        for code, name in (("440000", "广东"), ("330000", "浙江"))
    }


class Link:
    """HQ's end of the wire for the province's client; `down = True` is an outage."""

    def __init__(self) -> None:
        self.down = False
        self.calls = 0

    def __call__(self, method: str, path: str, body: dict | None = None) -> dict:
        from django.conf import settings

        self.calls += 1
        if self.down:
            raise sync_client.SyncError("HQ unreachable: connection refused")
        token = settings.FEDERATION_HQ_TOKEN
        code = settings.JIKETONG_PROVINCE
        response = hq_call(token, method, path, body)
        with as_province(code, token=token):
            if response.status_code >= 400:
                raise sync_client.SyncError(f"HQ answered {response.status_code}: {response.json()['detail']}")
            return response.json()


@pytest.fixture
def hq_link(monkeypatch):
    link = Link()
    monkeypatch.setattr(sync_client, "_call", link)
    return link
