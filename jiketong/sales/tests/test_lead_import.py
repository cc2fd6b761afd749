"""The lead import at scale (decision 0018): the words it takes, a bounded number of queries whatever the
file's size, large files in the task worker with a progress page, and the same answers as the form's rules."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jiketong.core.imports import RunStatus
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.sales import jobs, queries, services
from jiketong.sales.models import Lead, LeadImportRun, LeadSource
from jiketong.testing import make_uscc


@pytest.fixture(autouse=True)
def immediate_tasks(settings, tmp_path):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.MEDIA_ROOT = tmp_path / "media"


def csv_upload(rows, header=("单位名称", "区域编码", "规模", "来源"), name="leads.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode("utf-8"))


def survey(n: int, start: int = 0) -> list[list[str]]:
    return [[f"天河{i}号商贸有限公司", "440106", "300" if i % 2 else "5", ""] for i in range(start, start + n)]


# --- the words of the source column ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("visit", LeadSource.VISIT),  # the code
        ("上门拜访", LeadSource.VISIT),  # the label the lead form shows
        ("Visit", LeadSource.VISIT),  # the English label
        ("拜访", LeadSource.VISIT),  # the name the docs used
        ("网格摸底", LeadSource.GRID_SURVEY),
        ("网格摸排", LeadSource.GRID_SURVEY),
        ("电话销售", LeadSource.INSIDE_SALES),
        ("内部销售外呼", LeadSource.INSIDE_SALES),
        ("导入", LeadSource.IMPORT),
        ("批量导入", LeadSource.IMPORT),
        (" Inside-sales call ", LeadSource.INSIDE_SALES),
        ("", LeadSource.GRID_SURVEY),
    ],
)
def test_the_source_takes_codes_labels_and_the_documented_names(cast, word, code):
    result = services.leads_import(
        actor=cast.carol.user,
        rows=[{"name": "石牌街道办事处", "org_unit": "440106", "source": word}],
        all_or_nothing=True,
    )
    assert result.ok, result.errors
    assert Lead.objects.get(name="石牌街道办事处").source == code


def test_every_documented_source_word_is_accepted(cast):
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "sales-leads-and-opportunities.md").read_text()
    line = next(text for text in doc.splitlines() if "its source:" in text)
    words = [w.strip(" .") for w in line.split("its source:")[1].split(",")]
    assert len(words) == 8
    known = services.source_words()
    from jiketong.core.spreadsheets import header_key

    assert [w for w in words if header_key(w) not in known] == []


def test_an_unknown_source_is_a_row_error(cast):
    result = services.leads_import(
        actor=cast.carol.user, rows=[{"name": "石牌街道办事处", "source": "朋友圈"}], all_or_nothing=True
    )
    assert list(result.errors[0]["errors"]) == ["source"]


# --- set-based checks ------------------------------------------------------------------------------------
def test_the_import_costs_the_same_queries_for_250_rows_as_for_500(cast):
    def queries_for(rows):
        with CaptureQueriesContext(connection) as captured:
            result = services.leads_import(actor=cast.carol.user, rows=rows, all_or_nothing=False)
        assert result.ok
        return len(captured)

    queries_for([{"name": "预热商贸有限公司", "org_unit": "440106"}])  # the actor's staff record is loaded once
    small = queries_for(
        [{"name": f"甲{i}商贸有限公司", "org_unit": "440106", "expected_size": "5"} for i in range(250)]
    )
    large = queries_for(
        [{"name": f"乙{i}商贸有限公司", "org_unit": "440106", "expected_size": "5"} for i in range(500)]
    )
    assert small == large < 40


def test_an_import_spreads_its_leads_over_the_least_loaded(cast):
    rows = [{"name": f"丙{i}科技有限公司", "org_unit": "440106", "expected_size": "800"} for i in range(10)]
    services.leads_import(actor=cast.carol.user, rows=rows, all_or_nothing=True)
    owners = sorted(Lead.objects.values_list("owner__user__username", flat=True))
    assert owners == ["alice"] * 5 + ["bob"] * 5


# --- the stream (decision 0024): rows checked as COPY takes them, in chunks ----------------------------------
@pytest.fixture
def small_chunks(monkeypatch):
    from jiketong.sales import imports

    monkeypatch.setattr(imports, "CHUNK", 3)  # a file of a few rows crosses several chunks of leads and audit rows


def test_a_file_written_in_several_chunks_lands_every_good_row_with_its_audit_row(cast, small_chunks):
    rows = [{"name": f"丁{i}科技有限公司", "org_unit": "440106", "expected_size": "800"} for i in range(10)]
    rows[4] = {"name": "", "org_unit": "440106"}  # no name
    rows[8] = {"name": "丁2科技有限公司", "org_unit": "440106"}  # the same organisation as row 3, two chunks later
    result = services.leads_import(actor=cast.carol.user, rows=rows, all_or_nothing=False)
    assert [(error["row"], sorted(error["errors"])) for error in result.errors] == [(5, ["name"]), (9, ["name"])]
    assert "3" in result.errors[1]["errors"]["name"][0]  # the first row of that organisation
    leads = Lead.objects.order_by("pk")
    assert result.done == 8 and leads.count() == 8
    audited = set(
        AuditEvent.objects.filter(action=AuditAction.IMPORT, target_type="sales.lead").values_list(
            "target_id", flat=True
        )
    )
    assert audited == set(leads.values_list("pk", flat=True))
    owners = sorted(leads.values_list("owner__user__username", flat=True))
    assert owners == ["alice"] * 4 + ["bob"] * 4  # spread as one batch, whatever the chunks


def test_all_or_nothing_with_a_bad_row_after_chunks_were_sent_lands_nothing_and_names_every_bad_row(cast, small_chunks):
    rows = [{"name": f"戊{i}科技有限公司", "org_unit": "440106"} for i in range(12)]
    rows[9] = {"name": "戊9科技有限公司", "org_unit": "999999"}  # after three chunks have been written
    rows[11] = {"name": "戊0科技有限公司", "org_unit": "440106"}  # the same as row 1
    seen = []
    result = services.leads_import(
        actor=cast.carol.user, rows=rows, all_or_nothing=True, on_write=lambda found: seen.append(found.done)
    )
    assert [error["row"] for error in result.errors] == [10, 12]
    assert result.done == 0 and seen == [0]
    assert not Lead.objects.exists()
    assert not AuditEvent.objects.filter(target_type="sales.lead").exists()


def test_duplicates_found_by_the_join_equal_those_found_by_ranges(cast, monkeypatch):
    services.lead_create(actor=cast.alice.user, source="visit", name="华南理工大学后勤集团", confirm_duplicates=True)
    code = make_uscc()
    services.lead_create(actor=cast.bob.user, source="visit", name="某测试单位", uscc=code, confirm_duplicates=True)
    items = [
        ("广州地铁集团股份有限公司", ""),  # alice's customer, by name
        ("华南理工大学后勤", ""),  # an open lead, by name
        ("另一个单位", code),  # an open lead, by credit code
        ("深圳福田银行", ""),  # a customer carol may not see
        ("全新的单位", ""),
    ]
    by_ranges = queries.lead_duplicates_many(cast.carol.user, items)
    monkeypatch.setattr(queries, "KEY_TABLE_FROM", 0)
    joined = queries.lead_duplicates_many(cast.carol.user, items)
    assert [[m.message() for m in found] for found in joined] == [[m.message() for m in found] for found in by_ranges]
    assert [len(found) for found in joined] == [1, 1, 1, 1, 0]


def test_an_imported_leads_audit_row_is_its_masked_snapshot(cast):
    from jiketong.core.masking import mask_audit_values

    services.leads_import(
        actor=cast.carol.user,
        rows=[
            {
                "name": "导入13912345678科技有限公司",
                "contact_mobile": "13912340000",
                "org_unit": "440106",
                "industry": "商贸零售",
                "expected_size": "300",
                "source": "拜访",
            }
        ],  # fmt: skip
        all_or_nothing=True,
    )
    lead = Lead.objects.get()
    event = AuditEvent.objects.get(action=AuditAction.IMPORT, target_id=lead.pk)
    assert event.after == mask_audit_values("sales.lead", services._lead_snapshot(lead))
    assert event.after["contact_mobile"] == "139****0000" and "13912345678" not in event.target_repr
    assert (event.actor, event.target_type) == (cast.carol.user, "sales.lead")


# --- large files: the task worker --------------------------------------------------------------------------
def test_a_large_file_is_imported_by_the_worker_with_its_progress_and_error_report(cast, client_as, settings):
    settings.IMPORT_INLINE_ROWS = 3
    client = client_as(cast.carol)
    upload = csv_upload([*survey(4), ["", "440106", "", ""], ["体育中心", "999999", "", ""]])
    response = client.post("/sales/leads/import/", {"file": upload, "all_or_nothing": ""})
    run = LeadImportRun.objects.get()
    assert response.status_code == 302 and response.url == f"/sales/leads/import/{run.pk}/"
    assert (run.status, run.rows_total, run.rows_ok, run.rows_bad, run.progress) == (RunStatus.PARTIALLY, 6, 4, 2, 100)
    assert Lead.objects.count() == 4
    page = client.get(response.url).content.decode()
    assert "部分导入" in page or "Partially" in page
    assert 'hx-trigger="every 1s"' not in page  # done: the card stops polling
    report = b"".join(client.get(f"/sales/leads/import/{run.pk}/errors/").streaming_content).decode("utf-8-sig")
    assert "999999" in report and report.count("\n") == 3
    assert AuditEvent.objects.filter(target_type="sales.leadimportrun", target_id=run.pk).count() == 1


def test_a_running_import_polls_and_its_partial_is_the_status_card(cast, client_as):
    run = LeadImportRun.objects.create(file_name="big.csv", file_path="/nonexistent", created_by=cast.carol.user)
    client = client_as(cast.carol)
    page = client.get(f"/sales/leads/import/{run.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page
    partial = client.get(f"/sales/leads/import/{run.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<section class="card" id="import-status"')


def test_an_all_or_nothing_run_with_a_bad_row_lands_nothing(cast, settings):
    settings.IMPORT_INLINE_ROWS = 1
    result, run = services.lead_import_start(
        actor=cast.carol.user, upload=csv_upload([*survey(3), ["", "440106", "", ""]]), all_or_nothing=True
    )
    run.refresh_from_db()
    assert result is None and run.status == RunStatus.FAILED and run.rows_bad == 1 and Lead.objects.count() == 0


def test_small_files_are_imported_in_the_request_without_a_run(cast):
    result, run = services.lead_import_start(actor=cast.carol.user, upload=csv_upload(survey(2)), all_or_nothing=True)
    assert run is None and result.done == 2 and not LeadImportRun.objects.exists()


def test_someone_elses_import_run_is_not_found(cast, client_as):
    run = LeadImportRun.objects.create(file_name="big.csv", file_path="/nonexistent", created_by=cast.carol.user)
    assert client_as(cast.alice).get(f"/sales/leads/import/{run.pk}/").status_code == 404
    assert client_as(cast.frank).get(f"/sales/leads/import/{run.pk}/").status_code == 200  # the administrator


def test_a_run_whose_worker_died_is_failed_by_the_frequent_job(cast):
    now = timezone.now()
    running = {"file_path": "/x", "created_by": cast.carol.user, "status": RunStatus.RUNNING}
    dead = LeadImportRun.objects.create(file_name="a.csv", heartbeat_at=now - timedelta(minutes=10), **running)
    alive = LeadImportRun.objects.create(file_name="b.csv", heartbeat_at=now - timedelta(seconds=20), **running)
    assert jobs.frequent(now) == "sales: 1 stalled lead imports closed"
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == RunStatus.FAILED and "nothing was loaded" in dead.message
    assert alive.status == RunStatus.RUNNING


def test_a_second_delivery_of_the_task_leaves_the_run_alone(cast, settings):
    settings.IMPORT_INLINE_ROWS = 1
    _result, run = services.lead_import_start(actor=cast.carol.user, upload=csv_upload(survey(3)), all_or_nothing=True)
    assert services.run_lead_import(run.pk).status == RunStatus.SUCCEEDED
    assert Lead.objects.count() == 3


# --- hostile files -------------------------------------------------------------------------------------------
def test_a_spreadsheet_bomb_sent_to_the_import_page_is_refused_unread(cast, client_as, monkeypatch):
    import openpyxl

    from jiketong.core.tests.test_spreadsheets import handmade_xlsx

    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("the bomb was parsed"))
    upload = SimpleUploadedFile("survey.xlsx", handmade_xlsx(1000, 1000))
    response = client_as(cast.carol).post("/sales/leads/import/", {"file": upload, "all_or_nothing": "on"})
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert "SPREADSHEET_MAX_RATIO" in errors[0]
    assert not LeadImportRun.objects.exists() and not Lead.objects.exists()


def test_the_api_hands_a_large_file_to_the_worker_and_follows_it(cast, api_as, settings):
    from jiketong.api.tests.conftest import API

    settings.IMPORT_INLINE_ROWS = 2
    client = api_as(cast.carol)
    upload = csv_upload([*survey(3), ["", "440106", "", ""]])
    response = client.post(f"{API}/leads/import", {"file": upload, "all_or_nothing": "false"})
    assert response.status_code == 202, response.content
    data = response.json()
    assert (data["status"], data["rows_ok"], data["rows_bad"]) == ("partially", 3, 1)
    assert client.get(f"{API}/lead-imports/{data['id']}").json()["progress"] == 100
    report = client.get(data["error_report"])
    assert report.status_code == 200 and "This field cannot be blank." in b"".join(report.streaming_content).decode()
    assert api_as(cast.bob).get(f"{API}/lead-imports/{data['id']}").status_code == 404


def test_the_import_page_lists_the_large_imports_once_in_its_body_not_its_title(cast, client_as):
    LeadImportRun.objects.create(created_by=cast.carol.user, file_name="普查.xlsx", file_path="/nonexistent")
    html = client_as(cast.carol).get("/sales/leads/import/").content.decode()
    title = html[html.index("<title>") : html.index("</title>")]
    assert "普查.xlsx" not in title and "<" not in title.removeprefix("<title>")
    assert html.count('data-testid="import-runs"') == 1
