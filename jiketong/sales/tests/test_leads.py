from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from jiketong import testing
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.customers.models import Customer, Industry
from jiketong.org.models import Role
from jiketong.sales import queries, services
from jiketong.sales.models import Lead, LeadStatus, Opportunity, StageChange


def errors_of(call, **kwargs) -> dict:
    with pytest.raises(ValidationError) as info:
        call(**kwargs)
    return info.value.message_dict


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("广州某某科技有限公司", "广州某某科技"),
        ("广州 某某科技 股份有限公司", "广州某某科技"),
        ("广州某某科技有限责任公司", "广州某某科技"),
        ("广州某某集团有限公司", "广州某某"),
        ("广州某某集团", "广州某某"),
        ("广州某某（集团）股份有限公司", "广州某某"),
        ("ＡＢＣ科技有限公司", "abc科技"),
        ("Acme Co., Ltd.", "acme"),
        ("公司", "公司"),
        ("天河软件园管理委员会", "天河软件园管理委员会"),
    ],
)
def test_normalise_org_name_strips_spacing_width_and_legal_suffixes(raw, key):
    assert services.normalise_org_name(raw) == key


def test_branch_and_headquarters_names_stay_different():
    assert services.normalise_org_name("某某银行广州分公司") != services.normalise_org_name("某某银行")


def test_create_refuses_a_name_matching_a_customer_until_confirmed(cast, make_lead):
    # 广州地铁集团有限公司 is alice's customer; carol types it with another legal form.
    errors = errors_of(
        services.lead_create,
        actor=cast.carol.user,  # carol sees alice's customer, so the match is named
        source="hotline",
        name="广州地铁 股份有限公司",
        industry=Industry.objects.get(code="it"),
    )
    assert "广州地铁集团有限公司" in errors["name"][0]
    lead = services.lead_create(
        actor=cast.carol.user, source="hotline", name="广州地铁 股份有限公司", confirm_duplicates=True
    )
    assert lead.pk and lead.name_key == "广州地铁"


def test_create_refuses_the_uscc_of_a_customer(cast):
    errors = errors_of(
        services.lead_create, actor=cast.carol.user, source="visit", name="别的名字", uscc=cast.bob_customer.uscc
    )
    assert "same credit code" in errors["uscc"][0]


def test_create_refuses_an_open_lead_with_the_same_name_but_not_a_closed_one(cast, make_lead):
    first = make_lead(cast.alice, name="黄埔港务有限公司")
    errors = errors_of(services.lead_create, actor=cast.bob.user, source="visit", name="黄埔港务集团")
    assert "open lead in 天河区分公司 outside your scope" in errors["name"][0]
    services.lead_disqualify(actor=cast.alice.user, lead=first, reason="不是目标客户")
    assert services.lead_create(actor=cast.bob.user, source="visit", name="黄埔港务集团").pk


def test_duplicates_name_matches_outside_the_users_scope_without_linking_them(cast, make_lead):
    make_lead(cast.ivan, name="福田物流有限公司", org_unit=cast.org["440304"])
    matches = queries.lead_duplicates(cast.alice.user, name="福田物流")
    assert [(m.kind, m.visible, m.pk, m.name, m.owner, m.org_unit) for m in matches] == [
        ("lead", False, None, "", "", "福田区分公司")
    ]
    assert "福田物流" not in matches[0].message()
    matches = queries.lead_duplicates(cast.carol.user, name="广州地铁集团")
    assert [(m.kind, m.pk, m.visible) for m in matches] == [("customer", cast.alice_customer.pk, True)]


def test_an_update_that_keeps_the_name_is_not_a_duplicate_of_itself(cast, make_lead):
    lead = make_lead(cast.alice, name="珠江啤酒有限公司")
    services.lead_update(actor=cast.alice.user, lead=lead, need="专线")
    assert Lead.objects.get(pk=lead.pk).need == "专线"


def test_create_normalises_mobile_and_uscc_and_rejects_bad_ones(cast, make_lead):
    uscc = testing.make_uscc()
    lead = make_lead(cast.alice, uscc=uscc.lower(), contact_mobile="+86 138-0013-8000")
    assert (lead.uscc, lead.contact_mobile, lead.contact_mobile_masked) == (uscc, "13800138000", "138****8000")
    errors = errors_of(
        services.lead_create, actor=cast.alice.user, source="visit", name="甲", uscc="123", contact_mobile="12"
    )
    assert set(errors) == {"uscc", "contact_mobile"}


def test_a_manager_cannot_file_a_lead_outside_their_unit(cast):
    errors = errors_of(
        services.lead_create, actor=cast.alice.user, source="visit", name="外地单位", org_unit=cast.org["440304"]
    )
    assert "org_unit" in errors


def test_analysts_cannot_create_leads(cast):
    with pytest.raises(PermissionDenied):
        services.lead_create(actor=cast.erin.user, source="visit", name="甲")


def test_create_writes_an_audit_event(cast, make_lead):
    lead = make_lead(cast.alice)
    event = AuditEvent.objects.get(target_type="sales.lead", target_id=lead.pk)
    assert event.action == AuditAction.CREATE and event.after["name"] == lead.name


def test_disqualify_needs_a_reason(cast, make_lead):
    lead = make_lead(cast.alice)
    assert "reason" in errors_of(services.lead_disqualify, actor=cast.alice.user, lead=lead, reason="  ")
    services.lead_disqualify(actor=cast.alice.user, lead=lead, reason="已有竞争对手长期合同")
    lead.refresh_from_db()
    assert (lead.status, lead.disqualify_reason) == (LeadStatus.DISQUALIFIED, "已有竞争对手长期合同")
    with pytest.raises(ValidationError):
        services.lead_update(actor=cast.alice.user, lead=lead, need="x")


def test_update_cannot_close_a_lead_or_reach_out_of_scope(cast, make_lead):
    lead = make_lead(cast.alice)
    assert "status" in errors_of(services.lead_update, actor=cast.alice.user, lead=lead, status=LeadStatus.CONVERTED)
    with pytest.raises(Http404):
        services.lead_update(actor=cast.bob.user, lead=lead, need="x")


# --- scope -----------------------------------------------------------------------------------------
def test_lead_scope_follows_owner_region_and_linked_customer(cast, make_lead):
    own = make_lead(cast.alice, name="甲单位")
    unowned = services.lead_create(
        actor=cast.carol.user, source="visit", name="乙单位", org_unit=cast.org["440104"], owner=None
    )
    Lead.objects.filter(pk=unowned.pk).update(owner=None)
    linked = make_lead(cast.carol, name="丙单位", org_unit=cast.org["440104"])
    Lead.objects.filter(pk=linked.pk).update(owner=cast.bob, customer=cast.backed_up)  # alice backs it up
    visible = lambda staff: set(Lead.objects.visible_to(staff.user).values_list("pk", flat=True))  # noqa: E731
    assert visible(cast.alice) == {own.pk, linked.pk}
    assert visible(cast.carol) == {own.pk, unowned.pk, linked.pk}
    assert visible(cast.dave) == set()
    assert visible(cast.frank) == {own.pk, unowned.pk, linked.pk}


# --- assignment ------------------------------------------------------------------------------------
def test_rules_send_a_grade_leads_and_big_prospects_to_outside_sales_and_the_rest_inside(cast):
    assert services.rule_role(grade_hint="A1", size=None) == Role.CUSTOMER_MANAGER
    assert services.rule_role(grade_hint="C", size=500) == Role.CUSTOMER_MANAGER
    assert services.rule_role(grade_hint="C", size=199) == Role.INSIDE_SALES
    assert services.rule_role(grade_hint="", size=None) == Role.INSIDE_SALES


def test_assignment_picks_the_least_loaded_manager_in_the_region(cast, make_lead):
    make_lead(cast.alice, name="已有线索一")
    lead = services.lead_create(
        actor=cast.carol.user, source="visit", name="大客户", grade_hint="A1", org_unit=cast.org["440106"]
    )
    assert lead.owner == cast.bob  # alice already has an open lead


def test_assignment_climbs_to_the_nearest_unit_that_has_the_role(cast):
    # No inside-sales staff in 越秀 or 广州; the nearest is ivan in 深圳 under the province.
    lead = services.lead_create(actor=cast.carol.user, source="hotline", name="小商户", org_unit=cast.org["440104"])
    assert lead.owner == cast.ivan


def test_assignment_skips_staff_who_left(cast):
    cast.bob.user.is_active = False
    cast.bob.user.save()
    cast.alice.left_on = date(2026, 1, 1)
    cast.alice.save()
    lead = services.lead_create(
        actor=cast.carol.user, source="visit", name="大客户", grade_hint="A1", org_unit=cast.org["440106"]
    )
    assert lead.owner is None


def test_reassign_is_for_supervisors_and_audited(cast, make_lead):
    lead = make_lead(cast.alice)
    with pytest.raises(PermissionDenied):
        services.lead_assign(actor=cast.alice.user, lead=lead, owner=cast.bob)
    services.lead_assign(actor=cast.carol.user, lead=lead, owner=cast.bob, note="调整")
    lead.refresh_from_db()
    assert lead.owner == cast.bob
    event = AuditEvent.objects.filter(target_type="sales.lead", target_id=lead.pk).first()
    assert (event.action, event.before, event.after) == (
        AuditAction.OWNER,
        {"owner": cast.alice.pk},
        {"owner": cast.bob.pk},
    )


# --- conversion ------------------------------------------------------------------------------------
def test_convert_creates_the_customer_and_opens_an_opportunity(cast, make_lead, stage):
    uscc = testing.make_uscc()
    lead = make_lead(cast.alice, name="珠江新城商务中心有限公司", uscc=uscc, expected_size=80, grade_hint="B1")
    services.lead_convert(
        actor=cast.alice.user, lead=lead, expected_close=date(2026, 12, 31), amount_monthly=2000, amount_once=500
    )
    lead.refresh_from_db()
    customer = lead.customer
    assert (customer.name, customer.uscc, customer.owner, customer.grade, customer.source) == (
        "珠江新城商务中心有限公司",
        uscc,
        cast.alice,
        "B1",
        "visit",
    )
    opportunity = lead.opportunity
    assert (opportunity.customer, opportunity.stage, opportunity.owner, opportunity.lead) == (
        customer,
        stage["discovery"],
        cast.alice,
        lead,
    )
    assert lead.status == LeadStatus.CONVERTED
    assert AuditEvent.objects.filter(action=AuditAction.CONVERT, target_id=lead.pk, customer_id=customer.pk).exists()
    assert AuditEvent.objects.filter(target_type="customers.customer", target_id=customer.pk).exists()


def test_convert_links_an_existing_visible_customer(cast, make_lead):
    lead = make_lead(cast.alice)
    services.lead_convert(
        actor=cast.alice.user, lead=lead, customer=cast.alice_customer, expected_close=date(2026, 12, 31)
    )
    lead.refresh_from_db()
    assert lead.customer == cast.alice_customer and lead.opportunity.customer == cast.alice_customer
    lead2 = make_lead(cast.alice, name="另一个")
    errors = errors_of(
        services.lead_convert,
        actor=cast.alice.user,
        lead=lead2,
        customer=cast.zhejiang_customer,
        expected_close=date(2026, 12, 31),
    )
    assert "customer" in errors


def test_a_failed_conversion_leaves_nothing(cast, make_lead):
    lead = make_lead(cast.alice, name="失败转化测试有限公司")
    customers, opportunities, changes = (
        Customer.objects.count(),
        Opportunity.objects.count(),
        StageChange.objects.count(),
    )
    # The customer is created first; the negative amount fails the opportunity afterwards.
    errors = errors_of(
        services.lead_convert, actor=cast.alice.user, lead=lead, expected_close=date(2026, 12, 31), amount_once=-1
    )
    assert "amount_once" in errors
    assert (Customer.objects.count(), Opportunity.objects.count(), StageChange.objects.count()) == (
        customers,
        opportunities,
        changes,
    )
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NEW


def test_convert_reports_the_customer_rules(cast, make_lead):
    lead = make_lead(cast.alice, uscc=cast.bob_customer.uscc)
    errors = errors_of(services.lead_convert, actor=cast.alice.user, lead=lead, expected_close=date(2026, 12, 31))
    assert "uscc" in errors


def test_new_owners_hear_of_their_leads_but_not_of_their_own(cast, make_lead):
    from jiketong.core.models import Notification

    make_lead(cast.alice, name="自己登记的线索")
    assert not Notification.objects.exists()
    lead = services.lead_create(
        actor=cast.carol.user, source="visit", name="大客户", grade_hint="A1", org_unit=cast.org["440106"]
    )
    note = Notification.objects.get()
    assert (note.recipient, note.kind, note.url) == (lead.owner.user, "lead_assigned", f"/sales/leads/{lead.pk}/")
