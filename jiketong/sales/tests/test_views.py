"""Sales pages: they render, write through the services, stay scoped, and keep their query counts flat."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jiketong.customers.models import Industry
from jiketong.sales import services
from jiketong.sales.models import Lead, LeadStatus, Opportunity, Stage

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def _populate(cast, make_lead, make_opportunity, n: int) -> None:
    for i in range(n):
        make_lead(cast.alice, name=f"线索单位{i}号")
        opportunity = make_opportunity(cast.alice, cast.alice_customer, name=f"商机{i}", amount_monthly=100 + i)
        if i % 3 == 1:
            services.opportunity_move(cast.alice.user, opportunity, Stage.objects.get(code="solution"))


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(context.captured_queries)


PAGES = ["/sales/leads/", "/sales/opportunities/", "/sales/board/", "/sales/forecast/", "/sales/mine/"]


@pytest.mark.parametrize("url", PAGES)
def test_list_pages_cost_the_same_queries_at_3_and_30_rows(cast, client_as, make_lead, make_opportunity, url):
    client = client_as(cast.alice)
    _populate(cast, make_lead, make_opportunity, 3)
    few = _queries(client, url)
    _populate(cast, make_lead, make_opportunity, 27)
    assert _queries(client, url) == few


def test_detail_pages_cost_the_same_queries_whatever_the_history(cast, client_as, make_lead, make_opportunity, stage):
    client = client_as(cast.alice)
    lead = make_lead(cast.alice)
    opportunity = make_opportunity(cast.alice, cast.alice_customer)
    few = (_queries(client, f"/sales/leads/{lead.pk}/"), _queries(client, f"/sales/opportunities/{opportunity.pk}/"))
    for _round in range(5):
        services.lead_update(actor=cast.alice.user, lead=lead, need=f"需求{_round}")
        services.opportunity_move(cast.alice.user, opportunity, stage["solution"])
        services.opportunity_move(cast.alice.user, opportunity, stage["discovery"])
    many = (_queries(client, f"/sales/leads/{lead.pk}/"), _queries(client, f"/sales/opportunities/{opportunity.pk}/"))
    assert many == few


def test_board_caps_cards_but_counts_everything(cast, client_as, make_opportunity, settings, monkeypatch):
    monkeypatch.setattr("jiketong.sales.queries.BOARD_CARDS", 2)
    for i in range(5):
        make_opportunity(cast.alice, cast.alice_customer, name=f"商机{i}", amount_monthly=10)
    response = client_as(cast.alice).get("/sales/board/")
    html = response.content.decode()
    column = html[html.index('data-stage="discovery"') : html.index('data-stage="solution"')]
    assert column.count('data-testid="card"') == 2
    assert '<span class="badge text-bg-secondary" data-testid="count">5</span>' in column
    assert "¥50.00" in column


def test_moving_a_card_on_the_board_goes_through_the_service(cast, client_as, make_opportunity):
    opportunity = make_opportunity(cast.alice, cast.alice_customer)
    client = client_as(cast.alice)
    data = {"from": "board", "board_query": "", "stage": "lost"}
    response = client.post(f"/sales/opportunities/{opportunity.pk}/move/", data, HTTP_HX_REQUEST="true", **ZH)
    assert response.status_code == 200
    assert 'data-testid="card-error"' in response.content.decode()
    assert Opportunity.objects.get(pk=opportunity.pk).stage.code == "discovery"
    response = client.post(
        f"/sales/opportunities/{opportunity.pk}/move/", data | {"lost_reason": "客户预算取消"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and 'id="board"' in response.content.decode()
    assert Opportunity.objects.get(pk=opportunity.pk).stage.code == "lost"


def test_lead_form_shows_duplicates_and_saves_after_confirmation(cast, client_as):
    client = client_as(cast.carol)
    warning = client.get("/sales/leads/duplicates/", {"name": "广州地铁股份有限公司"}).content.decode()
    assert "广州地铁集团有限公司" in warning
    data = {
        "name": "广州地铁股份有限公司",
        "source": "hotline",
        "org_unit": cast.org["440106"].pk,
        "industry": "transport",
    }
    response = client.post("/sales/leads/new/", data)
    assert response.status_code == 200 and 'name="confirm_duplicates"' in response.content.decode()
    assert not Lead.objects.exists()
    response = client.post("/sales/leads/new/", data | {"confirm_duplicates": "on"})
    assert response.status_code == 302
    assert Lead.objects.get().name == "广州地铁股份有限公司"


def test_lead_edit_keeps_the_masked_mobile(cast, client_as, make_lead):
    lead = make_lead(cast.alice, contact_mobile="13800138000", industry=Industry.objects.get(code="it"))
    client = client_as(cast.alice)
    page = client.get(f"/sales/leads/{lead.pk}/edit/").content.decode()
    assert "13800138000" not in page and "138****8000" in page
    response = client.post(
        f"/sales/leads/{lead.pk}/edit/",
        {
            "name": lead.name,
            "source": "visit",
            "org_unit": lead.org_unit_id,
            "industry": "it",
            "contact_mobile": "138****8000",
            "status": "working",
        },
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.contact_mobile, lead.status) == ("13800138000", LeadStatus.WORKING)


def test_convert_page_opens_the_opportunity(cast, client_as, make_lead):
    lead = make_lead(cast.alice, name="体育西路商会")
    response = client_as(cast.alice).post(
        f"/sales/leads/{lead.pk}/convert/",
        {"customer_type": "social", "expected_close": "2026-12-31", "amount_monthly": "800", "amount_once": "0"},
    )
    lead.refresh_from_db()
    assert response.status_code == 302 and response.url == f"/sales/opportunities/{lead.opportunity_id}/"
    assert lead.customer.type == "social"


def test_disqualify_without_reason_shows_the_error_on_the_field(cast, client_as, make_lead):
    lead = make_lead(cast.alice)
    response = client_as(cast.alice).post(f"/sales/leads/{lead.pk}/disqualify/", {"reason": ""})
    assert response.status_code == 200 and 'data-field-error="reason"' in response.content.decode()


def test_import_page_lists_row_errors(cast, client_as):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("list.csv", "单位名称,区域编码\n,440106\n".encode())
    response = client_as(cast.carol).post("/sales/leads/import/", {"file": upload, "all_or_nothing": "on"})
    assert response.status_code == 200 and 'data-testid="import-errors"' in response.content.decode()


def test_forecast_page_states_its_definition_in_chinese(cast, client_as, make_opportunity):
    make_opportunity(cast.alice, cast.alice_customer, expected_close=date(2026, 12, 3), amount_once=1000)
    html = client_as(cast.carol).get("/sales/forecast/?start=2026-12", **ZH).content.decode()
    assert "¥100.00" in html and "天河区分公司" in html
    assert "预计收入 =（一次性收入 + 月收入）× 所处阶段的赢单概率" in html


def test_customer_panel_lists_open_pipeline_in_three_queries_or_less(cast, rf, make_lead, make_opportunity):
    from jiketong.sales.panels import customer_panel

    make_opportunity(cast.alice, cast.alice_customer)
    request = rf.get("/")
    request.user = cast.alice.user
    with CaptureQueriesContext(connection) as context:
        panel = customer_panel(request, cast.alice_customer)
    assert len(context.captured_queries) <= 3
    assert len(panel["sales_opportunities"]) == 1


def test_customer_360_page_shows_the_panel(cast, client_as, make_opportunity):
    make_opportunity(cast.alice, cast.alice_customer, name="云专线扩容")
    html = client_as(cast.alice).get(f"/customers/{cast.alice_customer.pk}/").content.decode()
    assert 'data-testid="sales-panel"' in html and "云专线扩容" in html
