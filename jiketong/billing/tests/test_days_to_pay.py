"""回款天数 (days to pay): an optional column of a facts file, kept per bill line and per customer month."""

from datetime import date

from jiketong.billing import services
from jiketong.billing.models import BillingFact, CustomerMonth, ImportStatus

HEADER = ("账期", "客户编号", "产品编码", "收入", "计费成员数", "是否按时缴费", "回款天数")


def run(cast, path, mode="all"):
    imported = services.import_file(actor=cast.erin.user, path=path, kind="facts", mode=mode)
    return services.run_import(imported.pk)


def test_days_to_pay_land_on_the_lines_and_the_month_keeps_the_slowest(billing, write_csv):
    path = write_csv(
        [
            ("202601", "C001", "DIA", "3000", "0", "是", "12"),
            ("202601", "C001", "VNET", "250", "50", "是", " 31 "),
            ("202601", "C002", "DIA", "100", "0", "是", ""),
        ],
        header=HEADER,
    )
    result = run(billing, path)
    assert result.status == ImportStatus.SUCCEEDED, result.message
    assert sorted(BillingFact.objects.values_list("customer__number", "product__code", "days_to_pay")) == [
        ("C001", "DIA", 12), ("C001", "VNET", 31), ("C002", "DIA", None),
    ]  # fmt: skip
    months = dict(CustomerMonth.objects.filter(period=date(2026, 1, 1)).values_list("customer__number", "days_to_pay"))
    assert months == {"C001": 31, "C002": None}


def test_the_english_header_works_too_and_a_file_without_the_column_leaves_it_empty(billing, write_csv):
    english = ("period", "customer_number", "product_code", "revenue", "days_to_pay")
    assert run(billing, write_csv([("2026-01", "C001", "DIA", "10", "5")], header=english)).status == "succeeded"
    assert BillingFact.objects.get().days_to_pay == 5
    plain = ("period", "customer_number", "product_code", "revenue")
    assert run(billing, write_csv([("2026-01", "C001", "DIA", "10")], header=plain)).status == "succeeded"
    assert BillingFact.objects.get().days_to_pay is None


def test_bad_days_to_pay_are_bad_rows_with_the_reason(billing, write_csv):
    path = write_csv(
        [
            ("202601", "C001", "DIA", "3000", "0", "是", "-3"),
            ("202601", "C001", "VNET", "250", "50", "是", "2.5"),
            ("202601", "C002", "DIA", "100", "0", "是", "十天"),
            ("202601", "C003", "DIA", "100", "0", "是", "4000"),
            ("202601", "C003", "VNET", "100", "0", "是", "30"),
        ],
        header=HEADER,
    )
    result = run(billing, path, mode="good")
    assert (result.status, result.rows_ok, result.rows_bad) == (ImportStatus.PARTIALLY, 1, 4)
    with open(result.error_path, encoding="utf-8-sig") as report:
        text = report.read()
    assert text.count("Days to pay must be a whole number from 0 to 3650") == 4, text
