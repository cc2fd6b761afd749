"""Test helpers: a small real org tree, a fixed cast of personas, and factories for domain objects.

The cast (STYLE §9, after healthchecks' Alice/Bob/Charlie):
- alice   customer manager in 天河区 (Guangzhou) — owns `alice_customer`
- bob     another customer manager in 天河区 — owns `bob_customer` and `backed_up` (越秀区), which Alice backs up
- ivan    inside sales in 福田区 (Shenzhen) — owns `shenzhen_customer`
- carol   supervisor of 广州市 (the city)
- dave    supervisor of 浙江省 (another province)
- erin    analyst at HQ
- frank   system administrator (admin role)
- grace   auditor of 广东省
`zhejiang_customer` has no owner: only Dave (Zhejiang), Erin (HQ) and Frank (admin) see it.
"""

import itertools
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import Argon2PasswordHasher

from jiketong.core.validators import uscc_check_digit
from jiketong.customers.models import Customer, CustomerType, Grade, LifecycleStatus
from jiketong.customers.services import customer_create
from jiketong.org.models import OrgLevel, OrgUnit, Role, Staff

User = get_user_model()


class FastArgon2Hasher(Argon2PasswordHasher):
    """argon2 at the lowest cost, for tests only."""

    time_cost = 1
    memory_cost = 64
    parallelism = 1


PASSWORD = "Jkt-test-2026!"
_counter = itertools.count(1)

# (code, name, level, parent code)
ORG_TREE = [
    ("100000", "集团公司", OrgLevel.HQ, None),
    ("440000", "广东省公司", OrgLevel.PROVINCE, "100000"),
    ("440100", "广州市分公司", OrgLevel.CITY, "440000"),
    ("440106", "天河区分公司", OrgLevel.COUNTY, "440100"),
    ("440104", "越秀区分公司", OrgLevel.COUNTY, "440100"),
    ("440300", "深圳市分公司", OrgLevel.CITY, "440000"),
    ("440304", "福田区分公司", OrgLevel.COUNTY, "440300"),
    ("330000", "浙江省公司", OrgLevel.PROVINCE, "100000"),
    ("330100", "杭州市分公司", OrgLevel.CITY, "330000"),
    ("330106", "西湖区分公司", OrgLevel.COUNTY, "330100"),
]


def make_org_tree() -> dict[str, OrgUnit]:
    units: dict[str, OrgUnit] = {}
    for code, name, level, parent in ORG_TREE:
        if parent is None:
            units[code] = OrgUnit.objects.add_root(instance=OrgUnit(code=code, name=name, level=level))
        else:
            parent_unit = OrgUnit.objects.get(pk=units[parent].pk)
            units[code] = OrgUnit.objects.add_child(parent_unit, instance=OrgUnit(code=code, name=name, level=level))
    return units


def make_staff(username: str, org_unit: OrgUnit, roles: list[str], *, name: str = "", rank: str = "") -> Staff:
    user = User.objects.create_user(username=username, password=PASSWORD)
    staff = Staff.objects.create(user=user, name=name or username, org_unit=org_unit, rank=rank)
    staff.roles.set(roles)
    return staff


def make_uscc(region: str = "440106", authority: str = "91") -> str:
    """A valid 统一社会信用代码 (unique per call)."""
    first17 = f"{authority}{region}{next(_counter):09d}"
    return first17 + uscc_check_digit(first17)


def system_user():
    user, _ = User.objects.get_or_create(username="system", defaults={"is_superuser": True, "is_staff": True})
    return user


def make_customer(
    *, org_unit: OrgUnit, owner: Staff | None = None, parent: Customer | None = None, **fields
) -> Customer:
    n = next(_counter)
    values = {
        "name": f"测试客户{n}有限公司",
        "type": CustomerType.ENTERPRISE,
        "industry_id": "it",
        "grade": Grade.C,
        "status": LifecycleStatus.ACTIVE,
        "uscc": make_uscc(org_unit.code[:6]),
        "cooperation_since": date(2020, 1, 1),
    } | fields
    return customer_create(actor=system_user(), parent=parent, org_unit=org_unit, owner=owner, **values)


class Cast:
    """The personas and their customers (see the module docstring), as attributes."""


def make_cast(org: dict[str, OrgUnit]) -> Cast:
    """The fixed cast on `org` (make_org_tree()): the `cast` fixture, and the shared world of the generated tests."""
    c = Cast()
    c.org = org
    c.alice = make_staff("alice", org["440106"], [Role.CUSTOMER_MANAGER], name="李晓红", rank="manager")
    c.bob = make_staff("bob", org["440106"], [Role.CUSTOMER_MANAGER], name="王强", rank="manager")
    c.ivan = make_staff("ivan", org["440304"], [Role.INSIDE_SALES], name="赵敏")
    c.carol = make_staff("carol", org["440100"], [Role.SUPERVISOR], name="陈静")
    c.dave = make_staff("dave", org["330000"], [Role.SUPERVISOR], name="周伟")
    c.erin = make_staff("erin", org["100000"], [Role.ANALYST], name="孙丽")
    c.frank = make_staff("frank", org["440000"], [Role.ADMIN], name="吴刚")
    c.grace = make_staff("grace", org["440000"], [Role.AUDITOR], name="郑芳")
    c.alice_customer = make_customer(
        org_unit=org["440106"], owner=c.alice, name="广州地铁集团有限公司", short_name="广州地铁"
    )
    c.bob_customer = make_customer(org_unit=org["440106"], owner=c.bob, name="天河软件园管理委员会")
    c.backed_up = make_customer(org_unit=org["440104"], owner=c.bob, backup_owner=c.alice, name="越秀区人民医院")
    c.shenzhen_customer = make_customer(org_unit=org["440304"], owner=c.ivan, name="深圳福田银行")
    c.zhejiang_customer = make_customer(org_unit=org["330106"], name="杭州西湖教育集团")
    return c
