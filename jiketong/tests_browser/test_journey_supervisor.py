"""A city supervisor's day in the browser (陈静, 广州市分公司): the quote waiting for her on the workbench,
approved from the approvals queue; the breach board; the visit compliance of her managers; the targets on the
business dashboard and the targets page; a figure on the dashboard drilled down to the customers behind it (and
equal to the API's)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from jiketong.analytics.models import Target
from jiketong.catalog.models import BillingUnit, Product, ProductCategory
from jiketong.deals import services as deal_services
from jiketong.deals.models import QuoteStatus
from jiketong.service import services as service_services
from jiketong.service.models import Channel
from jiketong.tests_browser.journeys import PERIOD, billed_world, expect, number, zh


@pytest.fixture
def morning(cast):
    """What waits for Carol: Alice's quote at 8% off (a city-level discount), a complaint received three
    days ago by Bob and not yet accepted, a month of bills and a revenue target for 广州."""
    product = Product.objects.create(
        code="DIA100M",
        name="互联网专线100M",
        category=ProductCategory.CONNECTIVITY,
        billing_unit=BillingUnit.PER_GROUP,
        standard_price=Decimal("2000.00"),
    )
    alice = cast.alice.user
    quote = deal_services.quote_create(actor=alice, customer=cast.alice_customer, title="地铁专线扩容报价")
    deal_services.quote_line_save(actor=alice, quote=quote, product=product, quantity=2, discount_pct=Decimal(8))
    cast.quote = deal_services.quote_submit(actor=alice, quote=quote)
    assert cast.quote.status == QuoteStatus.PENDING
    cast.ticket = service_services.ticket_receive(
        actor=cast.bob.user,
        customer=cast.bob_customer,
        type="complaint",
        title="园区专线时断时续",
        channel=Channel.MANAGER,
        opened_at=timezone.now() - timedelta(days=3),
    )
    billed_world(cast)
    Target.objects.create(
        org_unit=cast.org["440100"], indicator="revenue", period_type="month", period=PERIOD, value=Decimal(5000)
    )
    return cast


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_city_supervisors_day(morning, journey):
    me = journey("supervisor")
    page = me.page
    quote = morning.quote
    me.log_in("carol", "陈静")

    # The workbench says what waits for her, by customer name.
    waiting = page.locator("[data-testid=workbench-approvals]")
    expect(waiting.locator("[data-testid=approvals-count]")).to_have_text("1")
    expect(waiting).to_contain_text(quote.number)
    expect(waiting).to_contain_text("广州地铁集团有限公司")
    me.shot("workbench")

    # The approvals queue, the quote, her decision with a comment.
    me.menu("/deals/approvals/")
    queue = page.locator("[data-testid=approval-queue]")
    expect(queue).to_contain_text("广州地铁集团有限公司")
    expect(queue).to_contain_text("李晓红")
    me.shot("approvals")
    queue.locator("a", has_text=quote.number).click()
    page.wait_for_url(f"{me.base}/deals/quotes/{quote.pk}/")
    expect(page.locator("[data-testid=quote-lines]")).to_contain_text("8%")
    page.locator("[data-testid=approval-form] textarea[name=comment]").fill("同意，在城市授权内")
    page.click("[data-testid=approve]")
    expect(page.locator("[data-testid=quote-status]")).to_have_text(zh(QuoteStatus.APPROVED.label))
    expect(page.locator("main")).to_contain_text("同意，在城市授权内")
    expect(page.locator("main")).to_contain_text("陈静")
    me.shot("quote-approved")
    assert me.api("/approvals")["count"] == 0

    # The breach board: the complaint nobody accepted for three days, its customer and owner by name.
    me.menu("/service/breaches/")
    row = page.locator("[data-testid=breach-table] tbody tr", has_text="园区专线时断时续")
    expect(row).to_contain_text(morning.ticket.number)
    expect(row).to_contain_text("天河软件园管理委员会")
    expect(row).to_contain_text("王强")
    expect(row).to_contain_text("超时")
    me.shot("breach-board")

    # Visit compliance per customer manager of her city.
    me.menu("/work/compliance/coverage/")
    coverage = page.locator("[data-testid=coverage-table]")
    expect(coverage).to_contain_text("李晓红")
    expect(coverage).to_contain_text("王强")
    me.shot("compliance")

    # The business dashboard for May 2026: the revenue KPI equals the API's total, the target shows its
    # progress in the 目标 panel, and the figure drills down to its customers.
    page.goto(f"{me.base}/analytics/?period={PERIOD:%Y-%m}")
    api_revenue = me.api(f"/analytics/indicators?code=revenue&period={PERIOD:%Y-%m}&by=org")
    kpi = page.locator("[data-testid=kpis] a[href*='code=revenue&']")
    assert Decimal(number(kpi.inner_text())) == Decimal(str(api_revenue["total"])) == Decimal("3500")
    targets = page.locator(".card", has=page.locator(".card-header", has_text="目标")).last
    target_row = targets.locator("tbody tr", has_text="广州市分公司")
    expect(target_row).to_contain_text("收入")
    expect(target_row).to_contain_text("5,000")
    expect(target_row).to_contain_text("70")  # ¥3,500 of ¥5,000
    me.shot("dashboard")
    kpi.click()
    page.wait_for_url("**/analytics/drill/?code=revenue*")
    drill = page.locator("[data-testid=drill-table]")
    expect(drill).to_contain_text("广州地铁集团有限公司")
    expect(drill).to_contain_text("天河软件园管理委员会")
    expect(drill).not_to_contain_text("深圳福田银行")  # another city: not hers
    expect(drill.locator("tbody tr")).to_have_count(2)
    me.shot("drill-down")

    # The targets page (analysts and administrators set them; she follows their progress).
    me.menu("/analytics/targets/")
    row = page.locator("[data-testid=target-table] tbody tr", has_text="广州市分公司")
    expect(row).to_contain_text("收入")
    expect(row).to_contain_text("5,000")
    expect(row).to_contain_text("70")
    me.shot("targets")
