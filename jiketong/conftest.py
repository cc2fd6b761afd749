"""Shared fixtures: the org tree and the fixed cast of personas (see jiketong/testing.py)."""

import pytest
from django.test import Client
from django.utils import translation

from jiketong import testing
from jiketong.org.models import Role


@pytest.fixture(autouse=True)
def fast_argon2(settings):
    """Still argon2 (tests check the algorithm), with the cost turned down: the cast hashes eight passwords."""
    settings.PASSWORD_HASHERS = ["jiketong.testing.FastArgon2Hasher"]


@pytest.fixture(autouse=True)
def english():
    """Code called straight from a test speaks English, so service and validator tests assert the msgids.

    Pages requested through the test client get Chinese (the default) unless the client carries the language
    cookie of the language switch; the API follows Accept-Language. core/tests/test_i18n.py checks that side.
    """
    with translation.override("en"):
        yield


@pytest.fixture
def org(db):
    return testing.make_org_tree()


@pytest.fixture
def cast(org):
    """The personas and a customer or two for each, as a simple namespace."""

    class Cast:
        pass

    c = Cast()
    c.org = org
    c.alice = testing.make_staff("alice", org["440106"], [Role.CUSTOMER_MANAGER], name="李晓红", rank="manager")
    c.bob = testing.make_staff("bob", org["440106"], [Role.CUSTOMER_MANAGER], name="王强", rank="manager")
    c.ivan = testing.make_staff("ivan", org["440304"], [Role.INSIDE_SALES], name="赵敏")
    c.carol = testing.make_staff("carol", org["440100"], [Role.SUPERVISOR], name="陈静")
    c.dave = testing.make_staff("dave", org["330000"], [Role.SUPERVISOR], name="周伟")
    c.erin = testing.make_staff("erin", org["100000"], [Role.ANALYST], name="孙丽")
    c.frank = testing.make_staff("frank", org["440000"], [Role.ADMIN], name="吴刚")
    c.grace = testing.make_staff("grace", org["440000"], [Role.AUDITOR], name="郑芳")
    c.alice_customer = testing.make_customer(
        org_unit=org["440106"], owner=c.alice, name="广州地铁集团有限公司", short_name="广州地铁"
    )
    c.bob_customer = testing.make_customer(org_unit=org["440106"], owner=c.bob, name="天河软件园管理委员会")
    c.backed_up = testing.make_customer(
        org_unit=org["440104"], owner=c.bob, backup_owner=c.alice, name="越秀区人民医院"
    )
    c.shenzhen_customer = testing.make_customer(org_unit=org["440304"], owner=c.ivan, name="深圳福田银行")
    c.zhejiang_customer = testing.make_customer(org_unit=org["330106"], name="杭州西湖教育集团")
    return c


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def client_as():
    """`client_as(cast.alice)` → a logged-in test client for that staff member."""
    return lambda staff: login(staff.user)
