"""The archive import (customers.imports, decision 0018): customers with key persons and members from a survey
sheet or a BOSS customer master, matched by USCC or customer number, checked with the form's rules set-based,
landing only in the importer's subtree, audited in bulk; UI, API and CLI."""

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook

from jiketong.core.imports import RunStatus
from jiketong.core.models import AuditAction, AuditEvent, Event
from jiketong.customers import imports, jobs
from jiketong.customers.models import Contact, Customer, CustomerImportRun, GradeChange, LifecycleStatus, Member
from jiketong.customers.search import build_search_text
from jiketong.testing import make_uscc

HEADER = [
    "统一社会信用代码",
    "客户名称",
    "客户类型",
    "行业",
    "归属单位",
    "客户等级",
    "客户状态",
    "联系人",
    "职务",
    "联系人手机",
]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def write(tmp_path, rows, header=HEADER, *, name="archive.csv", encoding="utf-8") -> Path:
    path = tmp_path / name
    with open(path, "w", encoding=encoding, newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(actor, path: Path, **choices) -> CustomerImportRun:
    options = {"mode": "good", "match": "uscc", "action": "upsert"} | choices
    started = imports.import_path(actor=actor, path=path, **options)
    return imports.run_archive_import(started.pk)


def problems(found: CustomerImportRun) -> list[tuple[int, str, str]]:
    if not found.error_path:
        return []
    with open(found.error_path, encoding="utf-8-sig", newline="") as report:
        return [(int(row[1]), row[4], row[5]) for row in list(csv.reader(report))[1:]]


def new_row(code: str | None = None, name: str = "天河石牌科技有限公司", **values) -> list[str]:
    row = {
        "uscc": code or make_uscc("440106"),
        "name": name,
        "type": "企业",
        "industry": "商贸零售",
        "unit": "440106",
        "grade": "C",
        "status": "潜在",
        "contact": "张建国",
        "title": "总经理",
        "mobile": "13800138000",
    } | values
    return list(row.values())


# --- creating -------------------------------------------------------------------------------------------
def test_a_gbk_survey_sheet_creates_customers_with_their_key_persons(cast, tmp_path):
    code = make_uscc("440106")
    found = run(cast.carol.user, write(tmp_path, [new_row(code)], encoding="gbk"))
    assert found.status == RunStatus.SUCCEEDED, found.message
    customer = Customer.objects.get(uscc=code)
    assert (customer.name, customer.type, customer.industry_id, customer.org_unit, customer.grade, customer.status) == (
        "天河石牌科技有限公司",
        "enterprise",
        "retail",
        cast.org["440106"],
        "C",
        LifecycleStatus.PROSPECT,
    )
    assert customer.number == f"4401{customer.pk:08d}"  # as customer_create numbers a customer without one
    assert customer.search_text == build_search_text(name=customer.name, number=customer.number, uscc=code)
    assert customer.is_root() and customer.source == "import"
    person = Contact.objects.get(customer=customer)
    assert (person.name, person.title, person.mobile, person.is_key_person) == ("张建国", "总经理", "13800138000", True)
    assert GradeChange.objects.get(customer=customer).new_grade == "C"
    assert found.counts == {"created": 1, "updated": 0, "unchanged": 0, "contacts": 1, "members": 0}


def test_new_customers_are_audited_in_bulk_like_the_form_and_personal_data_is_masked(cast, tmp_path):
    from jiketong.core.audit import snapshot
    from jiketong.core.masking import mask_audit_values
    from jiketong.customers.services import CONTACT_FIELDS, CUSTOMER_FIELDS

    code = make_uscc("440106")
    found = run(cast.carol.user, write(tmp_path, [new_row(code)]))
    customer = Customer.objects.get(uscc=code)
    created = AuditEvent.objects.get(target_type="customers.customer", target_id=customer.pk)
    assert created.action == AuditAction.CREATE and created.actor == cast.carol.user
    expected = mask_audit_values("customers.customer", snapshot(customer, CUSTOMER_FIELDS) | {"parent": None})
    assert created.after == expected
    person = Contact.objects.get(customer=customer)
    contact_event = AuditEvent.objects.get(target_type="customers.contact", target_id=person.pk)
    assert contact_event.after == mask_audit_values("customers.contact", snapshot(person, CONTACT_FIELDS))
    assert contact_event.after["mobile"] == "138****8000" and contact_event.customer_id == customer.pk
    assert AuditEvent.objects.filter(target_type="customers.customerimportrun", target_id=found.pk).count() == 1


def test_english_headings_and_a_title_row_above_them(cast, tmp_path):
    code = make_uscc("440106")
    path = tmp_path / "master.csv"
    path.write_text(
        "BOSS customer master 2026-11,,,,\n"
        "Credit code,Customer name,Type,Industry,Org unit\n"
        f"{code},Tianhe Soft Co.,Enterprise,retail,440106\n"
        f"{make_uscc()},Tianhe Bank,Enterprise,金融,440106\n",
        encoding="utf-8-sig",
    )
    assert run(cast.carol.user, path).status == RunStatus.SUCCEEDED
    assert Customer.objects.get(uscc=code).name == "Tianhe Soft Co."
    assert Customer.objects.get(name="Tianhe Bank").industry_id == "finance"  # 金融（银行/证券/保险）


def test_a_workbook_with_customers_contacts_and_members_sheets(cast, tmp_path):
    book = Workbook()
    customers = book.active
    customers.title = "客户"
    customers.append(["集团编号", "客户名称", "客户类型", "行业", "归属单位"])
    customers.append(["B0001", "天河新客户有限公司", "事业单位", "党政军", "440106"])
    people = book.create_sheet("联系人")
    people.append(["集团编号", "联系人", "职务", "手机", "决策角色", "生日"])
    people.append(["B0001", "李主任", "主任", "13900001111", "决策者", date(1980, 5, 6)])
    members = book.create_sheet("成员")
    members.append(["集团编号", "手机号码", "部门", "入网日期", "付费方式", "网络"])
    members.append(["B0001", "13700001111", "办公室", date(2024, 3, 1), "统付", "本网"])
    members.append(["B0001", "13700002222", "财务部", "2024/3/2", "个付", "异网"])
    path = tmp_path / "survey.xlsx"
    book.save(path)
    found = run(cast.carol.user, path, match="number")
    assert found.status == RunStatus.SUCCEEDED, problems(found)
    customer = Customer.objects.get(number="B0001")
    assert customer.type == "institution" and customer.industry_id == "government"
    person = Contact.objects.get(customer=customer)
    assert (person.decision_role, person.birthday, person.is_key_person) == ("decider", date(1980, 5, 6), False)
    assert sorted(Member.objects.filter(customer=customer).values_list("phone", "paid_by", "network", "joined_on")) == [
        ("13700001111", "group", "on_net", date(2024, 3, 1)),
        ("13700002222", "self", "off_net", date(2024, 3, 2)),
    ]
    audit = AuditEvent.objects.get(target_id=customer.pk, after__has_key="members_added")
    assert audit.after["members_added"] == ["137****1111", "137****2222"]


# --- matching and updating -------------------------------------------------------------------------------
def test_a_matched_customer_is_updated_audited_and_regraded_with_history(
    cast, tmp_path, django_capture_on_commit_callbacks
):
    customer = cast.alice_customer
    path = write(tmp_path, [[customer.uscc, "", "", "", "", "B1", "在网", "", "", ""]])
    with django_capture_on_commit_callbacks(execute=True):
        found = run(cast.carol.user, path)
    assert found.counts["updated"] == 1 and found.counts["created"] == 0, problems(found)
    customer.refresh_from_db()
    assert customer.grade == "B1" and customer.name == "广州地铁集团有限公司"  # an empty cell keeps the value
    change = AuditEvent.objects.get(target_id=customer.pk, action=AuditAction.UPDATE, note="archive.csv")
    assert change.before == {"grade": "C"} and change.after == {"grade": "B1"}
    assert GradeChange.objects.filter(customer=customer, new_grade="B1", reason__contains="archive.csv").exists()
    assert AuditEvent.objects.filter(target_id=customer.pk, action=AuditAction.GRADE).count() == 1
    assert customer.search_text == build_search_text(
        name=customer.name, short_name=customer.short_name, number=customer.number, uscc=customer.uscc
    )


def test_a_new_status_tells_the_other_apps(cast, tmp_path):
    customer = cast.bob_customer
    run(cast.carol.user, write(tmp_path, [[customer.uscc, "", "", "", "", "", "预警", "", "", ""]]))
    event = Event.objects.get(name="customer.lifecycle_changed", customer_id=customer.pk)
    assert (event.payload["from_status"], event.payload["to_status"]) == ("active", "at_risk")


def test_a_new_org_unit_tells_the_other_apps(cast, tmp_path):
    """Figures kept per unit (decision 0606) follow a customer the import moves."""
    customer = cast.bob_customer
    run(cast.carol.user, write(tmp_path, [[customer.uscc, "", "", "", "440104", "", "", "", "", ""]]))
    event = Event.objects.get(name="customer.moved", customer_id=customer.pk)
    assert (event.payload["from_unit"], event.payload["to_unit"]) == (cast.org["440106"].pk, cast.org["440104"].pk)


def test_importing_the_same_file_twice_changes_nothing_the_second_time(cast, tmp_path):
    path = write(tmp_path, [new_row()])
    run(cast.carol.user, path)
    events = AuditEvent.objects.count()
    again = run(cast.carol.user, path)
    assert again.counts == {"created": 0, "updated": 0, "unchanged": 1, "contacts": 0, "members": 0}
    assert Contact.objects.filter(name="张建国").count() == 1
    assert AuditEvent.objects.count() == events + 1  # the run's own IMPORT row


@pytest.mark.parametrize(
    ("action", "expected"),
    [("create", "Already in the archive as 广州地铁集团有限公司"), ("update", "No customer in your scope has this")],
)
def test_create_only_and_update_only(cast, tmp_path, action, expected):
    rows = [[cast.alice_customer.uscc, "", "", "", "", "B1", "", "", "", ""], new_row()]
    found = run(cast.carol.user, write(tmp_path, rows), action=action)
    messages = [message for _row, _column, message in problems(found)]
    assert len(messages) == 1 and messages[0].startswith(expected)


def test_matching_by_customer_number(cast, tmp_path):
    Customer.objects.filter(pk=cast.bob_customer.pk).update(number="C9001")
    path = write(tmp_path, [["C9001", "A2"]], header=["集团编号", "客户等级"])
    assert run(cast.carol.user, path, match="number").counts["updated"] == 1
    assert Customer.objects.get(pk=cast.bob_customer.pk).grade == "A2"


# --- rules, set-based --------------------------------------------------------------------------------------
def test_every_reason_of_a_bad_row_comes_back_at_once(cast, tmp_path):
    code = make_uscc("440106")
    bad = [
        code[:17] + ("0" if code[17] != "0" else "1"),
        "某单位",
        "外星人",
        "没有的行业",
        "999999",
        "Z",
        "潜在",
        "王五",
        "",
        "12345",
    ]
    found = run(cast.carol.user, write(tmp_path, [bad]))
    columns = {column for _row, column, _message in problems(found)}
    assert columns == {"统一社会信用代码", "客户类型", "行业", "归属单位", "客户等级", "联系人手机"}
    assert found.status == RunStatus.FAILED and not Customer.objects.filter(name="某单位").exists()


def test_all_or_nothing_lands_nothing_when_a_row_is_bad(cast, tmp_path):
    rows = [new_row(), new_row(name="", code=make_uscc("440106"))]
    found = run(cast.carol.user, write(tmp_path, rows), mode="all")
    assert found.status == RunStatus.FAILED and found.rows_bad == 1 and found.rows_ok == 0
    assert not Customer.objects.filter(name="天河石牌科技有限公司").exists()
    assert problems(found) == [(3, "客户名称", "This field cannot be blank.")]


def test_the_same_organisation_twice_and_a_name_like_an_existing_customers(cast, tmp_path):
    rows = [
        new_row(name="广州地铁集团股份有限公司"),  # alice's 广州地铁集团有限公司, suffixes aside
        new_row(name="岗顶电脑城有限公司"),
        new_row(name="岗顶电脑城"),
    ]
    found = run(cast.carol.user, write(tmp_path, rows))
    assert [(row, message) for row, _c, message in problems(found)] == [
        (2, "Customer 广州地铁集团有限公司 (天河区分公司, 李晓红) has the same name."),
        (4, "The same organisation as row 3."),
    ]
    assert (
        run(cast.carol.user, write(tmp_path, rows[:1], name="again.csv"), allow_same_name=True).counts["created"] == 1
    )


def test_a_name_like_one_outside_the_scope_says_only_where(cast, tmp_path):
    found = run(cast.carol.user, write(tmp_path, [new_row(name="深圳福田银行")]))
    assert [message for _r, _c, message in problems(found)] == [
        "A customer in 福田区分公司 outside your scope has the same name."
    ]


def test_a_credit_code_or_number_held_by_another_customer_is_refused(cast, tmp_path):
    Customer.objects.filter(pk=cast.bob_customer.pk).update(number="C9002")
    path = write(
        tmp_path,
        [[make_uscc("440106"), "C9002", "新单位", "企业", "商贸零售"]],
        header=["统一社会信用代码", "集团编号", "客户名称", "客户类型", "行业"],
    )
    assert [m for _r, _c, m in problems(run(cast.carol.user, path))] == [
        "A customer with this customer number already exists."
    ]


def test_owners_are_found_by_login_or_name_and_must_be_active(cast, tmp_path):
    cast.bob.user.is_active = False
    cast.bob.user.save()
    header = [*HEADER[:5], "客户经理", "备份客户经理"]
    rows = [
        [*new_row()[:5], "alice", "王强"],
        [*new_row(name="另一家公司", code=make_uscc("440106"))[:5], "李晓红", ""],
    ]
    found = run(cast.carol.user, write(tmp_path, rows, header=header))
    assert problems(found) == [(2, "备份客户经理", "王强 has left and cannot be given customers.")]
    assert Customer.objects.get(name="另一家公司").owner == cast.alice


# --- scope ---------------------------------------------------------------------------------------------------
def test_a_supervisor_cannot_file_customers_in_another_city(cast, tmp_path):
    found = run(cast.carol.user, write(tmp_path, [new_row(unit="440304")]))
    assert [m for _r, _c, m in problems(found)] == ["Choose an org unit within your own (广州市分公司)."]
    assert not Customer.objects.filter(name="天河石牌科技有限公司").exists()


def test_a_customer_outside_the_scope_is_neither_updated_nor_named(cast, tmp_path):
    path = write(tmp_path, [[cast.shenzhen_customer.uscc, "", "", "", "", "A1", "", "", "", ""]])
    found = run(cast.carol.user, path)
    assert [m for _r, _c, m in problems(found)] == [
        "A customer in 福田区分公司 outside your scope has this credit code."
    ]
    assert Customer.objects.get(pk=cast.shenzhen_customer.pk).grade == "C"
    with open(found.error_path, encoding="utf-8-sig") as report:
        assert "深圳福田银行" not in report.read()


def test_members_of_a_customer_outside_the_scope_are_refused(cast, tmp_path):
    path = write(tmp_path, [[cast.shenzhen_customer.uscc, "13700001111"]], header=["统一社会信用代码", "手机号码"])
    found = run(cast.carol.user, path)
    assert found.counts["members"] == 0 and not Member.objects.exists()


def test_customer_managers_may_not_import_the_archive(cast, tmp_path):
    with pytest.raises(PermissionDenied):
        imports.import_path(
            actor=cast.alice.user, path=write(tmp_path, [new_row()]), mode="good", match="uscc", action="upsert"
        )


# --- members ---------------------------------------------------------------------------------------------------
def test_members_twice_in_the_file_or_already_current_are_refused(cast, tmp_path):
    Member.objects.create(customer=cast.alice_customer, phone="13700003333", joined_on=date(2024, 1, 1))
    code = cast.alice_customer.uscc
    rows = [
        [code, "13700001111", "2024-03-01"],
        [code, "13700001111", ""],
        [code, "13700003333", ""],
        [code, "123", ""],
        [code, "13700004444", "2024-13-01"],
    ]
    found = run(cast.carol.user, write(tmp_path, rows, header=["统一社会信用代码", "手机号码", "入网日期"]))
    assert [(row, message) for row, _c, message in problems(found)] == [
        (3, "This number appears twice in the batch."),
        (4, "This number is already a current member of the group."),
        (5, "123 is not a valid mainland China mobile number (11 digits, starting with 1)."),
        (6, "“2024-13-01” is not a date: write it as YYYY-MM-DD."),
    ]
    assert found.counts["members"] == 1


# --- bounded work ------------------------------------------------------------------------------------------------
def test_the_import_costs_the_same_queries_for_100_rows_as_for_300(cast, tmp_path):
    def queries_for(n: int, start: int) -> int:
        rows = [new_row(name=f"测试{i}号有限公司", code=make_uscc("440106")) for i in range(start, start + n)]
        path = write(tmp_path, rows, name=f"f{start}.csv")
        with CaptureQueriesContext(connection) as captured:
            found = run(cast.carol.user, path)
        assert found.counts["created"] == n, problems(found)
        return len(captured)

    queries_for(1, 0)  # the importer's staff record is loaded once
    assert queries_for(100, 100) == queries_for(300, 1000) < 60


# --- runs: UI, API, CLI, the worker ----------------------------------------------------------------------------
def upload(rows, header=HEADER, name="survey.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode("gbk"))


def test_the_import_page_runs_a_small_file_and_shows_its_problems(cast, client_as):
    client = client_as(cast.carol)
    page = client.get("/customers/imports/")
    assert page.status_code == 200 and "档案导入" in page.content.decode()
    response = client.post(
        "/customers/imports/",
        {
            "file": upload([new_row(), new_row(name="", code=make_uscc())]),
            "match": "uscc",
            "action": "upsert",
            "mode": "good",
        },
    )
    found = CustomerImportRun.objects.get()
    assert response.status_code == 302 and response.url == f"/customers/imports/{found.pk}/"
    html = client.get(response.url).content.decode()
    assert 'data-testid="import-errors"' in html and "部分导入" in html
    report = b"".join(client.get(f"/customers/imports/{found.pk}/errors/").streaming_content).decode("utf-8-sig")
    assert "客户名称" in report


def test_a_large_file_goes_to_the_worker(cast, client_as, settings):
    settings.IMPORT_INLINE_ROWS = 1
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # queued, not run
    rows = [new_row(name=f"大文件{i}有限公司", code=make_uscc()) for i in range(3)]
    response = client_as(cast.carol).post(
        "/customers/imports/", {"file": upload(rows), "match": "uscc", "action": "upsert", "mode": "all"}
    )
    found = CustomerImportRun.objects.get()
    assert (
        response.status_code == 302
        and found.status == RunStatus.QUEUED
        and not Customer.objects.filter(name__startswith="大文件").exists()
    )
    page = client_as(cast.carol).get(f"/customers/imports/{found.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page
    imports.run_archive_import(found.pk)  # what the worker does
    assert CustomerImportRun.objects.get().status == RunStatus.SUCCEEDED
    assert Customer.objects.filter(name__startswith="大文件").count() == 3


def test_the_import_pages_are_for_supervisors_and_admins_and_runs_are_their_uploaders(cast, client_as):
    assert client_as(cast.alice).get("/customers/imports/").status_code == 403
    found = CustomerImportRun.objects.create(file_name="x.csv", file_path="/x", created_by=cast.carol.user)
    assert client_as(cast.dave).get(f"/customers/imports/{found.pk}/").status_code == 404
    assert client_as(cast.frank).get(f"/customers/imports/{found.pk}/").status_code == 200


def test_the_api_uploads_and_follows_a_run(cast):
    from jiketong.api.tests.conftest import API, ApiClient
    from jiketong.org.services import token_issue

    client = ApiClient(token_issue(user=cast.carol.user))
    rows = [new_row(), new_row(name="", code=make_uscc())]
    response = client.post(f"{API}/archive/imports", {"file": upload(rows), "mode": "good"})
    assert response.status_code == 202, response.content
    data = response.json()
    assert (data["status"], data["counts"]["created"], data["rows_bad"]) == ("partially", 1, 1)
    assert client.get(f"{API}/archive/imports/{data['id']}").json()["id"] == data["id"]
    report = client.get(data["error_report"])
    assert report.status_code == 200 and "This field cannot be blank." in b"".join(report.streaming_content).decode()
    assert client.post(f"{API}/archive/imports", {"file": upload([new_row()]), "match": "name"}).status_code == 422
    other = ApiClient(token_issue(user=cast.alice.user))
    assert other.get(f"{API}/archive/imports/{data['id']}").status_code == 403


def test_the_cli_imports_a_file(cast, tmp_path, capsys):
    path = write(tmp_path, [new_row()])
    call_command("import_customers", str(path), "--mode", "good", "--match", "uscc", "--user", "carol")
    assert "1 customers created" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("import_customers", str(write(tmp_path, [new_row(name="")], name="bad.csv")), "--user", "carol")


def test_a_run_whose_worker_died_is_failed_by_the_frequent_job(cast):
    now = timezone.now()
    dead = CustomerImportRun.objects.create(
        file_name="a.csv",
        file_path="/x",
        created_by=cast.carol.user,
        status=RunStatus.RUNNING,
        heartbeat_at=now - timedelta(minutes=6),
    )
    assert jobs.frequent(now) == "customers: 1 stalled archive imports closed"
    dead.refresh_from_db()
    assert dead.status == RunStatus.FAILED


def test_a_spreadsheet_bomb_is_refused_before_a_run_exists(cast, client_as):
    from jiketong.core.tests.test_spreadsheets import handmade_xlsx

    bomb = SimpleUploadedFile("survey.xlsx", handmade_xlsx(1000, 1000))
    response = client_as(cast.carol).post(
        "/customers/imports/", {"file": bomb, "match": "uscc", "action": "upsert", "mode": "all"}
    )
    assert response.status_code == 200 and "SPREADSHEET_MAX_RATIO" in response.context["form"].errors["file"][0]
    assert not CustomerImportRun.objects.exists()


def test_pinyin_read_word_by_word_is_lazy_pinyins(cast):
    import random

    from pypinyin import lazy_pinyin

    from jiketong.customers.search import _keep, full_pinyin

    rng = random.Random(7)
    pieces = [
        "广州",
        "重庆",
        "长沙",
        "银行",
        "行长",
        "单县",
        "地铁",
        "科技",
        "有限公司",
        "（",
        "）",
        "ABC",
        "123",
        "·",
        "乐乐",
    ]
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        assert full_pinyin(text) == lazy_pinyin(text, errors=_keep), text


def test_days_that_have_not_come_yet_are_refused_as_on_the_forms(cast, tmp_path):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    rows = [[*new_row()[:5], tomorrow]]
    found = run(cast.carol.user, write(tmp_path, rows, header=[*HEADER[:5], "合作起始日期"]))
    assert [(column, message.split(" (")[0]) for _r, column, message in problems(found)] == [
        ("合作起始日期", "This day has not come yet")
    ]
    members = write(
        tmp_path,
        [[cast.alice_customer.uscc, "13700001111", tomorrow]],
        name="m.csv",
        header=["统一社会信用代码", "手机号码", "入网日期"],
    )
    assert [column for _r, column, _m in problems(run(cast.carol.user, members))] == ["入网日期"]
