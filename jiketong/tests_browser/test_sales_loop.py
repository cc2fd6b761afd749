"""The closed sales loop in Debian's chromium, as the people do it: a customer manager converts a lead,
moves the opportunity along the pipeline board and quotes an 8% discount; the city supervisor approves
it from the approvals queue; the manager turns the quote into a contract and an order, completes the
order, and the customer's 360 page shows the new subscription. The loop then closes by itself (the live
server commits, so the reactions run): the opportunity is 赢单 and out of the forecast, the customer is 在网,
and the manager's inbox holds the approval notice."""

import os
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from playwright import sync_api

from jiketong import testing
from jiketong.catalog.models import BillingUnit, Product, ProductCategory, SubscriptionStatus
from jiketong.core.money import format_yuan
from jiketong.customers.models import CustomerSource, Industry, LifecycleStatus
from jiketong.deals.models import ApprovalLevel, ContractStatus, OrderStatus, Quote, QuoteStatus
from jiketong.sales import services as sales_services

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
SCREENSHOT = "/tmp/jkt-sales-loop.png"
SCREENSHOTS = "/tmp/jkt-sales-loop-{}.png"  # the workbench, the won opportunity, the forecast, the inbox
expect = sync_api.expect


def zh(label) -> str:
    """A label as the (Chinese) UI shows it, from the same catalogue the page uses."""
    with translation.override("zh-hans"):
        return str(label)


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


@pytest.fixture
def loop(cast):
    """The cast plus a product on sale and an open lead of Alice's that is not yet a customer."""
    cast.product = Product.objects.create(
        code="DIA100M",
        name="互联网专线100M",
        category=ProductCategory.CONNECTIVITY,
        billing_unit=BillingUnit.PER_GROUP,
        standard_price=Decimal("2000.00"),
    )
    cast.lead = sales_services.lead_create(
        actor=cast.alice.user,
        source=CustomerSource.VISIT,
        name="广州珠江智慧物流有限公司",
        uscc=testing.make_uscc("440106"),
        industry=Industry.objects.get(pk="it"),
        expected_size=300,
        contact_name="林先生",
        need="仓库互联网专线",
    )
    return cast


def log_in(page, base: str, username: str, name: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", testing.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    expect(page.locator("[data-testid=whoami]")).to_contain_text(name)


def log_out(page, base: str) -> None:
    page.click("form[action='/accounts/logout/'] button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.goto(f"{base}/")  # the session is gone: back to the login page
    page.wait_for_url(re.compile(r"/accounts/login/"))


def forecast_rows(page, base: str, month) -> sync_api.Locator:
    """The by-owner forecast table's rows for the month the opportunity is expected to close."""
    page.goto(f"{base}/sales/forecast/?start={month:%Y-%m}")
    table = page.locator("[data-testid=forecast-table]").first
    expect(table.locator("thead")).to_contain_text(f"{month:%Y-%m}")
    return table.locator("tbody tr")


def move_on_board(page, opportunity: str, stage_code: str) -> None:
    """Pick the stage in the card's own select and press its button; HTMX redraws the board.

    The pick must stick: the filter bar refilters on changes of its own fields only (it once listened to
    every select on the page, so a card's pick redrew the board and was lost)."""
    card = page.locator("[data-testid=card]", has_text=opportunity)
    stage = card.locator("select[name=stage]")
    stage.select_option(stage_code)
    page.wait_for_load_state("networkidle")
    assert stage.input_value() == stage_code
    with page.expect_response(lambda response: "/move/" in response.url) as moved:
        card.locator("button[type=submit]").click()
    assert moved.value.ok
    column = page.locator(f"[data-testid=board] [data-stage={stage_code}]")
    expect(column.locator("[data-testid=card]", has_text=opportunity)).to_be_visible()
    expect(page.locator("[data-testid=card-error]")).to_have_count(0)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_lead_to_subscription_through_the_ui(live_server, loop, page):
    base = live_server.url
    end_on = timezone.localdate() + timedelta(days=364)
    closes = timezone.localdate() + timedelta(days=60)
    opportunity_name = "珠江物流专线项目"

    # 1. Alice converts her lead: a new customer archive and an opportunity at the first stage.
    log_in(page, base, "alice", "李晓红")
    page.click("a.nav-link[href='/sales/leads/']")
    page.click("text=广州珠江智慧物流有限公司")
    page.wait_for_url(f"{base}/sales/leads/{loop.lead.pk}/")
    page.click("[data-testid=convert]")
    form = page.locator("[data-testid=convert-form]")
    form.locator("input[name=opportunity_name]").fill(opportunity_name)
    form.locator("input[name=expected_close]").fill(closes.isoformat())
    form.locator("input[name=amount_monthly]").fill("3680")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/sales/opportunities/(\d+)/$"))
    opportunity_pk = int(re.search(r"/opportunities/(\d+)/$", page.url).group(1))
    expect(page.locator("[data-testid=stage]")).to_contain_text("需求发现")

    # 2. Two moves on the pipeline board, then the stage history on the opportunity page.
    page.click("a.nav-link[href='/sales/board/']")
    move_on_board(page, opportunity_name, "solution")
    move_on_board(page, opportunity_name, "negotiation")
    page.locator("[data-testid=card]", has_text=opportunity_name).locator("a").click()
    page.wait_for_url(f"{base}/sales/opportunities/{opportunity_pk}/")
    expect(page.locator("[data-testid=stage]")).to_contain_text("商务谈判")
    history = page.locator("[data-testid=stage-history]")
    expect(history).to_contain_text(re.compile(r"需求发现\s*→\s*方案制定"))
    expect(history).to_contain_text(re.compile(r"方案制定\s*→\s*商务谈判"))
    expect(history).to_contain_text("李晓红")  # people by name, not login
    # Open pipeline: the forecast counts it in the month it is expected to close.
    expect(forecast_rows(page, base, closes).filter(has_text="李晓红")).to_have_count(1)
    page.goto(f"{base}/sales/opportunities/{opportunity_pk}/")

    # 3. From the new customer's 360 page, a quote on that opportunity with 8% off: the city's level.
    page.click("dl.profile a[href^='/customers/']")
    page.wait_for_url(re.compile(r"/customers/(\d+)/$"))
    customer_pk = int(re.search(r"/customers/(\d+)/$", page.url).group(1))
    expect(page.locator("[data-testid=customer-name]")).to_have_text("广州珠江智慧物流有限公司")
    page.click(f"[data-testid=deals-panel] a[href='/deals/customers/{customer_pk}/quotes/new/']")
    page.fill("input[name=title]", "仓库专线报价")
    page.select_option("select[name=opportunity]", str(opportunity_pk))
    page.click("main form.card button[type=submit]")
    page.wait_for_url(re.compile(r"/deals/quotes/(\d+)/$"))
    quote_url = page.url
    quote_number = Quote.objects.get(pk=re.search(r"/quotes/(\d+)/$", quote_url).group(1)).number
    lines = page.locator("[data-testid=line-form]")
    lines.locator("select[name=product]").select_option(label=str(loop.product))
    lines.locator("input[name=quantity]").fill("2")
    lines.locator("input[name=discount_pct]").fill("8")
    lines.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=quote-lines]")).to_contain_text("互联网专线100M")
    expect(page.locator("[data-testid=quote-total]")).to_have_text(format_yuan(Decimal("3680.00")))
    page.click("[data-testid=quote-submit]")
    expect(page.locator("[data-testid=quote-status]")).to_have_text(zh(QuoteStatus.PENDING.label))
    expect(page.locator("main")).to_contain_text(zh(ApprovalLevel.CITY.label))
    # Nobody approves their own quote: Alice gets no decision form.
    expect(page.locator("[data-testid=approval-form]")).to_have_count(0)
    log_out(page, base)

    # 4. Carol, supervisor of 广州, sees it waiting on her workbench, finds it in her queue and approves it
    #    with a comment.
    log_in(page, base, "carol", "陈静")
    waiting = page.locator("[data-testid=workbench-approvals]")
    expect(waiting.locator("[data-testid=approvals-count]")).to_have_text("1")
    expect(waiting).to_contain_text(quote_number)
    expect(waiting).to_contain_text("广州珠江智慧物流有限公司")
    page.screenshot(path=SCREENSHOTS.format("workbench"), full_page=True)
    page.click("a.nav-link[href='/deals/approvals/']")
    queue = page.locator("[data-testid=approval-queue]")
    expect(queue).to_contain_text("广州珠江智慧物流有限公司")
    queue.locator("a", has_text=quote_number).click()
    page.wait_for_url(quote_url)
    page.locator("[data-testid=approval-form] textarea[name=comment]").fill("同意，专线价格在城市授权内")
    page.click("[data-testid=approve]")
    expect(page.locator("[data-testid=quote-status]")).to_have_text(zh(QuoteStatus.APPROVED.label))
    expect(page.locator("main")).to_contain_text("同意，专线价格在城市授权内")
    expect(page.locator("main")).to_contain_text("陈静")
    log_out(page, base)

    # 5. Alice makes the contract from the approved quote, activates it, orders and completes the order.
    log_in(page, base, "alice", "李晓红")
    page.goto(quote_url)
    page.click("[data-testid=quote-contract]")
    page.fill("input[name=end_on]", end_on.isoformat())
    page.click("main form.card button[type=submit]")
    page.wait_for_url(re.compile(r"/deals/contracts/(\d+)/$"))
    expect(page.locator("[data-testid=contract-status]")).to_have_text(zh(ContractStatus.DRAFT.label))
    # The value is the quote's monthly total over the twelve months of the period.
    expect(page.locator("main")).to_contain_text(format_yuan(Decimal("3680.00") * 12))
    page.click("[data-testid=contract-activate]")
    expect(page.locator("[data-testid=contract-status]")).to_have_text(zh(ContractStatus.ACTIVE.label))
    page.click("[data-testid=contract-order]")
    page.wait_for_url(re.compile(r"/deals/orders/(\d+)/$"))
    expect(page.locator("[data-testid=order-status]")).to_have_text(zh(OrderStatus.DRAFT.label))
    page.click("[data-testid=order-submitted]")
    expect(page.locator("[data-testid=order-status]")).to_have_text(zh(OrderStatus.SUBMITTED.label))
    page.click("[data-testid=order-completed]")
    expect(page.locator("[data-testid=order-status]")).to_have_text(zh(OrderStatus.COMPLETED.label))
    order_url = page.url

    # 6. The customer's 360 page lists the subscription at the approved price.
    page.click(f"nav[aria-label=breadcrumb] a[href='/customers/{customer_pk}/']")
    page.wait_for_url(f"{base}/customers/{customer_pk}/")
    row = page.locator("#subscriptions-section tbody tr", has_text="互联网专线100M")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(format_yuan(Decimal("1840.00")))
    expect(row).to_contain_text("8%")
    expect(row).to_contain_text(zh(SubscriptionStatus.ACTIVE.label))
    # The new customer (潜在 until now) is in service.
    header = page.locator("main .badge.status-active")
    expect(header.first).to_have_text(zh(LifecycleStatus.ACTIVE.label))
    expect(page.locator("main .badge.status-prospect")).to_have_count(0)
    page.screenshot(path=SCREENSHOT, full_page=True)

    # 7. The order's chain leads back to the opportunity: won (赢单) on the day the order completed.
    page.goto(order_url)
    chain = page.locator("[data-testid=chain]")
    for step in ("lead", "opportunity", "quote", "contract", "order", "subscription"):
        expect(chain.locator(f"[data-step={step}]")).to_have_count(1)
    expect(chain.locator("[data-step=order] [data-testid=chain-current]")).to_be_visible()
    chain.locator("[data-step=opportunity] a").click()
    page.wait_for_url(f"{base}/sales/opportunities/{opportunity_pk}/")
    expect(page.locator("[data-testid=stage]")).to_contain_text("赢单")
    expect(page.locator("main")).to_contain_text(timezone.localdate().strftime("%Y-%m-%d"))
    expect(page.locator("[data-testid=stage-history]")).to_contain_text(re.compile(r"商务谈判\s*→\s*赢单"))
    page.screenshot(path=SCREENSHOTS.format("opportunity"), full_page=True)

    # 8. Won is not open pipeline: the forecast no longer counts it.
    rows = forecast_rows(page, base, closes)
    expect(rows.filter(has_text="李晓红")).to_have_count(0)
    page.screenshot(path=SCREENSHOTS.format("forecast"), full_page=True)

    # 9. Alice's inbox holds Carol's approval with the comment, and it leads to the quote.
    page.click("a.nav-link[href='/work/notifications/']")
    notice = page.locator("[data-testid=inbox] li", has_text=quote_number)
    expect(notice.filter(has_text="同意，专线价格在城市授权内")).to_have_count(1)
    page.screenshot(path=SCREENSHOTS.format("inbox"), full_page=True)
    notice.locator("button[name=follow]").click()
    page.wait_for_url(quote_url)
