"""/leads, /opportunities, /stages, /forecast: contract, scope, writes, errors."""

from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

from jiketong.sales.models import Lead, LeadStatus, Opportunity

API = "/api/v1"


def test_lead_create_answers_400_with_the_duplicates_unless_confirmed(cast, api_as):
    api = api_as(cast.carol)
    body = {"source": "hotline", "name": "广州地铁 有限公司", "org_unit": cast.org["440106"].pk}
    duplicates = api.api_get("/leads/duplicates", name="广州地铁有限公司").json()
    assert [(d["kind"], d["id"], d["matched_on"], d["visible"]) for d in duplicates] == [
        ("customer", cast.alice_customer.pk, "name", True)
    ]
    response = api.post_json("/leads", body)
    assert response.status_code == 400
    assert "广州地铁集团有限公司" in response.json()["errors"]["name"][0]
    response = api.post_json("/leads", body | {"confirm_duplicates": True, "contact_mobile": "13800138000"})
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["contact_mobile"] == "138****8000" and data["status"] == "new"


def test_lead_routes_are_scoped(cast, api_as, make_lead):
    lead = make_lead(cast.alice)
    assert api_as(cast.bob).api_get(f"/leads/{lead.pk}").status_code == 404
    assert api_as(cast.bob).post_json(f"/leads/{lead.pk}/disqualify", {"reason": "x"}).status_code == 404
    assert [i["id"] for i in api_as(cast.alice).api_get("/leads").json()["items"]] == [lead.pk]
    assert api_as(cast.bob).api_get("/leads").json() == {"count": 0, "count_capped": False, "items": []}
    assert api_as(cast.carol).api_get("/leads", status="new").json()["count"] == 1


def test_bad_filter_answers_400_on_the_filter(cast, api_as):
    response = api_as(cast.alice).api_get("/leads", status="nonsense")
    assert response.status_code == 400 and "status" in response.json()["errors"]


def test_convert_disqualify_and_assign(cast, api_as, make_lead):
    lead = make_lead(cast.alice, name="转化测试有限公司")
    api = api_as(cast.alice)
    response = api.post_json(
        f"/leads/{lead.pk}/convert",
        {"customer": cast.alice_customer.pk, "expected_close": "2026-12-31", "amount_monthly": "1200.00"},
    )
    assert response.status_code == 200, response.content
    opportunity = Opportunity.objects.get(pk=response.json()["opportunity"])
    assert (opportunity.customer, str(opportunity.amount_monthly)) == (cast.alice_customer, "1200.00")
    other = make_lead(cast.alice, name="另一条线索")
    response = api.post_json(f"/leads/{other.pk}/disqualify", {"reason": ""})
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    assert api.post_json(f"/leads/{other.pk}/assign", {"owner": cast.bob.pk}).status_code == 403
    response = api_as(cast.carol).post_json(f"/leads/{other.pk}/assign", {"owner": cast.bob.pk})
    assert response.status_code == 200 and response.json()["owner"] == cast.bob.pk


def test_patch_lead(cast, api_as, make_lead):
    lead = make_lead(cast.alice)
    response = api_as(cast.alice).patch_json(f"/leads/{lead.pk}", {"status": "qualified", "need": "云专线"})
    assert response.status_code == 200 and response.json()["status"] == "qualified"
    response = api_as(cast.alice).patch_json(f"/leads/{lead.pk}", {"uscc": "123"})
    assert response.status_code == 400 and "uscc" in response.json()["errors"]


def test_import_endpoint_reports_rows(cast, api_as):
    text = "单位名称,区域编码\n石牌街道办事处,440106\n,440106\n"
    upload = SimpleUploadedFile("list.csv", text.encode("gbk"))
    response = api_as(cast.carol).post(f"{API}/leads/import", {"file": upload, "all_or_nothing": "false"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["done"] == 1 and [e["row"] for e in data["errors"]] == [2]
    assert Lead.objects.filter(name="石牌街道办事处", status=LeadStatus.NEW).exists()


def test_opportunity_create_move_and_history(cast, api_as):
    api = api_as(cast.alice)
    response = api.post_json(
        "/opportunities",
        {"customer": cast.alice_customer.pk, "name": "5G专网", "expected_close": "2026-12-20", "amount_once": "5000"},
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["stage"] == "discovery"
    response = api.post_json(f"/opportunities/{pk}/stage", {"stage": "lost"})
    assert response.status_code == 400 and "lost_reason" in response.json()["errors"]
    response = api.post_json(f"/opportunities/{pk}/stage", {"stage": "lost", "lost_reason": "预算取消"})
    assert response.status_code == 200 and response.json()["closed_on"]
    history = api.api_get(f"/opportunities/{pk}/history").json()
    assert [(h["from_stage"], h["to_stage"], h["changed_by"]) for h in history] == [
        (None, "discovery", "alice"),
        ("discovery", "lost", "alice"),
    ]
    assert api_as(cast.bob).api_get(f"/opportunities/{pk}/history").status_code == 404


def test_opportunity_on_an_invisible_customer_is_a_field_error(cast, api_as):
    response = api_as(cast.alice).post_json(
        "/opportunities", {"customer": cast.bob_customer.pk, "name": "x", "expected_close": "2026-12-20"}
    )
    assert response.status_code == 400 and "customer" in response.json()["errors"]


def test_stages_and_forecast(cast, api_as, make_opportunity):
    make_opportunity(cast.alice, cast.alice_customer, expected_close=date(2026, 12, 3), amount_once=1000)
    stages = api_as(cast.alice).api_get("/stages").json()
    assert [(s["code"], s["probability"]) for s in stages][:2] == [("discovery", 10), ("solution", 30)]
    data = api_as(cast.carol).api_get("/forecast", start="2026-12-01", months=2, by="org_unit").json()
    assert data["months"] == ["2026-12-01", "2027-01-01"]
    assert [(r["label"], r["values"]) for r in data["rows"]] == [("天河区分公司", ["100.00", "0.00"])]
    assert "probability" in data["definition"]
    assert api_as(cast.dave).api_get("/forecast", start="2026-12-01").json()["rows"] == []
    assert api_as(cast.alice).api_get("/forecast", months=99).status_code == 400


def test_an_empty_forecast_gives_money_with_two_decimals(cast, api_as):
    data = api_as(cast.dave).api_get("/forecast", start="2026-12-01", months=2).json()
    assert data["rows"] == []
    assert (data["totals"], data["total"]) == (["0.00", "0.00"], "0.00")
