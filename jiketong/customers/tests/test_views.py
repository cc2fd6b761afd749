"""The customer pages: scope, forms and their field errors, masking and reveals, HTMX partials, query counts."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from jiketong import testing
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.customers import services
from jiketong.customers.models import Contact, Customer, Member

pytestmark = pytest.mark.django_db

MOBILE = "13812345678"


def detail_url(customer: Customer) -> str:
    return reverse("customers:detail", args=[customer.pk])


def customer_post(customer: Customer | None, org_unit, **overrides) -> dict:
    """A complete, valid form submission (the fields an edit form sends)."""
    data = {
        "name": customer.name if customer else "新开客户有限公司",
        "short_name": customer.short_name if customer else "",
        "number": customer.number if customer else "",
        "uscc": customer.uscc if customer else testing.make_uscc("440106"),
        "type": "enterprise",
        "industry": "it",
        "size": "",
        "address": customer.address if customer else "",
        "org_unit": org_unit.pk,
        "grade": customer.grade if customer else "C",
        "status": "active",
        "service_level": "standard",
        "source": "",
        "cooperation_since": "2020-01-01",
        "note": "",
        "parent_number": "",
        "grade_reason": "",
    }
    if customer and customer.owner_id:
        data["owner"] = customer.owner_id
    if customer and customer.backup_owner_id:
        data["backup_owner"] = customer.backup_owner_id
    return data | overrides


# --- pages render in scope, 404 out of scope --------------------------------------------------------
def test_manager_sees_list_and_own_customer(cast, client_as):
    client = client_as(cast.alice)
    response = client.get(reverse("customers:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "广州地铁集团有限公司" in html
    assert "越秀区人民医院" in html  # backed up by Alice
    assert "天河软件园管理委员会" not in html  # Bob's alone
    assert client.get(detail_url(cast.alice_customer)).status_code == 200


@pytest.mark.parametrize(
    "route",
    [
        "customers:detail",
        "customers:edit",
        "customers:contact_create",
        "customers:member_add",
        "customers:members_bulk_add",
    ],
)
def test_manager_gets_404_for_other_managers_customer(cast, client_as, route):
    response = client_as(cast.alice).get(reverse(route, args=[cast.bob_customer.pk]))
    assert response.status_code == 404


def test_supervisor_in_other_province_gets_404(cast, client_as):
    assert client_as(cast.dave).get(detail_url(cast.alice_customer)).status_code == 404
    assert client_as(cast.dave).get(detail_url(cast.zhejiang_customer)).status_code == 200


def test_contact_and_member_pages_are_scoped(cast, client_as):
    contact = services.contact_create(actor=cast.bob.user, customer=cast.bob_customer, name="张三", mobile=MOBILE)
    member = services.member_add(
        actor=cast.bob.user, customer=cast.bob_customer, phone=MOBILE, joined_on=date(2024, 1, 1)
    )
    alice = client_as(cast.alice)
    assert alice.get(reverse("customers:contact_edit", args=[contact.pk])).status_code == 404
    assert alice.post(reverse("customers:contact_reveal", args=[contact.pk])).status_code == 404
    assert alice.get(reverse("customers:member_edit", args=[member.pk])).status_code == 404
    assert alice.post(reverse("customers:member_reveal", args=[member.pk])).status_code == 404


def test_search_by_pinyin_initials(cast, client_as):
    response = client_as(cast.alice).get(reverse("customers:list"), {"search": "gzdt"})
    html = response.content.decode()
    assert "广州地铁集团有限公司" in html
    assert "越秀区人民医院" not in html


def test_filters_by_region_code_and_grade(cast, client_as):
    client = client_as(cast.carol)
    html = client.get(reverse("customers:list"), {"region": "440104"}).content.decode()
    assert "越秀区人民医院" in html and "广州地铁集团有限公司" not in html
    html = client.get(reverse("customers:list"), {"grade": "A"}).content.decode()
    assert "广州地铁集团有限公司" not in html


def test_list_pagination_keeps_filters(cast, client_as):
    for n in range(25):
        testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice, name=f"天河客户{n:02d}")
    response = client_as(cast.alice).get(reverse("customers:list"), {"search": "天河客户"})
    assert response.context["page"].paginator.count == 25
    assert len(response.context["page"].object_list) == 20
    assert "search=%E5%A4%A9%E6%B2%B3%E5%AE%A2%E6%88%B7&amp;page=2" in response.content.decode()


def test_htmx_request_returns_only_the_table(cast, client_as):
    response = client_as(cast.alice).get(
        reverse("customers:list"), {"search": "gzdt"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="customer-table"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="customer-table"')
    assert "<html" not in html and "customer-filters" not in html
    assert "广州地铁集团有限公司" in html


def test_export_is_scoped_logged_and_has_no_mobiles(cast, client_as):
    services.contact_create(actor=cast.alice.user, customer=cast.alice_customer, name="张三", mobile=MOBILE)
    response = client_as(cast.alice).get(reverse("customers:export"), {"grade": "C"})
    assert response.status_code == 200
    workbook = load_workbook(filename=__import__("io").BytesIO(response.getvalue()), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    names = {row[1] for row in rows[1:]}
    assert names == {"广州地铁集团有限公司", "越秀区人民医院"}
    assert MOBILE not in repr(rows)
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert event.actor == cast.alice.user
    assert event.after == {"count": 2, "filters": "grade=C"}


# --- forms --------------------------------------------------------------------------------------------
def test_create_customer_makes_creator_owner_and_redirects(cast, client_as):
    response = client_as(cast.alice).post(reverse("customers:create"), customer_post(None, cast.org["440106"]))
    customer = Customer.objects.get(name="新开客户有限公司")
    assert response.status_code == 302
    assert response["Location"] == detail_url(customer)
    assert customer.owner == cast.alice


def test_bad_uscc_error_is_attached_to_the_field(cast, client_as):
    data = customer_post(None, cast.org["440106"], uscc="91440106MA59XXXX0X")
    response = client_as(cast.alice).post(reverse("customers:create"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "uscc" in errors
    assert 'data-field-error="uscc"' in response.content.decode()
    assert not Customer.objects.filter(name="新开客户有限公司").exists()


def test_duplicate_uscc_error_is_attached_to_the_field(cast, client_as):
    data = customer_post(None, cast.org["440106"], uscc=cast.bob_customer.uscc)
    response = client_as(cast.alice).post(reverse("customers:create"), data)
    assert response.context["form"].errors["uscc"]


def test_unknown_parent_number_is_a_field_error(cast, client_as):
    data = customer_post(None, cast.org["440106"], parent_number=cast.zhejiang_customer.number)
    response = client_as(cast.alice).post(reverse("customers:create"), data)
    assert response.context["form"].errors["parent_number"]


def test_parent_by_number_places_unit_under_group(cast, client_as):
    data = customer_post(None, cast.org["440106"], parent_number=cast.alice_customer.number)
    client_as(cast.alice).post(reverse("customers:create"), data)
    unit = Customer.objects.get(name="新开客户有限公司")
    assert unit.path.startswith(cast.alice_customer.path) and unit.depth == cast.alice_customer.depth + 1


def test_edit_address_saves_and_shows_in_history(cast, client_as):
    client = client_as(cast.alice)
    data = customer_post(cast.alice_customer, cast.org["440106"], address="广州市天河区体育西路1号")
    response = client.post(reverse("customers:edit", args=[cast.alice_customer.pk]), data)
    assert response.status_code == 302
    html = client.get(detail_url(cast.alice_customer)).content.decode()
    assert "广州市天河区体育西路1号" in html
    history = html[html.index('id="history-section"') :]
    assert "广州市天河区体育西路1号" in history


def test_grade_change_needs_reason(cast, client_as):
    data = customer_post(cast.alice_customer, cast.org["440106"], grade="B1")
    response = client_as(cast.carol).post(reverse("customers:edit", args=[cast.alice_customer.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].errors["grade_reason"]
    data["grade_reason"] = "收入大幅增长"
    response = client_as(cast.carol).post(reverse("customers:edit", args=[cast.alice_customer.pk]), data)
    assert response.status_code == 302
    cast.alice_customer.refresh_from_db()
    assert cast.alice_customer.grade == "B1"


def test_manager_cannot_change_owner_or_grade_fields(cast, client_as):
    response = client_as(cast.alice).get(reverse("customers:edit", args=[cast.alice_customer.pk]))
    form = response.context["form"]
    assert form.fields["owner"].disabled and form.fields["grade"].disabled
    data = customer_post(cast.alice_customer, cast.org["440106"], owner=cast.bob.pk, grade="A1")
    client_as(cast.alice).post(reverse("customers:edit", args=[cast.alice_customer.pk]), data)
    cast.alice_customer.refresh_from_db()
    assert cast.alice_customer.owner == cast.alice and cast.alice_customer.grade == "C"


def test_analyst_and_auditor_are_read_only(cast, client_as):
    for persona in (cast.erin, cast.grace):
        client = client_as(persona)
        html = client.get(detail_url(cast.alice_customer)).content.decode()
        assert 'data-testid="edit-customer"' not in html
        assert client.get(reverse("customers:edit", args=[cast.alice_customer.pk])).status_code == 403
        data = customer_post(cast.alice_customer, cast.org["440106"], address="x")
        assert client.post(reverse("customers:edit", args=[cast.alice_customer.pk]), data).status_code == 403
        assert client.post(reverse("customers:create"), customer_post(None, cast.org["440106"])).status_code == 403


# --- contacts: masking, reveal, PIPL deletion -----------------------------------------------------------
def test_mobile_is_masked_on_the_360_page(cast, client_as):
    services.contact_create(actor=cast.alice.user, customer=cast.alice_customer, name="张三", mobile=MOBILE)
    services.member_add(
        actor=cast.alice.user, customer=cast.alice_customer, phone="13900001111", joined_on=date(2024, 1, 1)
    )
    html = client_as(cast.alice).get(detail_url(cast.alice_customer)).content.decode()
    assert MOBILE not in html and "13900001111" not in html
    assert "138****5678" in html and "139****1111" in html


def test_reveal_returns_full_number_and_is_logged(cast, client_as):
    contact = services.contact_create(actor=cast.alice.user, customer=cast.alice_customer, name="张三", mobile=MOBILE)
    response = client_as(cast.alice).post(
        reverse("customers:contact_reveal", args=[contact.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert MOBILE in response.content.decode()
    event = AuditEvent.objects.get(action=AuditAction.REVEAL)
    assert event.actor == cast.alice.user and event.target_id == contact.pk


def test_member_reveal_is_logged(cast, client_as):
    member = services.member_add(
        actor=cast.alice.user, customer=cast.alice_customer, phone=MOBILE, joined_on=date(2024, 1, 1)
    )
    response = client_as(cast.alice).post(reverse("customers:member_reveal", args=[member.pk]))
    assert MOBILE in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.REVEAL, target_id=member.pk).exists()


def test_analyst_may_not_reveal(cast, client_as):
    contact = services.contact_create(actor=cast.alice.user, customer=cast.alice_customer, name="张三", mobile=MOBILE)
    client = client_as(cast.erin)
    html = client.get(detail_url(cast.alice_customer)).content.decode()
    assert "138****5678" in html and reverse("customers:contact_reveal", args=[contact.pk]) not in html
    response = client.post(reverse("customers:contact_reveal", args=[contact.pk]))
    assert response.status_code == 403
    assert MOBILE not in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.REVEAL).exists()


def test_reveal_needs_post(cast, client_as):
    contact = services.contact_create(actor=cast.alice.user, customer=cast.alice_customer, name="张三", mobile=MOBILE)
    assert client_as(cast.alice).get(reverse("customers:contact_reveal", args=[contact.pk])).status_code == 405


def test_contact_create_with_dates_and_bad_mobile(cast, client_as):
    client = client_as(cast.alice)
    url = reverse("customers:contact_create", args=[cast.alice_customer.pk])
    data = {
        "name": "王总",
        "mobile": "12345",
        "decision_role": "decider",
        "dates-TOTAL_FORMS": "2",
        "dates-INITIAL_FORMS": "0",
        "dates-0-label": "入职纪念日",
        "dates-0-date": "2015-06-01",
    }
    response = client.post(url, data)
    assert response.context["form"].errors["mobile"]
    data["mobile"] = "+86 138-1234-5678"
    response = client.post(url, data)
    assert response.status_code == 302
    contact = Contact.objects.get(name="王总")
    assert contact.mobile == MOBILE
    assert [(d.label, d.date) for d in contact.dates.all()] == [("入职纪念日", date(2015, 6, 1))]


def test_contact_edit_replaces_dates(cast, client_as):
    contact = services.contact_create(
        actor=cast.alice.user, customer=cast.alice_customer, name="王总", dates=[("生日宴", date(2020, 1, 1))]
    )
    data = {
        "name": "王总",
        "title": "总经理",
        "dates-TOTAL_FORMS": "3",
        "dates-INITIAL_FORMS": "1",
        "dates-0-label": "",
        "dates-0-date": "",
        "dates-1-label": "结婚纪念日",
        "dates-1-date": "2010-10-10",
    }
    response = client_as(cast.alice).post(reverse("customers:contact_edit", args=[contact.pk]), data)
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.title == "总经理"
    assert [d.label for d in contact.dates.all()] == ["结婚纪念日"]


def test_contact_delete_asks_then_deletes_and_logs(cast, client_as):
    contact = services.contact_create(actor=cast.alice.user, customer=cast.alice_customer, name="张三", mobile=MOBILE)
    client = client_as(cast.alice)
    url = reverse("customers:contact_delete", args=[contact.pk])
    assert client.get(url).status_code == 200
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert client.post(url).status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert AuditEvent.objects.filter(action=AuditAction.DELETE, target_id=contact.pk).exists()


# --- members --------------------------------------------------------------------------------------------
def test_bulk_add_reports_each_bad_row(cast, client_as):
    url = reverse("customers:members_bulk_add", args=[cast.alice_customer.pk])
    rows = (
        "13800000001,市场部,2024-01-01,group,on_net\n12345\n13800000002,,2024-01-01,统付,异网\n13800000003,,2024-13-01"
    )
    response = client_as(cast.alice).post(url, {"rows": rows, "joined_on": "2024-02-01", "all_or_nothing": "on"})
    assert response.status_code == 200
    errors = response.context["rows"]
    assert {e["row"] for e in errors} == {2, 4}
    assert not Member.objects.filter(customer=cast.alice_customer).exists()
    html = response.content.decode()
    assert 'data-testid="bulk-errors"' in html


def test_bulk_add_keeps_good_rows_when_asked(cast, client_as):
    url = reverse("customers:members_bulk_add", args=[cast.alice_customer.pk])
    rows = "13800000001,市场部,2024-01-01,group,on_net\n12345\n13800000002,,,统付,异网"
    response = client_as(cast.alice).post(url, {"rows": rows, "joined_on": "2024-02-01"})
    assert response.status_code == 200
    added = {m.phone: m for m in Member.objects.filter(customer=cast.alice_customer)}
    assert set(added) == {"13800000001", "13800000002"}
    assert added["13800000002"].paid_by == "group" and added["13800000002"].network == "off_net"
    assert added["13800000002"].joined_on == date(2024, 2, 1)


def test_bulk_remove_marks_members_left(cast, client_as):
    services.members_bulk_add(
        actor=cast.alice.user,
        customer=cast.alice_customer,
        rows=[{"phone": "13800000001", "joined_on": date(2024, 1, 1)}],
        all_or_nothing=True,
    )
    url = reverse("customers:members_bulk_remove", args=[cast.alice_customer.pk])
    response = client_as(cast.alice).post(
        url, {"phones": "13800000001\n", "left_on": "2024-06-30", "all_or_nothing": "on"}
    )
    assert response.status_code == 302
    assert Member.objects.get(phone="13800000001").left_on == date(2024, 6, 30)
    html = client_as(cast.alice).get(detail_url(cast.alice_customer)).content.decode()
    assert "13800000001" not in html and "138****0001" in html  # masked in the change history too


def test_member_edit_keeps_number_when_left_empty(cast, client_as):
    member = services.member_add(
        actor=cast.alice.user, customer=cast.alice_customer, phone=MOBILE, joined_on=date(2024, 1, 1)
    )
    client = client_as(cast.alice)
    url = reverse("customers:member_edit", args=[member.pk])
    assert MOBILE not in client.get(url).content.decode()
    data = {"phone": "", "department": "财务部", "joined_on": "2024-01-01", "paid_by": "self", "network": "on_net"}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors
    member.refresh_from_db()
    assert member.phone == MOBILE and member.department == "财务部"


def test_competitor_and_affiliation(cast, client_as):
    client = client_as(cast.alice)
    response = client.post(
        reverse("customers:competitor_create", args=[cast.alice_customer.pk]),
        {"competitor": "china_telecom", "products": "互联网专线", "contract_end": "2026-12-31", "threat": "high"},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("customers:affiliation_create", args=[cast.alice_customer.pk]),
        {"related_number": cast.backed_up.number, "kind": "equity", "direction": "controls"},
    )
    assert response.status_code == 302
    html = client.get(detail_url(cast.alice_customer)).content.decode()
    assert "互联网专线" in html and "越秀区人民医院" in html
    # A customer out of scope cannot be named as related.
    response = client.post(
        reverse("customers:affiliation_create", args=[cast.alice_customer.pk]),
        {"related_number": cast.bob_customer.number, "kind": "equity", "direction": "controls"},
    )
    assert response.context["form"].errors["related_number"]


# --- hierarchy -----------------------------------------------------------------------------------------
def test_hierarchy_counts_units_outside_scope_without_naming_them(cast, client_as):
    testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice, parent=cast.alice_customer, name="地铁一号线")
    testing.make_customer(org_unit=cast.org["330106"], parent=cast.alice_customer, name="杭州地铁分公司")
    html = client_as(cast.alice).get(detail_url(cast.alice_customer)).content.decode()
    assert "地铁一号线" in html
    assert "杭州地铁分公司" not in html
    assert 'data-testid="hidden-children"' in html
    assert 'data-testid="cross-province"' in html


# --- query counts -------------------------------------------------------------------------------------
def _grow(cast, n: int) -> None:
    """n more customers in Alice's portfolio, and n contacts, members and history events on her customer."""
    for i in range(n):
        testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice, name=f"规模客户{i}")
        services.contact_create(
            actor=cast.alice.user,
            customer=cast.alice_customer,
            name=f"联系人{i}",
            mobile=f"1380000{i:04d}",
            dates=[("纪念日", date(2020, 1, 1))],
        )
    services.members_bulk_add(
        actor=cast.alice.user,
        customer=cast.alice_customer,
        rows=[{"phone": f"1390000{i:04d}", "joined_on": date(2024, 1, 1)} for i in range(n)],
        all_or_nothing=True,
    )
    for i in range(n):
        services.customer_update(actor=cast.alice.user, customer=cast.alice_customer, address=f"地址{i}")


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


LIST_MAX_QUERIES = 15
# The archive's own sections (35, and 2 for the key-person map: its persons, its relations), plus the panels
# other apps add, each asserted in its app's tests: sales 3, deals 3, work 2, service 2, billing 2, churn 1.
DETAIL_MAX_QUERIES = 35 + 2 + 13


@pytest.mark.parametrize("size", [3, 60])
def test_list_query_count_is_bounded(cast, client_as, django_assert_max_num_queries, size):
    _grow(cast, size)
    client = client_as(cast.alice)
    client.get(reverse("customers:list"))  # warm the session
    with django_assert_max_num_queries(LIST_MAX_QUERIES):
        client.get(reverse("customers:list"), {"grade": "C", "search": "客户"})


@pytest.mark.parametrize("size", [3, 60])
def test_detail_query_count_is_bounded(cast, client_as, django_assert_max_num_queries, size):
    _grow(cast, size)
    client = client_as(cast.alice)
    client.get(detail_url(cast.alice_customer))
    with django_assert_max_num_queries(DETAIL_MAX_QUERIES):
        client.get(detail_url(cast.alice_customer))


def test_query_counts_do_not_grow_with_data(cast, client_as):
    client = client_as(cast.alice)
    _grow(cast, 3)
    client.get(reverse("customers:list"))
    small = (_count(client, reverse("customers:list")), _count(client, detail_url(cast.alice_customer)))
    _grow(cast, 57)
    large = (_count(client, reverse("customers:list")), _count(client, detail_url(cast.alice_customer)))
    assert large[0] == small[0]
    # The 360 page may look up fewer names once its first history page holds only address changes
    # (no owner/org unit/industry ids to name), never more.
    assert large[1] <= small[1]


def test_members_paging_partial(cast, client_as):
    _grow(cast, 25)
    response = client_as(cast.alice).get(
        detail_url(cast.alice_customer), {"members_page": 2}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="members-section"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="members-section"')
    assert "<html" not in html
    assert len(response.context["members_page"].object_list) == 5
