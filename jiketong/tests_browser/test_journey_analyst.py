"""An HQ analyst's day in the browser (孙丽, 集团公司): the indicator tables for May 2026 by org unit (the revenue
column equal to the API's), the customer segments, and the table exported to Excel: the downloaded workbook,
opened with openpyxl, holds what the screen shows."""

import re
from decimal import Decimal

import openpyxl
import pytest

from jiketong.analytics import segments
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.tests_browser.journeys import PERIOD, billed_world, expect, number


@pytest.fixture
def billed(cast):
    billed_world(cast)
    segments.refresh(PERIOD)
    return cast


def screen_table(table) -> tuple[list[str], list[list[str]]]:
    """The header and the rows (body and total) of an indicator table, as text."""
    header = [cell.strip() for cell in table.locator("thead th").all_inner_texts()]
    rows = []
    for row in table.locator("tbody tr, tfoot tr").all():
        rows.append([cell.strip() for cell in row.locator("th, td").all_inner_texts()])
    return header, rows


def same_figure(shown: str, stored) -> bool:
    """'¥3,500.00' is 3500; '33.3%' is 0.333… or 33.3…; '—' is an empty cell."""
    if shown in ("—", ""):
        return stored in (None, "", "—")
    value = Decimal(number(shown).rstrip("%"))
    if stored in (None, ""):
        return False
    stored = Decimal(number(str(stored)).rstrip("%"))
    if shown.endswith("%"):
        places = Decimal(1).scaleb(-(len(number(shown).rstrip("%").partition(".")[2])))
        return abs(stored * 100 - value) <= places or abs(stored - value) <= places
    return stored == value


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_hq_analysts_day(billed, journey, tmp_path):
    me = journey("analyst", accept_downloads=True)
    page = me.page
    me.log_in("erin", "孙丽")

    # The dashboard, then its indicator tables: the revenue section for May by org unit.
    me.menu("/analytics/")
    page.goto(f"{me.base}/analytics/?period={PERIOD:%Y-%m}")
    expect(page.locator("[data-testid=kpis]")).to_contain_text("收入")
    me.shot("dashboard")
    page.click("main a[href^='/analytics/indicators/']")
    page.wait_for_url(re.compile(r"/analytics/indicators/"))
    page.select_option("#id_section", "revenue")
    page.select_option("#id_by", "org")
    page.click("main form button.btn-primary")
    page.wait_for_url(re.compile(r"section=revenue"))
    table = page.locator("main table").first
    header, rows = screen_table(table)
    assert header[0] == "组织单元" and "收入" in header
    labels = [row[0] for row in rows]
    assert labels[-1] == "合计"
    assert "广东省公司" in labels and "浙江省公司" in labels
    me.shot("indicators")

    # The revenue column says what the API says, unit by unit and in total.
    api = me.api(f"/analytics/indicators?code=revenue&period={PERIOD:%Y-%m}&by=org")
    column = header.index("收入")
    by_unit = {row["label"]: row["value"] for row in api["rows"]}
    for row in rows[:-1]:
        assert same_figure(row[column], by_unit.get(row[0])), (row, by_unit)
    assert same_figure(rows[-1][column], api["total"]) and Decimal(str(api["total"])) == Decimal("6600")

    # The same table to Excel: header, every row and the total, figure for figure.
    with page.expect_download() as download:
        page.click("main a[href^='/analytics/indicators.xlsx']")
    assert download.value.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    sheet = openpyxl.load_workbook(path, read_only=True).active
    book = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert book[0][0] == header[0]
    assert [str(cell).split(" (")[0] for cell in book[0][1:]] == header[1:]
    assert [row[0] for row in book[1:]] == labels
    for shown, stored in zip(rows, book[1:], strict=True):
        for text, value in zip(shown[1:], stored[1:], strict=True):
            assert same_figure(text, value), (shown, stored)
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, actor=billed.erin.user).count() == 1

    # The segments of May: the customers billed in the last 12 months, by name, with their RFM scores.
    page.goto(f"{me.base}/analytics/?period={PERIOD:%Y-%m}")
    page.click("main a[href^='/analytics/segments/']")
    page.wait_for_url(re.compile(r"/analytics/segments/"))
    segment_table = page.locator("[data-testid=segment-table]")
    for name in ("广州地铁集团有限公司", "天河软件园管理委员会", "深圳福田银行", "杭州西湖教育集团"):
        expect(segment_table).to_contain_text(name)
    me.shot("segments")
