import csv
from datetime import date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import Workbook

from jiketong.billing import services
from jiketong.billing.models import BillingFact, CustomerMonth, ImportRun, ImportStatus, MemberSnapshot
from jiketong.core.models import AuditAction, AuditEvent

JAN = [
    ("202601", "C001", "DIA", "3000.00", "0", "是"),
    ("202601", "C001", "VNET", "250.00", "50", "否"),
    ("202601", "C002", "DIA", "1,500", "", ""),
]
FEB = [
    ("2026-02", "C001", "DIA", "3000", "0", "是"),
    ("2026-02", "C001", "VNET", "230", "46", "是"),
    ("2026-02", "C003", "DIA", "800.005", "0", "Y"),
]


def run(cast, path, kind="facts", mode="all", **options) -> ImportRun:
    imported = services.import_file(actor=cast.erin.user, path=path, kind=kind, mode=mode, **options)
    return services.run_import(imported.pk)


def facts() -> list[tuple]:
    return sorted(
        BillingFact.objects.values_list(
            "period", "customer__number", "product__code", "revenue", "billed_members", "paid_on_time"
        )
    )


def month(number: str, period: date) -> CustomerMonth:
    return CustomerMonth.objects.get(customer__number=number, period=period)


def report(run: ImportRun) -> list[list[str]]:
    with open(run.error_path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def test_facts_load_and_roll_up_into_customer_months(billing, write_csv):
    result = run(billing, write_csv(JAN + FEB))
    assert result.status == ImportStatus.SUCCEEDED, result.message
    assert (result.rows_total, result.rows_ok, result.rows_bad) == (6, 6, 0)
    assert result.periods == ["2026-01", "2026-02"]
    assert facts()[:3] == [
        (date(2026, 1, 1), "C001", "DIA", Decimal("3000.00"), 0, True),
        (date(2026, 1, 1), "C001", "VNET", Decimal("250.00"), 50, False),
        (date(2026, 1, 1), "C002", "DIA", Decimal("1500.00"), 0, True),
    ]
    assert facts()[5][3] == Decimal("800.01")  # rounded half-up to the cent
    jan = month("C001", date(2026, 1, 1))
    assert (jan.revenue, jan.products, jan.billed_members, jan.members, jan.on_net_members) == (
        Decimal("3250.00"), 2, 50, 50, 50,
    )  # fmt: skip
    assert jan.arrears and (jan.joined, jan.left) == (0, 0)  # first month loaded: no baseline
    feb = month("C001", date(2026, 2, 1))
    assert (feb.revenue, feb.members, feb.arrears, feb.joined, feb.left) == (Decimal("3230.00"), 46, False, 0, 4)
    assert not CustomerMonth.objects.filter(customer__number="C002", period=date(2026, 2, 1)).exists()
    newcomer = month("C003", date(2026, 2, 1))
    assert (newcomer.products, newcomer.members, newcomer.joined) == (1, 0, 0)


def test_member_snapshots_override_billed_members_and_count_movements(billing, write_csv):
    run(billing, write_csv(JAN + FEB))
    header = ("账期", "客户编号", "手机号码", "是否本网")
    snapshots = [
        ("202601", "C001", "13800000001", "是"),
        ("202601", "C001", "13800000002", "是"),
        ("202601", "C001", "13800000003", "是"),
        ("202602", "C001", "13800000002", "是"),
        ("202602", "C001", "138 0000 0003", ""),
        ("202602", "C001", "+8613800000004", "是"),
        ("202602", "C001", "13000000005", "否"),
    ]
    result = run(billing, write_csv(snapshots, header=header, name="m.csv"), kind="members")
    assert result.status == ImportStatus.SUCCEEDED, result.message
    assert MemberSnapshot.objects.count() == 7
    feb = month("C001", date(2026, 2, 1))
    # Four numbers (not the 46 billed), three on our network; 0004 and 0005 joined, 0001 left.
    assert (feb.members, feb.on_net_members, feb.joined, feb.left) == (4, 3, 2, 1)
    assert month("C001", date(2026, 1, 1)).members == 3


def test_reimporting_a_period_replaces_it_and_is_idempotent(billing, write_csv):
    run(billing, write_csv(JAN + FEB))
    before = facts()
    run(billing, write_csv(JAN + FEB))
    assert facts() == before
    # January again, without C002 and with a new amount: February is untouched.
    result = run(billing, write_csv([("202601", "C001", "DIA", "2999.00", "0", "是")]))
    assert result.periods == ["2026-01"]
    jan = [row for row in facts() if row[0] == date(2026, 1, 1)]
    assert jan == [(date(2026, 1, 1), "C001", "DIA", Decimal("2999.00"), 0, True)]
    assert [row for row in facts() if row[0] == date(2026, 2, 1)] == [r for r in before if r[0] == date(2026, 2, 1)]
    # February's joined/left were recomputed against the new January (0 billed members then).
    assert month("C001", date(2026, 2, 1)).joined == 46


def test_an_import_that_dies_midway_leaves_the_previous_data(billing, write_csv, monkeypatch):
    run(billing, write_csv(JAN))
    before, months_before = facts(), list(CustomerMonth.objects.values_list("customer_id", "revenue"))

    def crash(since, rule=None):
        assert BillingFact.objects.filter(revenue=Decimal("1.00")).exists()  # the new rows were in, uncommitted
        raise RuntimeError("killed")

    monkeypatch.setattr(services, "refresh_points", crash)
    with pytest.raises(RuntimeError):
        run(billing, write_csv([("202601", "C001", "DIA", "1.00", "0", "是")]))
    assert facts() == before
    assert list(CustomerMonth.objects.values_list("customer_id", "revenue")) == months_before
    failed = ImportRun.objects.latest("id")
    assert failed.status == ImportStatus.FAILED and "unchanged" in failed.message


def test_gbk_csv_with_english_headers(billing, write_csv):
    header = ("period", "customer_number", "product_code", "revenue", "billed_members", "paid_on_time")
    path = write_csv([("202601", "C001", "DIA", "100", "1", "欠费")], header=header, encoding="gbk")
    result = run(billing, path)
    assert result.status == ImportStatus.SUCCEEDED, result.message
    assert facts() == [(date(2026, 1, 1), "C001", "DIA", Decimal("100.00"), 1, False)]


def test_utf8_with_bom_and_gbk_chinese_headers(billing, write_csv):
    for encoding in ("utf-8-sig", "gb18030"):
        assert run(billing, write_csv(JAN, encoding=encoding)).status == ImportStatus.SUCCEEDED


def test_undecodable_file_is_refused_with_a_message(billing, tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\x80\xff\xfe\x00" * 100)
    result = run(billing, path)
    assert result.status == ImportStatus.FAILED
    assert "neither UTF-8 nor GBK" in result.message


def test_missing_column_is_named(billing, write_csv):
    result = run(billing, write_csv([("202601", "C001", "100")], header=("账期", "客户编号", "收入")))
    assert result.status == ImportStatus.FAILED
    assert "产品编码" in result.message


def test_xlsx_with_numbers_and_dates(billing, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["账期", "客户编号", "产品编码", "收入", "计费成员数", "是否按时缴费"])
    sheet.append([202601, "C001", "DIA", 3000.5, 3, "是"])
    sheet.append([datetime(2026, 2, 1), "C001", "DIA", 12, None, "否"])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["202603", "NOPE", "DIA", -1, 0, "是"])
    path = tmp_path / "facts.xlsx"
    book.save(path)
    result = run(billing, path, mode="good")
    assert result.status == ImportStatus.PARTIALLY
    assert facts() == [
        (date(2026, 1, 1), "C001", "DIA", Decimal("3000.50"), 3, True),
        (date(2026, 2, 1), "C001", "DIA", Decimal("12.00"), 0, False),
    ]
    assert report(result)[1][:2] == ["5", "Revenue cannot be negative: -1."]


BAD = [
    ("202601", "C001", "DIA", "100", "0", "是"),  # row 2: good
    ("202601", "C999", "DIA", "100", "0", "是"),  # 3
    ("202601", "C001", "XYZ", "100", "0", "是"),  # 4
    ("202601", "C002", "DIA", "-5", "0", "是"),  # 5
    ("202601", "C002", "VNET", "abc", "0", "是"),  # 6
    ("202613", "C002", "DIA", "1", "0", "是"),  # 7
    ("202601", "C001", "DIA", "200", "0", "是"),  # 8: same key as row 2
    ("202601", "C002", "DIA", "1", "1.5", "是"),  # 9
    ("202601", "C002", "DIA", "1", "0", "也许"),  # 10
    ("", "C002", "DIA", "1", "0", "是"),  # 11
    ("209901", "C002", "DIA", "1", "0", "是"),  # 12
]
REASONS = {
    "3": "Unknown customer number “C999”.",
    "4": "Unknown product code “XYZ”.",
    "5": "Revenue cannot be negative: -5.",
    "6": "Revenue is not a number: “abc”.",
    "7": "Bad period “202613”: write YYYYMM or YYYY-MM.",
    "8": "Same key as row 2 (period, customer and product).",
    "9": "Billed members must be a whole number ≥ 0: “1.5”.",
    "10": "Paid on time must be 是 or 否: “也许”.",
    "11": "Bad period “”: write YYYYMM or YYYY-MM.",
    "12": "Period 209901 is in the future.",
}


def test_all_or_nothing_loads_nothing_and_reports_every_bad_row(billing, write_csv):
    run(billing, write_csv(JAN))
    before = facts()
    result = run(billing, write_csv(BAD))
    assert result.status == ImportStatus.FAILED
    assert (result.rows_total, result.rows_ok, result.rows_bad) == (11, 0, 10)
    assert facts() == before
    rows = report(result)
    assert rows[0] == ["Row", "Reason", "账期", "客户编号", "产品编码", "收入", "计费成员数", "是否按时缴费"]
    assert {row[0]: row[1] for row in rows[1:]} == REASONS
    assert rows[1][2:] == list(BAD[1])  # the original row, as it was


def test_good_rows_mode_loads_the_rest(billing, write_csv):
    run(billing, write_csv(JAN))
    result = run(billing, write_csv(BAD), mode="good", confirm_drop=True)  # 3 rows → 1: see test_drop_confirmation
    assert result.status == ImportStatus.PARTIALLY
    assert (result.rows_ok, result.rows_bad) == (1, 10)
    # January is replaced by the good row: the first of the duplicates.
    assert facts() == [(date(2026, 1, 1), "C001", "DIA", Decimal("100.00"), 0, True)]


def test_bad_phone_and_duplicate_number_in_members(billing, write_csv):
    header = ("period", "customer_number", "phone", "on_net")
    rows = [
        ("202601", "C001", "13800000001", "1"),
        ("202601", "C001", "12345", "1"),
        ("202601", "C001", "13800000001", "0"),
        ("202601", "C404", "13800000009", "1"),
    ]
    result = run(billing, write_csv(rows, header=header, name="m.csv"), kind="members", mode="good")
    assert result.status == ImportStatus.PARTIALLY
    assert {row[0]: row[1] for row in report(result)[1:]} == {
        "3": "Not a mobile number (11 digits starting with 1): “12345”.",
        "4": "Same key as row 2 (period, customer and phone number).",
        "5": "Unknown customer number “C404”.",
    }
    assert list(MemberSnapshot.objects.values_list("phone", "on_net")) == [("13800000001", True)]


def test_every_run_is_audited_once(billing, write_csv):
    result = run(billing, write_csv(JAN + FEB))
    events = AuditEvent.objects.filter(action=AuditAction.IMPORT)
    assert events.count() == 1
    assert events.get().after["rows_ok"] == 6 and events.get().target_id == result.pk
    run(billing, write_csv(BAD))
    assert events.count() == 2


def test_only_analysts_and_admins_import(billing, write_csv):
    path = write_csv(JAN)
    for staff in (billing.alice, billing.carol, billing.grace):
        with pytest.raises(PermissionDenied):
            services.import_file(actor=staff.user, path=path, kind="facts", mode="all")
    assert services.import_file(actor=billing.frank.user, path=path, kind="facts", mode="all").pk


def test_a_run_is_run_once(billing, write_csv):
    result = run(billing, write_csv(JAN))
    again = services.run_import(result.pk)
    assert again.status == ImportStatus.SUCCEEDED and again.finished_at == result.finished_at
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT).count() == 1


def test_command_line_import_and_points_rebuild(billing, write_csv, capsys):
    from django.core.management import CommandError, call_command

    from jiketong.billing.models import PointsLedger

    call_command("billing", "import", str(write_csv(JAN)), "--kind", "facts", "--user", "erin")
    assert len(facts()) == 3 and "Succeeded" in capsys.readouterr().out
    with pytest.raises(CommandError, match="Nothing was loaded"):
        call_command("billing", "import", str(write_csv(BAD[:3], name="bad.csv")), "--user", "erin")
    with pytest.raises(CommandError, match="Only analysts"):
        call_command("billing", "import", str(write_csv(JAN)), "--user", "alice")
    PointsLedger.objects.all().delete()
    call_command("billing", "points", "--since", "2026-01")
    assert PointsLedger.objects.count() == 2
