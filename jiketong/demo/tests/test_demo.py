"""The demo generator: deterministic, valid by the same rules the services enforce, and usable."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from jiketong.core.validators import normalize_mobile, normalize_uscc
from jiketong.customers.filters import search_customers
from jiketong.customers.models import Contact, Customer, GradeChange, Member
from jiketong.customers.search import build_search_text
from jiketong.demo.generator import DEMO_LOGINS, DEMO_PASSWORD, generate, reset
from jiketong.org.models import OrgUnit, Role, Staff

GROUPS = 60


def snapshot() -> list[tuple]:
    return list(Customer.objects.order_by("path").values_list("path", "name", "uscc", "grade", "owner__user__username"))


@pytest.fixture
def demo(db):
    generate(groups=GROUPS, seed=7)


def test_same_seed_gives_same_data_and_another_seed_differs(demo):
    first = snapshot()
    reset()
    generate(groups=GROUPS, seed=7)
    assert snapshot() == first
    reset()
    generate(groups=GROUPS, seed=8)
    other = snapshot()
    assert [row[1] for row in other] != [row[1] for row in first]
    assert {row[2] for row in other}.isdisjoint({row[2] for row in first} - {None})


def test_it_makes_exactly_the_requested_number_of_customers(demo):
    assert Customer.objects.count() == GROUPS
    assert GradeChange.objects.filter(old_grade="", reason="初始评级").count() == GROUPS


def test_every_uscc_is_valid_and_unique(demo):
    codes = list(Customer.objects.values_list("uscc", flat=True))
    assert all(normalize_uscc(code) == code for code in codes)
    assert len(set(codes)) == len(codes)


def test_every_contact_mobile_is_valid(demo):
    mobiles = Contact.objects.exclude(mobile="").values_list("mobile", flat=True)
    assert mobiles
    assert all(normalize_mobile(mobile) == mobile for mobile in mobiles)


def test_members_never_leave_before_joining_or_appear_twice(demo):
    assert Member.objects.exists()
    assert not Member.objects.filter(left_on__lt=F("joined_on")).exists()
    current = list(Member.objects.current().values_list("customer_id", "phone"))
    assert len(current) == len(set(current))


def test_trees_are_consistent(demo):
    assert all(problem == [] for problem in Customer.objects.find_problems())
    assert all(problem == [] for problem in OrgUnit.objects.find_problems())
    assert OrgUnit.objects.get(code="440106").name == "天河区分公司"
    tianhe = OrgUnit.objects.get(code="440106")
    assert tianhe.path.startswith(OrgUnit.objects.get(code="440100").path)


def test_owner_and_backup_are_different_people(demo):
    assert not Customer.objects.filter(owner=F("backup_owner")).exists()
    assert Customer.objects.filter(owner__isnull=False).count() == GROUPS


def test_customers_carry_number_and_search_text_as_the_service_would(demo):
    for customer in Customer.objects.select_related("org_unit"):
        assert customer.number == f"{customer.org_unit.code[:4]}{customer.pk:08d}"
        assert customer.search_text == build_search_text(
            name=customer.name, short_name=customer.short_name, number=customer.number, uscc=customer.uscc
        )


def test_cross_province_groups_exist(demo):
    cross = 0
    for root in Customer.objects.filter(depth=1, numchild__gt=0):
        units = Customer.objects.filter(path__startswith=root.path, depth__gt=1).values_list(
            "org_unit__code", flat=True
        )
        provinces = {code[:2] for code in units}
        cross += {"44", "33"} <= provinces
    assert cross >= 1


def test_gzdt_finds_guangzhou_metro(demo):
    names = list(search_customers(Customer.objects.all(), "gzdt").values_list("name", flat=True))
    assert "广州地铁集团有限公司" in names


def test_manager_owns_guangzhou_metro(demo):
    metro = Customer.objects.get(name="广州地铁集团有限公司")
    assert metro.owner.user.username == "manager"
    assert metro.org_unit.code == "440106"


def test_one_login_per_role_and_each_can_log_in(demo, client):
    for login in DEMO_LOGINS:
        if login.role != "superuser":
            staff = Staff.objects.get(user__username=login.username)
            assert login.role in staff.role_codes
            assert staff.org_unit.code == login.org_code
        response = client.post("/accounts/login/", {"username": login.username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, login.username
        client.logout()
    assert {role for role, _label in Role.CHOICES} <= {login.role for login in DEMO_LOGINS}


def test_command_refuses_a_non_empty_database_and_if_empty_only_prints_logins(demo):
    with pytest.raises(CommandError):
        call_command("demo", groups=GROUPS, stdout=StringIO())
    out = StringIO()
    call_command("demo", groups=GROUPS, if_empty=True, stdout=out)
    assert "manager" in out.getvalue()
    assert Customer.objects.count() == GROUPS


def test_command_reset_regenerates(demo):
    call_command("demo", groups=10, reset=True, stdout=StringIO())
    assert Customer.objects.count() == 10
