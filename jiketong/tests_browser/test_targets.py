"""Targets in the browser (issue 10 item 5): an analyst opens 目标 from the sidebar, sets a target, loads more from
an Excel file (a wrong file first: every wrong row listed, nothing loaded), and sees the dashboard's 目标 panel
show their progress; the city supervisor reads the same targets and is offered no way to set them.

Screenshots (JIKETONG_SCREENSHOTS=1): var/screenshots/targets-analyst/ and var/screenshots/targets-supervisor/.
"""

import io
import re

import pytest
from openpyxl import Workbook

from jiketong.analytics.models import Target
from jiketong.tests_browser.journeys import PERIOD, billed_world, expect, main_text


def workbook(rows: list[list], path) -> str:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    path.write_bytes(data.getvalue())
    return str(path)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_analyst_sets_and_loads_targets_and_the_dashboard_shows_their_progress(cast, journey, tmp_path):
    billed_world(cast)  # 广州 in May 2026: revenue ¥3,500 (广州地铁 ¥1,500 + 天河软件园 ¥2,000)
    me = journey("targets-analyst")
    page = me.page
    me.log_in("erin", "孙丽")

    # 目标 from the sidebar: nothing set yet, and the way to set one.
    me.menu("/analytics/targets/")
    expect(page.locator("h1")).to_have_text("目标")
    expect(page.locator("[data-testid=target-table]")).to_contain_text("尚未设定目标")
    me.shot("empty")

    # A month's revenue target for 广州: 5,000 yuan.
    page.click("[data-testid=target-new]")
    page.select_option("select[name=org_unit]", label="广州市分公司（440100）")
    page.select_option("select[name=indicator]", label="收入")
    page.select_option("select[name=period_type]", value="month")
    page.fill("input[name=period]", f"{PERIOD:%Y-%m}")
    page.fill("input[name=value]", "-1")  # a mistake first: the error shows at its field
    page.click("[data-testid=save]")
    expect(page.locator("[data-field-error=value]")).to_contain_text("不会小于零")
    page.fill("input[name=value]", "5000")
    me.shot("new-target")
    page.click("[data-testid=save]")
    page.wait_for_url(re.compile(r"/analytics/targets/$"))
    expect(page.locator(".alert")).to_contain_text("目标已保存")
    row = page.locator("[data-testid=target-table] tbody tr").first
    expect(row).to_contain_text("广州市分公司")
    expect(row).to_contain_text("收入")
    expect(row.locator("[data-testid=progress]")).to_have_text("70.0%")  # 3,500 of 5,000

    # Load from Excel: a file with two wrong rows loads nothing and lists every problem.
    page.click("[data-testid=target-import]")
    bad = [
        ["组织单元编码", "指标", "周期", "目标值"],
        ["440106", "新增客户", "2026", "12"],
        ["999999", "利润", "五月", "很多"],
        ["440100", "收入", "2026-05", "6000"],
    ]
    page.set_input_files("input[name=file]", workbook(bad, tmp_path / "目标-有误.xlsx"))
    page.click("[data-testid=upload]")
    expect(page.locator("[data-testid=import-result]")).to_contain_text("未导入任何目标")
    errors = page.locator("[data-testid=import-errors] tbody tr")
    expect(errors).to_have_count(4)  # row 3: the unit, the indicator, the period and the value
    expect(page.locator("[data-testid=import-errors]")).to_contain_text("没有此编码或名称的组织单元")
    me.shot("import-errors")
    assert Target.objects.count() == 1

    # The corrected file: 天河's new customers for the year and 广州's May revenue raised to 7,000.
    good = [bad[0], bad[1], bad[3][:3] + ["7000"]]
    page.set_input_files("input[name=file]", workbook(good, tmp_path / "目标.xlsx"))
    page.click("[data-testid=upload]")
    page.wait_for_url(re.compile(r"/analytics/targets/$"))
    expect(page.locator(".alert")).to_contain_text("设定 1 个目标，修改 1 个")
    table = page.locator("[data-testid=target-table]")
    expect(table).to_contain_text("天河区分公司")
    expect(table).to_contain_text("2026（年）")
    expect(table).to_contain_text("50.0%")  # 3,500 of 7,000
    me.shot("targets")

    # The dashboard's 目标 panel shows the same progress and links back to the page.
    me.go(f"/analytics/?period={PERIOD:%Y-%m}")
    panel = page.locator("[data-testid=target-panel]")
    expect(panel).to_contain_text("广州市分公司")
    expect(panel).to_contain_text("50.0%")
    expect(panel).not_to_contain_text("尚未设定目标")
    me.shot("dashboard")
    page.click("[data-testid=targets-link]")
    page.wait_for_url(re.compile(r"/analytics/targets/$"))
    me.log_out()

    # Carol (广州 supervisor) reads the targets of her city; she is offered no way to set them.
    carol = journey("targets-supervisor")
    carol.log_in("carol", "陈静")
    carol.menu("/analytics/targets/")
    text = main_text(carol.page)
    assert "广州市分公司" in text and "天河区分公司" in text and "50.0%" in text
    expect(carol.page.locator("[data-testid=target-new]")).to_have_count(0)
    expect(carol.page.locator("main")).to_contain_text("目标由经营分析员和管理员设定")
    carol.shot("targets")
