"""保网 in Debian's chromium: a manager records a high threat, the city supervisor sees it on the defence board,
opens a defence plan with a countermeasure and closes it as kept, and the defence report counts it."""

import os

import pytest
from playwright import sync_api

from jiketong import testing
from jiketong.core.models import Notification
from jiketong.defence.models import Plan

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]  # fmt: skip


@pytest.fixture
def browser():
    assert os.path.exists(CHROMIUM), "chromium is not installed (apt-get install chromium)"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def login(browser, base: str, username: str) -> sync_api.Page:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", testing.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_high_threat_goes_from_the_manager_to_the_board_to_a_plan_kept_and_the_report(live_server, cast, browser):
    base, customer = live_server.url, cast.alice_customer

    manager = login(browser, base, "alice")
    manager.goto(f"{base}/defence/customers/{customer.pk}/")
    manager.click(f"a[href='/defence/customers/{customer.pk}/attacks/new/']")
    manager.select_option("#id_competitor", "china_telecom")
    manager.select_option("#id_kind", "price")
    manager.fill("#id_description", "电信专线六折，送云主机")
    manager.select_option("#id_threat", "high")
    manager.click("[data-testid=save]")
    manager.wait_for_url(f"{base}/defence/customers/{customer.pk}/")
    sync_api.expect(manager.locator("[data-testid=attack-log]")).to_contain_text("电信专线六折")
    manager.context.close()
    assert Notification.objects.filter(recipient=cast.carol.user, kind="defence_threat").count() == 1

    supervisor = login(browser, base, "carol")
    supervisor.click("a.nav-link[href='/defence/']")
    board = supervisor.locator("[data-testid=board-table]")
    row = board.locator(f"tr[data-customer='{customer.pk}']")
    sync_api.expect(row).to_contain_text("广州地铁集团有限公司")
    sync_api.expect(row.locator("[data-level=high]")).to_be_visible()
    sync_api.expect(row).to_contain_text("电信专线六折")

    row.locator(f"a[href='/defence/customers/{customer.pk}/plans/new/']").click()
    supervisor.fill("#id_goal", "保住专线和V网")
    supervisor.click("[data-testid=save]")
    supervisor.wait_for_url(f"{base}/defence/plans/*/")
    plan = Plan.objects.get()
    supervisor.select_option("#id_kind", "executive_visit")
    supervisor.fill("#id_description", "分公司总经理拜访")
    supervisor.click("form[action$='/countermeasures/new/'] button[type=submit]")
    sync_api.expect(supervisor.locator("[data-testid=countermeasures]")).to_contain_text("分公司总经理拜访")

    supervisor.click(f"a[href='/defence/plans/{plan.pk}/close/']")
    supervisor.select_option("#id_outcome", "kept")
    supervisor.click("[data-testid=save]")
    supervisor.wait_for_url(f"{base}/defence/plans/{plan.pk}/")
    sync_api.expect(supervisor.locator("[data-testid=plan-outcome]")).to_be_visible()

    supervisor.goto(f"{base}/defence/reports/")
    sync_api.expect(supervisor.locator("[data-testid=success-rate]")).to_have_text("100.0%")
    sync_api.expect(supervisor.locator("[data-testid=success-table]")).to_contain_text("1")
    supervisor.context.close()
