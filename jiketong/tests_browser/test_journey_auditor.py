"""An auditor's day in the browser (郑芳, 广东省公司): the audit log of a day of changes reads as people, records and
actions in Chinese with every personal number masked; the reveals of the day are found by filtering on the action,
and the filtered log exported to Excel holds the same rows, masked too."""

import re

import openpyxl
import pytest
from django.utils import translation

from jiketong.customers import services as customer_services
from jiketong.customers.models import Contact
from jiketong.tests_browser.journeys import expect
from jiketong.tests_browser.test_finish_pass import a_day_of_changes

FULL_NUMBERS = ("13912345678", "13820001234", "1975-05-04", "13900000000")


@pytest.fixture
def day(cast):
    a_day_of_changes(cast)
    contact = Contact.objects.get(name="张建国")
    # As from her (Chinese) 360 page: the reveal's note is written in the revealer's language.
    with translation.override("zh-hans"):
        customer_services.contact_reveal_mobile(actor=cast.alice.user, contact=contact)
    return cast


def export(page, folder) -> list[list]:
    with page.expect_download() as download:
        page.click("[data-testid=audit-export]")
    path = folder / download.value.suggested_filename
    download.value.save_as(path)
    return [list(row) for row in openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True)]


def count_of(header: str) -> int:
    return int(re.search(r"\d+", header).group())


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_auditors_day(day, journey, tmp_path):
    me = journey("auditor", accept_downloads=True)
    page = me.page
    me.log_in("grace", "郑芳")

    me.menu("/audit/")
    table = page.locator("[data-testid=audit-table]")
    expect(table).to_contain_text("阶段变更")
    text = table.inner_text()
    for full in FULL_NUMBERS:
        assert full not in text, full
    assert "139****5678" in text  # the lead's contact mobile, masked in the diff
    for word in ("李晓红", "天河区分公司", "陈静", "吴刚", "商机", "方案制定", "广州地铁集团有限公司"):
        assert word in text, word
    assert "sales.opportunity" not in text and "Stage changed" not in text
    me.shot("audit-log")

    # Who looked at a personal number today: filter on the action (HTMX redraws the table).
    with page.expect_response(lambda r: "/audit/" in r.url and r.request.headers.get("hx-request") == "true"):
        page.select_option("select[name=action]", "reveal")
    expect(page.locator("#audit-table .card-header")).to_contain_text("1")
    rows = page.locator("[data-testid=audit-table] tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("李晓红")
    expect(rows.first).to_contain_text("张建国")
    expect(rows.first).to_contain_text("查看完整个人信息")
    expect(rows.first).to_contain_text("天河区分公司")
    assert "13820001234" not in rows.first.inner_text()
    assert "action=reveal" in page.url
    me.shot("audit-reveals")

    # The filtered log to Excel: the same rows, nothing unmasked.
    shown = count_of(page.locator("#audit-table .card-header").inner_text())
    book = export(page, tmp_path)
    assert len(book) - 1 == shown == 1
    cells = " ".join(str(cell) for row in book for cell in row if cell is not None)
    assert "李晓红" in cells and "张建国" in cells
    for full in FULL_NUMBERS:
        assert full not in cells, full


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_export_after_a_filter_holds_the_filtered_rows(day, journey, tmp_path):
    me = journey("auditor", accept_downloads=True)
    me.log_in("grace", "郑芳")
    me.go("/audit/")
    with me.page.expect_response(lambda r: "/audit/" in r.url and r.request.headers.get("hx-request") == "true"):
        me.page.select_option("select[name=action]", "reveal")
    expect(me.page.locator("[data-testid=audit-table] tbody tr")).to_have_count(1)
    assert len(export(me.page, tmp_path)) - 1 == 1
