"""In Debian's chromium: a manager opens a customer's 360 page, records a visit in the work panel, and
sees the period's visit task marked done; then the same entry on a phone-sized screen."""

import os

import pytest
from django.utils import timezone
from playwright import sync_api

from jiketong import testing
from jiketong.customers.models import Customer
from jiketong.work import services
from jiketong.work.models import Task, TaskStatus

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SCREENSHOT = "/tmp/jkt-work-visit.png"
SCREENSHOT_MOBILE = "/tmp/jkt-work-visit-mobile.png"


@pytest.fixture
def browser():
    assert os.path.exists(CHROMIUM), "chromium is not installed (apt-get install chromium)"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _login(page, base):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", testing.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_manager_records_a_visit_from_the_360_page_and_the_visit_task_is_done(live_server, cast, browser):
    customer = cast.alice_customer
    Customer.objects.filter(pk=customer.pk).update(grade="A1")
    services.generate_visit_tasks(timezone.localdate())
    task = Task.objects.get(customer=customer)
    base = live_server.url
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    _login(page, base)

    page.goto(f"{base}/customers/{customer.pk}/")
    panel = page.locator("[data-testid=work-panel]")
    sync_api.expect(panel.locator("[data-testid=open-tasks]")).to_contain_text(task.title)
    page.click("[data-testid=record-activity]")
    # HTMX swaps the quick-entry form into the panel.
    page.fill("#id_notes", "拜访张总，介绍5G专网方案")
    page.fill("#id_outcome", "客户有意向，下周报价")
    page.click("[data-testid=save-activity]")
    sync_api.expect(page.locator("[data-testid=timeline]")).to_contain_text("拜访")
    sync_api.expect(page.locator("[data-testid=no-open-tasks]")).to_be_visible()
    page.screenshot(path=SCREENSHOT, full_page=True)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE

    page.goto(f"{base}/work/tasks/{task.pk}/")
    sync_api.expect(page.locator("[data-testid=task-status]")).to_have_text("已完成")
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_quick_visit_entry_works_on_a_phone(live_server, cast, browser):
    base = live_server.url
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    _login(page, base)
    page.goto(f"{base}/work/customers/{cast.alice_customer.pk}/visit/")
    form = page.locator("[data-testid=activity-form]")
    # Nothing sticks out sideways: the form fits the screen.
    assert form.bounding_box()["width"] <= 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.fill("#id_notes", "现场拜访")
    page.screenshot(path=SCREENSHOT_MOBILE, full_page=True)
    page.click("[data-testid=save-activity]")
    page.wait_for_url(f"{base}/customers/{cast.alice_customer.pk}/")
    sync_api.expect(page.locator("[data-testid=timeline]")).to_contain_text("拜访")
    context.close()
