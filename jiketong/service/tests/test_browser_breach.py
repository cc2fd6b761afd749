"""In Debian's chromium: a manager receives a complaint on the customer's page, the frequent job finds it
breached, and the city supervisor sees it on the breach board."""

import os
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone
from playwright import sync_api

from jiketong import testing
from jiketong.core.models import Notification
from jiketong.service import jobs
from jiketong.service.models import Ticket

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


@pytest.fixture
def browser():
    assert os.path.exists(CHROMIUM), "chromium is not installed (apt-get install chromium)"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _login(browser, base, username):
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
def test_received_complaint_breaches_and_reaches_the_supervisors_board(live_server, cast, browser):
    base = live_server.url
    page = _login(browser, base, "alice")
    page.goto(f"{base}/customers/{cast.alice_customer.pk}/")
    page.click("[data-testid=new-ticket]")
    page.select_option("#id_type", "complaint")
    page.select_option("#id_channel", "hotline")
    page.fill("#id_title", "专线频繁中断")
    page.click("form.card button[type=submit]")
    sync_api.expect(page.locator("[data-testid=ticket-title]")).to_have_text("专线频繁中断")
    ticket = Ticket.objects.get(title="专线频繁中断")
    assert ticket.owner == cast.alice

    # A month passes without an answer: move the ticket's clock back instead of waiting, then run the job.
    month = timedelta(days=30)
    Ticket.objects.filter(pk=ticket.pk).update(
        opened_at=F("opened_at") - month,
        response_due=F("response_due") - month,
        resolve_due=F("resolve_due") - month,
        next_due=F("next_due") - month,
        watch_at=F("watch_at") - month,
    )
    assert jobs.frequent(timezone.now()) == "service: 2 SLA breaches escalated"
    assert Notification.objects.filter(recipient=cast.carol.user, kind="sla_breach").count() == 2

    board = _login(browser, base, "carol")
    board.goto(f"{base}/service/breaches/")
    table = board.locator("[data-testid=breach-table]")
    row = table.locator("tr", has_text="专线频繁中断")
    sync_api.expect(row).to_have_class("table-danger")
    sync_api.expect(table).to_contain_text(cast.alice_customer.name)
    board.screenshot(path="/tmp/jkt-breach-board.png", full_page=True)
