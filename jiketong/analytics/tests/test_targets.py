"""Targets in the browser (issue 10 item 5): the 目标 page lists the targets in scope with their progress;
analysts and admins set, change (no lost updates) and delete them, and load them from Excel; every write is
audited and goes through the one service the API uses."""

import csv
import io
import json
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from jiketong import testing
from jiketong.analytics import services
from jiketong.analytics.models import Target
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.org.models import Role
from jiketong.org.services import token_issue

from .conftest import P

pytestmark = pytest.mark.django_db
HEADINGS = ["组织单元编码", "指标", "周期", "目标值"]


def api(staff):
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=staff.user)}")


def xlsx(rows: list[list], name: str = "targets.xlsx") -> SimpleUploadedFile:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    return SimpleUploadedFile(name, data.getvalue())


def target(world, **fields) -> Target:
    values = {"org_unit": world.org["440100"], "indicator": "revenue", "period_type": "month", "period": P}
    return Target.objects.create(**(values | {"value": Decimal(5000)} | fields))


def form_data(world, **fields) -> dict:
    data = {
        "org_unit": world.org["440100"].pk,
        "indicator": "revenue",
        "period_type": "month",
        "period": "2026-05",
        "value": "7000",
    }
    return data | fields


# --- who sees and who sets ---------------------------------------------------------------------------------
def test_the_nav_offers_targets_to_supervisors_and_analysts_not_to_managers(world, client_as):
    for persona in ("carol", "erin", "grace"):
        assert 'href="/analytics/targets/"' in client_as(getattr(world, persona)).get("/").content.decode(), persona
    assert 'href="/analytics/targets/"' not in client_as(world.alice).get("/").content.decode()


def test_a_supervisor_sees_the_targets_of_their_subtree_with_progress_but_cannot_set_them(world, client_as):
    target(world)  # Guangzhou, May: revenue ¥3,500 of ¥5,000
    target(world, org_unit=world.org["330000"])  # Zhejiang: not Carol's
    client = client_as(world.carol)
    response = client.get("/analytics/targets/")
    assert response.status_code == 200
    [row] = response.context["rows"]
    assert row["target"].org_unit == world.org["440100"] and row["progress"] == Decimal("70.0")
    html = response.content.decode()
    assert "广州市分公司" in html and "浙江省公司" not in html and "70.0%" in html
    assert 'data-testid="target-new"' not in html
    assert client.get("/analytics/targets/new/").status_code == 403
    assert client.post("/analytics/targets/new/", form_data(world)).status_code == 403
    assert client.post(f"/analytics/targets/{Target.objects.first().pk}/delete/").status_code in (403, 404)


def test_a_manager_cannot_open_the_targets_page(world, client_as):
    assert client_as(world.alice).get("/analytics/targets/").status_code == 403


# --- set, change, delete ---------------------------------------------------------------------------------
def test_an_analyst_sets_a_target_in_the_browser_and_it_is_audited(world, client_as):
    client = client_as(world.erin)
    page = client.get("/analytics/targets/new/")
    assert page.status_code == 200
    indicators = dict(page.context["form"].fields["indicator"].choices)
    assert "revenue" in indicators and "coverage_rate" not in indicators and "penetration" not in indicators
    response = client.post("/analytics/targets/new/", form_data(world, period_type="year", period="2026-03"))
    assert response.status_code == 302, response.context["form"].errors
    saved = Target.objects.get()
    assert (saved.org_unit, saved.period.isoformat(), saved.value) == (world.org["440100"], "2026-01-01", 7000)
    event = AuditEvent.objects.get(target_type="analytics.target", action=AuditAction.CREATE)
    assert event.actor == world.erin.user and event.after["indicator"] == "revenue"
    listed = client.get("/analytics/targets/").content.decode()
    assert "2026（年）" in listed or "2026 (year)" in listed


def test_every_error_of_a_target_shows_at_its_field_in_one_round(world, client_as):
    client = client_as(world.erin)
    response = client.post(
        "/analytics/targets/new/", form_data(world, org_unit="", period="May", value="1.234", indicator="")
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"org_unit", "indicator", "period", "value"} <= set(errors)
    html = response.content.decode()
    for name in ("org_unit", "indicator", "period", "value"):
        assert f'data-field-error="{name}"' in html
    response = client.post("/analytics/targets/new/", form_data(world, value="-5"))
    assert "value" in response.context["form"].errors  # revenue cannot fall below zero
    assert client.post("/analytics/targets/new/", form_data(world, indicator="net_adds", value="-5")).status_code == 302


def test_an_analyst_outside_the_province_cannot_give_its_units_a_target(world, client_as):
    analyst = testing.make_staff("ann", world.org["440000"], [Role.ANALYST])
    response = client_as(analyst).post("/analytics/targets/new/", form_data(world, org_unit=world.org["330000"].pk))
    assert "org_unit" in response.context["form"].errors
    assert not Target.objects.exists()


def test_a_second_target_for_the_same_unit_indicator_and_period_is_refused_at_the_period(world, client_as):
    target(world)
    response = client_as(world.erin).post("/analytics/targets/new/", form_data(world))
    assert (
        response.context["form"].errors["period"] == ["该组织单元在此指标和周期已有目标。"]
        or "period" in response.context["form"].errors
    )
    assert Target.objects.count() == 1


def test_editing_a_target_someone_changed_meanwhile_is_refused_with_their_change_then_saves_knowingly(world, client_as):
    existing = target(world)
    client = client_as(world.erin)
    page = client.get(f"/analytics/targets/{existing.pk}/")
    form = page.context["form"]
    read = {name: form[name].value() for name in ("row_version", "row_read_at")}
    assert read["row_version"] == 1
    # Meanwhile Frank (admin) changes it through the API.
    patched = api(world.frank).patch(
        f"/api/v1/analytics/targets/{existing.pk}", data=json.dumps({"value": "6000"}), content_type="application/json"
    )
    assert patched.status_code == 200 and patched["ETag"] == 'W/"2"'
    response = client.post(f"/analytics/targets/{existing.pk}/", form_data(world, value="8000") | read)
    assert response.status_code == 200
    refusal = " ".join(response.context["form"].non_field_errors())
    assert "6000.00" in refusal and "8000" in refusal
    existing.refresh_from_db()
    assert existing.value == 6000
    again = response.context["form"]
    resend = form_data(world, value="8000") | {n: again[n].value() for n in ("row_version", "row_read_at")}
    assert client.post(f"/analytics/targets/{existing.pk}/", resend).status_code == 302
    existing.refresh_from_db()
    assert existing.value == 8000 and existing.row_version == 3


def test_the_api_refuses_a_stale_if_match(world):
    existing = target(world)
    client = api(world.erin)
    etag = client.get(f"/api/v1/analytics/targets/{existing.pk}")["ETag"]
    body = json.dumps({"value": "1"})
    assert client.patch(f"/api/v1/analytics/targets/{existing.pk}", data=body, content_type="application/json",
                        headers={"If-Match": etag}).status_code == 200  # fmt: skip
    stale = client.patch(f"/api/v1/analytics/targets/{existing.pk}", data=body, content_type="application/json",
                         headers={"If-Match": etag})  # fmt: skip
    assert stale.status_code == 412
    assert client.delete(f"/api/v1/analytics/targets/{existing.pk}", headers={"If-Match": etag}).status_code == 412


def test_an_analyst_deletes_a_target_and_it_is_audited(world, client_as):
    existing = target(world)
    response = client_as(world.erin).post(f"/analytics/targets/{existing.pk}/delete/")
    assert response.status_code == 302 and not Target.objects.exists()
    assert AuditEvent.objects.filter(target_type="analytics.target", action=AuditAction.DELETE).exists()


def test_a_targets_history_names_the_indicator_not_its_code(world):
    from jiketong.customers.history import history_lines

    saved = services.target_save(
        actor=world.erin.user, org_unit=world.org["440100"], indicator="revenue", period_type="month", period=P,
        value=Decimal(1),
    )  # fmt: skip
    events = list(AuditEvent.objects.filter(target_type="analytics.target", target_id=saved.pk))
    text = str([vars(line) for line in history_lines(world.grace.user, events)])
    assert "Revenue (收入)" in text and "'revenue'" not in text


# --- the dashboard panel -------------------------------------------------------------------------------------
def test_the_dashboard_panel_links_to_the_targets_page_and_shows_progress(world, client_as):
    empty = client_as(world.erin).get("/analytics/?period=2026-05").content.decode()
    assert 'data-testid="targets-link"' in empty and "/analytics/targets/new/" in empty
    target(world)
    html = client_as(world.carol).get("/analytics/?period=2026-05").content.decode()
    panel = html[html.index('data-testid="target-panel"') :]
    assert "广州市分公司" in panel and "70.0%" in panel
    assert "/analytics/targets/new/" not in html  # a supervisor is not offered to set one


# --- loading from Excel ----------------------------------------------------------------------------------
def test_a_file_with_chinese_headings_codes_and_labels_loads_targets_and_a_second_load_changes_them(world, client_as):
    client = client_as(world.erin)
    rows = [
        HEADINGS,
        ["440100", "收入", "2026-05", "5,000"],  # the Chinese label
        ["广州市分公司", "new_customers", "2026年", 12],  # a unit's name, a code, a year
        ["440106", "Net customer adds", "2026年5月", -1],  # the English label without its bracket
    ]
    response = client.post("/analytics/targets/import/", {"file": xlsx(rows)})
    assert response.status_code == 302, response.context["errors"]
    got = {(t.org_unit.code, t.indicator, t.period_type, t.period.isoformat()): t.value for t in Target.objects.all()}
    assert got == {
        ("440100", "revenue", "month", "2026-05-01"): 5000,
        ("440100", "new_customers", "year", "2026-01-01"): 12,
        ("440106", "net_adds", "month", "2026-05-01"): -1,
    }
    assert AuditEvent.objects.filter(target_type="analytics.target", action=AuditAction.CREATE).count() == 3
    rows[1][3] = "6000"
    assert client.post("/analytics/targets/import/", {"file": xlsx(rows)}).status_code == 302
    assert Target.objects.count() == 3
    assert Target.objects.get(indicator="revenue").value == 6000
    assert AuditEvent.objects.filter(target_type="analytics.target", action=AuditAction.UPDATE).count() == 1


def test_a_file_with_bad_rows_loads_nothing_and_lists_every_error_of_every_row(world, client_as):
    analyst = testing.make_staff("ann", world.org["440000"], [Role.ANALYST])
    rows = [
        ["标题：2026 年目标"],  # a title row above the headings
        HEADINGS + ["周期类型"],
        ["440100", "收入", "2026-05", "5000", "月"],  # good
        ["999999", "利润", "May", "many", ""],  # four errors at once
        ["330000", "收入", "2026-05", "5000", ""],  # Zhejiang: outside Guangdong
        ["440100", "coverage_rate", "2026-05", "50", ""],  # no target for a point-in-time figure
        ["440100", "收入", "2026-05", "1.234", "季"],  # 3 decimals, unknown period type
        ["440100", "收入", "2026-05", "-5", ""],  # revenue below zero
        ["440100", "Revenue", "2026/5", "7000", ""],  # the same target as row 3
    ]
    response = client_as(analyst).post("/analytics/targets/import/", {"file": xlsx(rows)})
    assert response.status_code == 200
    assert not Target.objects.exists() and not AuditEvent.objects.filter(target_type="analytics.target").exists()
    errors = {(e["row"], e["column"]) for e in response.context["errors"]}
    assert errors == {
        (4, "组织单元编码"), (4, "指标"), (4, "周期"), (4, "目标值"),
        (5, "组织单元编码"),
        (6, "指标"),
        (7, "目标值"), (7, "周期类型"),
        (8, "目标值"),
        (9, "周期"),
    }  # fmt: skip
    html = response.content.decode()
    assert 'data-testid="import-errors"' in html and "利润" in html and "999999" in html


def test_a_csv_in_gbk_loads_too(world, client_as):
    text = io.StringIO()
    csv.writer(text).writerows([HEADINGS, ["440100", "收入", "2026-05", "5000"]])
    upload = SimpleUploadedFile("targets.csv", text.getvalue().encode("gbk"))
    assert client_as(world.erin).post("/analytics/targets/import/", {"file": upload}).status_code == 302
    assert Target.objects.get().value == 5000


def test_an_unreadable_file_is_refused_at_the_file_field(world, client_as):
    response = client_as(world.erin).post(
        "/analytics/targets/import/", {"file": SimpleUploadedFile("targets.xls", b"old excel")}
    )
    assert "file" in response.context["form"].errors
    response = client_as(world.erin).post("/analytics/targets/import/", {"file": xlsx([["名称", "值"], ["a", 1]])})
    assert re.search("组织单元编码", " ".join(response.context["form"].errors["file"]))


def test_the_template_names_the_headings_the_import_reads_and_loads_as_it_is(world, client_as):
    client = client_as(world.erin)
    page = client.get("/analytics/targets/import/").content.decode()
    assert "/analytics/targets/template.xlsx" in page
    response = client.get("/analytics/targets/template.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0][:3] == ["组织单元编码", "指标", "周期"] and "目标值" in rows[0]
    indicators = [row[1] for row in book.worksheets[1].iter_rows(min_row=2, values_only=True)]
    assert "revenue" in indicators and "coverage_rate" not in indicators
    data = io.BytesIO(response.content)
    loaded = client.post("/analytics/targets/import/", {"file": SimpleUploadedFile("t.xlsx", data.getvalue())})
    assert loaded.status_code == 302
    assert Target.objects.count() == 2
    assert client_as(world.carol).get("/analytics/targets/template.xlsx").status_code == 403


# --- bounded queries -------------------------------------------------------------------------------------------
def test_the_targets_page_costs_the_same_whatever_the_number_of_targets_and_customers(world, client_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jiketong.analytics import jobs
    from jiketong.analytics.views import TARGET_PAGE_SIZE

    from .conftest import month

    units = [world.org[code] for code in ("440100", "440106", "440104", "440300", "440304")]
    codes = [item.code for item in services.targetable_indicators()][:8]

    def add(n: int, offset: int) -> None:
        for i in range(offset, offset + n):
            target(world, org_unit=units[i % len(units)], indicator=codes[i // len(units) % len(codes)],
                   period=P.replace(month=1 + i // (len(units) * len(codes))))  # fmt: skip

    def count() -> int:
        jobs.daily(P)
        client = client_as(world.erin)
        client.get("/analytics/targets/")
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/analytics/targets/").status_code == 200
        return len(queries)

    add(TARGET_PAGE_SIZE, 0)
    full = count()
    assert full <= TARGET_PAGE_SIZE * 6
    add(TARGET_PAGE_SIZE, TARGET_PAGE_SIZE)
    for _ in range(30):
        month(testing.make_customer(org_unit=world.org["440106"], owner=world.alice), P, 100, members=11)
    assert count() == full
