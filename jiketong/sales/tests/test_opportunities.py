import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone
from openpyxl import Workbook

from jiketong.catalog.models import BillingUnit, Product, ProductCategory
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.sales import queries, services
from jiketong.sales.models import Lead, Opportunity, StageChange


def errors_of(call, *args, **kwargs) -> dict:
    with pytest.raises(ValidationError) as info:
        call(*args, **kwargs)
    return info.value.message_dict


@pytest.fixture
def product(db):
    return Product.objects.create(
        code="LINE100",
        name="互联网专线 100M",
        category=ProductCategory.CONNECTIVITY,
        billing_unit=BillingUnit.PER_GROUP,
        standard_price=Decimal("100.00"),
    )


def test_creation_records_the_first_stage_in_history_and_audit(cast, make_opportunity, stage):
    opportunity = make_opportunity(cast.alice, cast.alice_customer)
    change = StageChange.objects.get(opportunity=opportunity)
    assert (change.from_stage, change.to_stage, change.changed_by) == (None, stage["discovery"], cast.alice.user)
    assert AuditEvent.objects.filter(action=AuditAction.STAGE, target_id=opportunity.pk).count() == 1


def test_every_move_is_recorded_with_who_and_from_where(cast, make_opportunity, stage):
    opportunity = make_opportunity(cast.alice, cast.alice_customer)
    services.opportunity_move(cast.alice.user, opportunity, stage["solution"], note="方案已提交")
    services.opportunity_move(cast.carol.user, opportunity, stage["negotiation"])
    history = list(queries.stage_history(opportunity).values_list("from_stage__code", "to_stage__code", "changed_by"))
    assert history == [
        (None, "discovery", cast.alice.user.pk),
        ("discovery", "solution", cast.alice.user.pk),
        ("solution", "negotiation", cast.carol.user.pk),
    ]
    assert AuditEvent.objects.filter(action=AuditAction.STAGE, target_id=opportunity.pk).count() == 3


def test_lost_needs_a_reason_and_keeps_the_competitor(cast, make_opportunity, stage):
    opportunity = make_opportunity(cast.alice, cast.alice_customer)
    errors = errors_of(services.opportunity_move, cast.alice.user, opportunity, stage["lost"])
    assert "lost_reason" in errors
    assert Opportunity.objects.get(pk=opportunity.pk).stage == stage["discovery"]
    services.opportunity_move(
        cast.alice.user, opportunity, stage["lost"], lost_reason="价格高于电信", competitor="china_telecom"
    )
    opportunity.refresh_from_db()
    assert (opportunity.lost_reason, opportunity.competitor, opportunity.closed_on) == (
        "价格高于电信",
        "china_telecom",
        timezone.localdate(),
    )


def test_won_closes_and_reopening_clears_the_close_date(cast, make_opportunity, stage):
    opportunity = make_opportunity(cast.alice, cast.alice_customer)
    services.opportunity_move(cast.alice.user, opportunity, stage["won"])
    assert Opportunity.objects.get(pk=opportunity.pk).closed_on == timezone.localdate()
    assert not Opportunity.objects.open().filter(pk=opportunity.pk).exists()
    services.opportunity_move(cast.alice.user, opportunity, stage["signing"])
    assert Opportunity.objects.get(pk=opportunity.pk).closed_on is None


def test_moving_to_the_same_stage_or_out_of_scope_is_refused(cast, make_opportunity, stage):
    opportunity = make_opportunity(cast.alice, cast.alice_customer)
    assert "stage" in errors_of(services.opportunity_move, cast.alice.user, opportunity, stage["discovery"])
    with pytest.raises(Http404):
        services.opportunity_move(cast.bob.user, opportunity, stage["solution"])
    with pytest.raises(PermissionDenied):
        services.opportunity_move(cast.grace.user, opportunity, stage["solution"])


def test_a_new_opportunity_cannot_start_closed_or_on_an_invisible_customer(cast, make_opportunity, stage):
    assert "stage" in errors_of(make_opportunity, cast.alice, cast.alice_customer, stage=stage["won"])
    with pytest.raises(Http404):
        make_opportunity(cast.alice, cast.zhejiang_customer)


def test_a_manager_cannot_give_an_opportunity_to_a_colleague(cast, make_opportunity):
    assert "owner" in errors_of(make_opportunity, cast.alice, cast.alice_customer, owner=cast.bob)
    # ...but a supervisor can, and the customer's own manager is always fine.
    assert make_opportunity(cast.carol, cast.alice_customer, owner=cast.bob).owner == cast.bob
    assert make_opportunity(cast.bob, cast.backed_up, owner=cast.bob).owner == cast.bob


def test_lines_set_the_amounts(cast, make_opportunity, product):
    lines = [
        {"product": product, "quantity": 2, "amount_monthly": "1000.50", "amount_once": "300"},
        {"product": product, "quantity": 1, "amount_monthly": "99.5", "amount_once": "0"},
    ]
    opportunity = make_opportunity(cast.alice, cast.alice_customer, amount_monthly=1, lines=lines)
    assert (opportunity.amount_monthly, opportunity.amount_once) == (Decimal("1100.00"), Decimal("300.00"))
    assert opportunity.lines.count() == 2
    errors = errors_of(services.opportunity_update, actor=cast.alice.user, opportunity=opportunity, amount_once=5)
    assert "amount_monthly" in errors
    services.opportunity_update(actor=cast.alice.user, opportunity=opportunity, lines=lines[:1])
    opportunity.refresh_from_db()
    assert (opportunity.amount_monthly, opportunity.lines.count()) == (Decimal("1000.50"), 1)


def test_owner_of_an_opportunity_sees_it_on_a_customer_outside_their_portfolio(cast, make_opportunity):
    opportunity = make_opportunity(cast.carol, cast.bob_customer, owner=cast.alice)
    assert Opportunity.objects.visible_to(cast.alice.user).filter(pk=opportunity.pk).exists()
    assert Opportunity.objects.visible_to(cast.bob.user).filter(pk=opportunity.pk).exists()
    assert not Opportunity.objects.visible_to(cast.ivan.user).filter(pk=opportunity.pk).exists()
    assert not Opportunity.objects.visible_to(cast.dave.user).filter(pk=opportunity.pk).exists()


# --- forecast --------------------------------------------------------------------------------------
def test_forecast_weights_each_opportunity_by_its_stage_in_its_close_month(cast, make_opportunity, stage):
    # By hand, for alice's opportunities (carol sees all of them, in 天河 and 越秀):
    #   Dec: 1000 monthly + 2000 once at 方案制定 30%        = 3000 × 0.30 =  900.00
    #        500 monthly at 商务谈判 60%                      =  500 × 0.60 =  300.00
    #   Jan: 100.10 monthly + 0.05 once at 签约 90%           = 100.15 × 0.90 = 90.135 → 90.14
    #   Won, lost and out-of-window opportunities do not count.
    a = make_opportunity(
        cast.alice, cast.alice_customer, expected_close=date(2026, 12, 3), amount_monthly=1000, amount_once=2000
    )
    services.opportunity_move(cast.alice.user, a, stage["solution"])
    b = make_opportunity(
        cast.alice, cast.backed_up, expected_close=date(2026, 12, 31), amount_monthly=500, owner=cast.bob
    )
    services.opportunity_move(cast.bob.user, b, stage["negotiation"])
    c = make_opportunity(
        cast.alice, cast.alice_customer, expected_close=date(2027, 1, 20), amount_monthly="100.10", amount_once="0.05"
    )
    services.opportunity_move(cast.alice.user, c, stage["signing"])
    won = make_opportunity(cast.alice, cast.alice_customer, expected_close=date(2026, 12, 5), amount_once=9999)
    services.opportunity_move(cast.alice.user, won, stage["won"])
    make_opportunity(cast.alice, cast.alice_customer, expected_close=date(2027, 3, 1), amount_once=9999)

    by_owner = queries.forecast(cast.carol.user, start=date(2026, 12, 10), months=3, by="owner")
    assert by_owner.months == [date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
    rows = {row.label: row.values for row in by_owner.rows}
    assert rows == {
        "李晓红": [Decimal("900.00"), Decimal("90.14"), Decimal(0)],
        "王强": [Decimal("300.00"), Decimal(0), Decimal(0)],
    }
    assert by_owner.total == Decimal("1290.14")

    by_unit = queries.forecast(cast.carol.user, start=date(2026, 12, 1), months=3, by="org_unit")
    units = {row.label: row.total for row in by_unit.rows}
    assert units == {"天河区分公司": Decimal("990.14"), "越秀区分公司": Decimal("300.00")}


def test_forecast_is_scoped(cast, make_opportunity):
    make_opportunity(cast.alice, cast.alice_customer, expected_close=date(2026, 12, 3), amount_once=1000)
    assert queries.forecast(cast.dave.user, start=date(2026, 12, 1), months=1).rows == []
    assert queries.forecast(cast.bob.user, start=date(2026, 12, 1), months=1).rows == []
    assert queries.forecast(cast.alice.user, start=date(2026, 12, 1), months=1).total == Decimal("100.00")


# --- handover --------------------------------------------------------------------------------------
def test_handover_moves_open_leads_and_opportunities_and_audits_each(cast, make_lead, make_opportunity, stage):
    lead = make_lead(cast.alice, name="交接线索")
    closed_lead = make_lead(cast.alice, name="已关闭线索")
    services.lead_disqualify(actor=cast.alice.user, lead=closed_lead, reason="无需求")
    open_opp = make_opportunity(cast.alice, cast.alice_customer)
    other_customer_opp = make_opportunity(cast.alice, cast.backed_up)
    won = make_opportunity(cast.alice, cast.alice_customer)
    services.opportunity_move(cast.alice.user, won, stage["won"])

    with pytest.raises(PermissionDenied):
        services.handover(cast.alice.user, old_owner=cast.alice, new_owner=cast.bob)
    moved = services.handover(
        cast.carol.user, old_owner=cast.alice, new_owner=cast.bob, customer_ids=[cast.alice_customer.pk]
    )
    assert moved == {"leads": 0, "opportunities": 1}
    assert Opportunity.objects.get(pk=open_opp.pk).owner == cast.bob
    assert Opportunity.objects.get(pk=other_customer_opp.pk).owner == cast.alice
    moved = services.handover(cast.carol.user, old_owner=cast.alice, new_owner=cast.bob, note="离职交接")
    assert moved == {"leads": 1, "opportunities": 1}
    assert Lead.objects.get(pk=lead.pk).owner == cast.bob
    assert Lead.objects.get(pk=closed_lead.pk).owner == cast.alice
    assert Opportunity.objects.get(pk=won.pk).owner == cast.alice
    events = AuditEvent.objects.filter(action=AuditAction.HANDOVER)
    assert events.count() == 3 and {e.note for e in events} == {"", "离职交接"}


def test_handover_touches_only_what_the_supervisor_sees(cast, make_opportunity):
    opportunity = make_opportunity(cast.ivan, cast.shenzhen_customer)
    moved = services.handover(cast.carol.user, old_owner=cast.ivan, new_owner=cast.bob)
    assert moved == {"leads": 0, "opportunities": 0}
    assert Opportunity.objects.get(pk=opportunity.pk).owner == cast.ivan


# --- import ----------------------------------------------------------------------------------------
def _xlsx(rows) -> SimpleUploadedFile:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    return SimpleUploadedFile("survey.xlsx", data.getvalue())


IMPORT_ROWS = [
    ["单位名称", "区域编码", "行业", "规模", "预计等级", "联系人", "联系电话"],
    ["天河城百货有限公司", "440106", "商贸零售", "300", "", "张经理", "13800138000"],
    ["", "440106", "", "", "", "", ""],
    ["广州地铁集团", "440106", "", "", "", "", ""],
    ["体育中心管理处", "999999", "不存在", "很多", "", "", "123"],
    ["天河城百货股份有限公司", "440106", "", "", "", "", ""],
    ["岗顶小卖部", "440106", "", "5", "", "", ""],
]


def test_import_reports_every_bad_row_and_lands_nothing_when_all_or_nothing(cast):
    rows = services.read_lead_file(_xlsx(IMPORT_ROWS))
    result = services.leads_import(actor=cast.carol.user, rows=rows, all_or_nothing=True)
    assert result.done == 0 and Lead.objects.count() == 0
    bad = {e["row"]: set(e["errors"]) for e in result.errors}
    assert bad == {
        2: {"name"},
        3: {"name"},  # a customer of that name exists
        4: {"org_unit", "industry", "expected_size", "contact_mobile"},
        5: {"name"},  # the same organisation as row 1
    }


def test_import_lands_the_good_rows_and_assigns_them(cast):
    rows = services.read_lead_file(_xlsx(IMPORT_ROWS))
    result = services.leads_import(actor=cast.carol.user, rows=rows, all_or_nothing=False)
    assert result.done == 2
    big = Lead.objects.get(name="天河城百货有限公司")
    small = Lead.objects.get(name="岗顶小卖部")
    assert (big.owner, big.expected_size, big.industry_id, big.contact_mobile) == (
        cast.alice,
        300,
        "retail",
        "13800138000",
    )
    assert small.owner == cast.ivan  # inside sales for small prospects
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT).count() == 2


def test_import_reads_gbk_csv(cast):
    text = "单位名称,区域编码\n石牌街道办事处,440106\n"
    rows = services.read_lead_file(SimpleUploadedFile("list.csv", text.encode("gbk")))
    assert rows == [{"name": "石牌街道办事处", "org_unit": "440106"}]
    with pytest.raises(ValidationError):
        services.read_lead_file(SimpleUploadedFile("list.txt", b"x"))
