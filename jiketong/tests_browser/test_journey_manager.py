"""A customer manager's day in the browser (李晓红, 天河区分公司): she finds her customer by its pinyin initials,
opens the 360 page, reveals a key person's mobile (logged), records a visit whose next step becomes a task, adds
a task of her own, and takes a lead of hers through opportunity, quote, contract and order. When the order is
completed the opportunity is 赢单 and the new customer 在网."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from jiketong import testing
from jiketong.catalog.models import BillingUnit, Product, ProductCategory
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.core.money import format_yuan
from jiketong.customers import services as customer_services
from jiketong.customers.models import Customer, CustomerSource, Industry, LifecycleStatus
from jiketong.deals.models import ContractStatus, OrderStatus, QuoteStatus
from jiketong.sales import services as sales_services
from jiketong.tests_browser.journeys import expect, zh
from jiketong.work.models import TaskStatus

MOBILE = "13820001234"


@pytest.fixture
def day(cast):
    """Alice's portfolio on the morning: a key person with a mobile, a product on sale and a lead of hers."""
    cast.contact = customer_services.contact_create(
        actor=cast.alice.user,
        customer=cast.alice_customer,
        name="张建国",
        title="信息中心主任",
        mobile=MOBILE,
        is_key_person=True,
    )
    testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice, name="天河体育中心")
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


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_customer_managers_day(day, journey):
    me = journey("manager")
    page = me.page
    customer = day.alice_customer
    me.log_in("alice", "李晓红")
    expect(page.locator("main")).to_contain_text("工作台")
    me.shot("workbench")

    # Find the customer by pinyin initials: HTMX swaps the table in place.
    me.menu("/customers/")
    table = page.locator("[data-testid=customer-table]")
    expect(table).to_contain_text("天河体育中心")
    page.fill("#id_search", "gzdt")
    expect(table).not_to_contain_text("天河体育中心")
    expect(table).to_contain_text("广州地铁集团有限公司")
    me.shot("customer-search")

    # The 360 page: the key person's mobile is masked until she asks, and the reveal is logged.
    page.click("text=广州地铁集团有限公司")
    page.wait_for_url(f"{me.base}/customers/{customer.pk}/")
    expect(page.locator("[data-testid=customer-name]")).to_have_text("广州地铁集团有限公司")
    contacts = page.locator("#contacts-section")
    expect(contacts).to_contain_text("张建国")
    expect(contacts).to_contain_text("138****1234")
    expect(contacts).not_to_contain_text(MOBILE)
    contacts.get_by_role("button", name="查看").click()
    expect(contacts.locator("[data-testid=revealed]")).to_have_text(MOBILE)
    assert AuditEvent.objects.filter(action=AuditAction.REVEAL, actor=day.alice.user).count() == 1
    me.shot("customer-360")

    # A visit from the 360 page; its next step with a date becomes a task on the same panel.
    panel = page.locator("[data-testid=work-panel]")
    panel.locator("[data-testid=record-activity]").click()
    form = page.locator("#work-panel form")
    form.locator("select[name=kind]").select_option("visit")
    form.locator("input[name=subject]").fill("拜访信息中心张主任")
    form.locator("textarea[name=outcome]").fill("有意向扩容专线，需报价")
    form.locator("input[name=next_step]").fill("发送专线扩容方案")
    next_on = timezone.localdate() + timedelta(days=3)
    form.locator("input[name=next_step_on]").fill(next_on.isoformat())
    form.locator("[data-testid=save-activity]").click()
    panel = page.locator("[data-testid=work-panel]")
    expect(panel.locator("[data-testid=timeline]")).to_contain_text("拜访信息中心张主任")
    expect(panel.locator("[data-testid=timeline]")).to_contain_text("李晓红")
    expect(panel.locator("[data-testid=open-tasks]")).to_contain_text("发送专线扩容方案")

    # A task of her own from the tasks page, for the same customer (by its number, shown by name).
    me.menu("/work/tasks/")
    page.click("a[href='/work/tasks/new/']")
    due = timezone.localdate() + timedelta(days=7)
    page.fill("input[name=title]", "准备续约材料")
    page.fill("input[name=due_on]", due.isoformat())
    page.fill("input[name=customer_number]", customer.number)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/work/tasks/(\d+)/$"))
    expect(page.locator("[data-testid=task-status]")).to_have_text(zh(TaskStatus.OPEN.label))
    expect(page.locator("main")).to_contain_text("广州地铁集团有限公司")
    me.menu("/work/tasks/")
    tasks = page.locator("[data-testid=task-table]")
    expect(tasks.locator("tr", has_text="准备续约材料")).to_contain_text("广州地铁集团有限公司")
    expect(tasks.locator("tr", has_text="发送专线扩容方案")).to_contain_text(next_on.isoformat())
    me.shot("tasks")

    # The lead becomes a customer archive (潜在) and an opportunity at the first stage.
    me.menu("/sales/leads/")
    page.click("text=广州珠江智慧物流有限公司")
    page.wait_for_url(f"{me.base}/sales/leads/{day.lead.pk}/")
    page.click("[data-testid=convert]")
    form = page.locator("[data-testid=convert-form]")
    form.locator("input[name=opportunity_name]").fill("珠江物流专线项目")
    form.locator("input[name=expected_close]").fill((timezone.localdate() + timedelta(days=30)).isoformat())
    form.locator("input[name=amount_monthly]").fill("2000")
    me.shot("lead-convert")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/sales/opportunities/(\d+)/$"))
    opportunity_url = page.url
    expect(page.locator("[data-testid=stage]")).to_contain_text("需求发现")
    new_customer = Customer.objects.get(name="广州珠江智慧物流有限公司")
    assert new_customer.status == LifecycleStatus.PROSPECT

    # A quote at the standard price: within her own authority, so approved on submit.
    page.goto(f"{me.base}/customers/{new_customer.pk}/")
    expect(page.locator("main .badge.status-prospect").first).to_have_text(zh(LifecycleStatus.PROSPECT.label))
    page.click(f"[data-testid=deals-panel] a[href='/deals/customers/{new_customer.pk}/quotes/new/']")
    page.fill("input[name=title]", "仓库专线报价")
    page.select_option("select[name=opportunity]", label="珠江物流专线项目")
    page.click("main form.card button[type=submit]")
    page.wait_for_url(re.compile(r"/deals/quotes/(\d+)/$"))
    lines = page.locator("[data-testid=line-form]")
    lines.locator("select[name=product]").select_option(label=str(day.product))
    lines.locator("input[name=quantity]").fill("1")
    lines.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=quote-lines]")).to_contain_text("互联网专线100M")
    expect(page.locator("[data-testid=quote-total]")).to_have_text(format_yuan(Decimal("2000.00")))
    page.click("[data-testid=quote-submit]")
    expect(page.locator("[data-testid=quote-status]")).to_have_text(zh(QuoteStatus.APPROVED.label))
    me.shot("quote-approved")

    # Contract for a year, activated; an order from it, submitted and completed.
    page.click("[data-testid=quote-contract]")
    page.fill("input[name=end_on]", (timezone.localdate() + timedelta(days=364)).isoformat())
    page.click("main form.card button[type=submit]")
    page.wait_for_url(re.compile(r"/deals/contracts/(\d+)/$"))
    page.click("[data-testid=contract-activate]")
    expect(page.locator("[data-testid=contract-status]")).to_have_text(zh(ContractStatus.ACTIVE.label))
    page.click("[data-testid=contract-order]")
    page.wait_for_url(re.compile(r"/deals/orders/(\d+)/$"))
    page.click("[data-testid=order-submitted]")
    expect(page.locator("[data-testid=order-status]")).to_have_text(zh(OrderStatus.SUBMITTED.label))
    page.click("[data-testid=order-completed]")
    expect(page.locator("[data-testid=order-status]")).to_have_text(zh(OrderStatus.COMPLETED.label))
    chain = page.locator("[data-testid=chain]")
    for step in ("lead", "opportunity", "quote", "contract", "order", "subscription"):
        expect(chain.locator(f"[data-step={step}]")).to_have_count(1)
    me.shot("order-completed")

    # The loop closed by itself: the opportunity is won, the customer in service with the subscription.
    page.goto(opportunity_url)
    expect(page.locator("[data-testid=stage]")).to_contain_text("赢单")
    page.goto(f"{me.base}/customers/{new_customer.pk}/")
    expect(page.locator("main .badge.status-active").first).to_have_text(zh(LifecycleStatus.ACTIVE.label))
    expect(page.locator("main .badge.status-prospect")).to_have_count(0)
    row = page.locator("#subscriptions-section tbody tr", has_text="互联网专线100M")
    expect(row).to_contain_text(format_yuan(Decimal("2000.00")))
    me.shot("customer-in-service")
    # The API says the same as the screen.
    assert me.api(f"/customers/{new_customer.pk}")["status"] == LifecycleStatus.ACTIVE
