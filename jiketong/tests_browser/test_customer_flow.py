"""A customer manager's day in Debian's chromium: log in, find a customer by pinyin initials, open its
360 page, change the address and see the change in the history."""

import os

import pytest
from playwright import sync_api

from jiketong import testing

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run inside one
# unless told that this (test-only) use is safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENSHOT = "/tmp/jkt-360.png"
SCREENSHOT_MOBILE = "/tmp/jkt-360-mobile.png"


@pytest.fixture
def page():
    # No skip: a browser test that quietly does not run would hide a broken UI. .ci/run installs chromium.
    assert os.path.exists(CHROMIUM), "chromium is not installed (apt-get install chromium)"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_manager_searches_opens_edits_and_sees_history(live_server, cast, page):
    customer = cast.alice_customer
    testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice, name="天河体育中心")
    base = live_server.url

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", testing.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert "李晓红" in page.inner_text("[data-testid=whoami]")

    page.click("a.nav-link[href='/customers/']")
    table = page.locator("[data-testid=customer-table]")
    sync_api.expect(table).to_contain_text("天河体育中心")
    page.fill("#id_search", "gzdt")
    # HTMX swaps the table in place: the other customer disappears, the URL carries the search.
    sync_api.expect(table).not_to_contain_text("天河体育中心")
    sync_api.expect(table).to_contain_text("广州地铁集团有限公司")
    assert "search=gzdt" in page.url

    page.click("text=广州地铁集团有限公司")
    page.wait_for_url(f"{base}/customers/{customer.pk}/")
    sync_api.expect(page.locator("[data-testid=customer-name]")).to_have_text("广州地铁集团有限公司")

    page.click("[data-testid=edit-customer]")
    page.fill("#id_address", "广州市天河区体育西路 101 号")
    page.click("[data-testid=save]")
    page.wait_for_url(f"{base}/customers/{customer.pk}/")
    sync_api.expect(page.locator("[data-testid=address]")).to_have_text("广州市天河区体育西路 101 号")
    history = page.locator("[data-testid=history-table]")
    sync_api.expect(history).to_contain_text("广州市天河区体育西路 101 号")
    sync_api.expect(history).to_contain_text("李晓红")  # who, by name (not the login)
    page.screenshot(path=SCREENSHOT, full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=SCREENSHOT_MOBILE, full_page=False)
