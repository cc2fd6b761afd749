"""The system administrator's day in the browser (吴刚, 系统管理员, 广东省公司): the product catalog (as the API
lists it), a price changed there, the business calendar and SLA policies the ticket deadlines count on, a holiday
added there, and the staff accounts in 系统管理 (Django admin, the superuser's) and 用户管理, where the 系统管理员
keeps staff accounts through the services."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy

from jiketong import testing
from jiketong.catalog.models import BillingUnit, Product, ProductCategory
from jiketong.core.models import AuditEvent
from jiketong.org.models import Role
from jiketong.service.models import CalendarDay
from jiketong.tests_browser.journeys import expect, number, zh


@pytest.fixture
def office(cast):
    """The catalog's first products, and the accounts as `make demo` makes them: the admin role is staff."""
    Product.objects.create(
        code="DIA100M",
        name="互联网专线100M",
        category=ProductCategory.CONNECTIVITY,
        billing_unit=BillingUnit.PER_GROUP,
        standard_price=Decimal("2000.00"),
    )
    Product.objects.create(
        code="VNET",
        name="集团V网",
        category=ProductCategory.VOICE,
        billing_unit=BillingUnit.PER_MEMBER,
        standard_price=Decimal("10.00"),
        is_basic_service=True,
    )
    User.objects.filter(pk=cast.frank.user.pk).update(is_staff=True)
    cast.root = testing.make_staff("root", cast.org["100000"], [Role.ADMIN], name="超级管理员")
    User.objects.filter(pk=cast.root.user.pk).update(is_staff=True, is_superuser=True)
    return cast


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_system_administrators_day(office, journey):
    me = journey("admin")
    page = me.page
    me.log_in("frank", "吴刚")
    me.shot("workbench")

    # The catalog, figure for figure as the API lists it.
    me.menu("/catalog/")
    table = page.locator("main")  # a table per product category
    products = me.api("/products")["items"]
    assert {p["code"] for p in products} == {"DIA100M", "VNET"}
    for product in products:
        row = table.locator("tbody tr", has_text=product["code"])
        expect(row).to_contain_text(product["name"])
        price = row.locator("td").nth(2).inner_text()
        assert Decimal(number(price)) == Decimal(str(product["standard_price"])), (price, product)
    expect(table.locator("tbody tr", has_text="VNET")).to_contain_text(zh(BillingUnit.PER_MEMBER.label))
    me.shot("catalog")

    # V网 gets cheaper: a typo first (a negative price, the name cleared), both refused at once, then saved.
    table.locator("tbody tr", has_text="VNET").get_by_role("link", name="VNET").click()
    page.fill("#id_standard_price", "-8")
    page.fill("#id_name", "")
    page.click("[data-testid=save]")
    for field in ("standard_price", "name"):
        expect(page.locator(f"[data-field-error={field}]")).to_have_count(1)
    page.fill("#id_name", "集团V网")
    page.fill("#id_standard_price", "8.00")
    page.click("[data-testid=save]")
    expect(page.locator(".alert-success")).to_be_visible()
    me.shot("product-edited")
    assert Product.objects.get(code="VNET").standard_price == Decimal("8.00")
    assert AuditEvent.objects.filter(target_type="catalog.product", after__standard_price="8.00").exists()

    # The business calendar: working hours, the SLA policies and the holidays ahead; a company holiday added.
    me.go("/service/calendar/")
    expect(page.locator("main h1")).to_have_text(zh(gettext_lazy("Business calendar and SLA")))
    expect(page.locator("main")).to_contain_text("投诉")
    expect(page.locator("main a[href^='/admin/']")).to_have_count(0)  # kept here, not in Django admin
    expect(page.locator("[data-testid=sla-edit]").first).to_be_visible()
    page.fill("#id_date", "2030-06-12")  # a Wednesday no arrangement names yet
    page.select_option("#id_kind", "holiday")
    page.fill("#id_name", "公司年会")
    page.click("[data-testid=calendar-day-add]")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("[data-testid=calendar-days] tr", has_text="公司年会")).to_contain_text("2030-06-12")
    assert not CalendarDay.objects.get(name="公司年会").is_workday
    me.shot("calendar")
    me.log_out()

    # Staff accounts in 系统管理, as the superuser: find 李晓红, her unit and role.
    me.log_in("root", "超级管理员")
    page.click("#sidebar a[href='/admin/']")
    page.wait_for_url(f"{me.base}/admin/")
    page.click("a[href='/admin/org/staff/']")
    page.fill("#searchbar", "李晓红")
    page.press("#searchbar", "Enter")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("天河区分公司")
    me.shot("staff-accounts")
    rows.first.locator("th a").click()
    expect(page.locator("#id_roles_to, #id_roles")).to_contain_text("客户经理")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_system_administrator_keeps_staff_accounts_in_administration(office, journey):
    """用户管理, as 吴刚 (the 系统管理员 role, no superuser): find 李晓红, open an account for a new colleague
    with a generated password, change her unit and roles, disable and enable 王强, all in the audit log."""
    me = journey("admin")
    page = me.page
    me.log_in("frank", "吴刚")
    expect(page.locator("#sidebar a[href='/admin/']")).to_have_count(0)  # Django admin is the superuser's
    me.menu("/org/staff/")
    expect(page.locator("main h1")).to_have_text(zh(gettext_lazy("User management")))

    # Find 李晓红: her unit and role, her mobile masked.
    page.fill("#id_search", "李晓红")
    rows = page.locator("[data-testid=staff-table] tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("天河区分公司")
    expect(rows.first).to_contain_text("客户经理")
    me.shot("staff-accounts")

    # A new colleague: the form's errors all at once, then the account with a password shown once.
    page.click("[data-testid=staff-new]")
    page.fill("#id_username", "alice")
    page.fill("#id_mobile", "12345")
    page.click("[data-testid=save]")
    for field in ("username", "name", "roles", "mobile", "password1"):
        expect(page.locator(f"[data-field-error={field}]")).to_have_count(1)
    me.shot("new-account-errors")
    page.fill("#id_username", "xiaoming")
    page.fill("#id_name", "刘小明")
    page.select_option("#id_org_unit", label="\u3000\u3000\u3000天河区分公司")
    page.check("[data-testid=roles] input[value=customer_manager]")
    page.fill("#id_mobile", "13912345678")
    page.check("#id_generate")
    page.click("[data-testid=save]")
    password = page.locator("[data-testid=generated-password]").inner_text().strip()
    assert len(password) >= 12
    me.shot("password-shown-once")
    page.get_by_role("link", name=zh(gettext_lazy("Back to the account"))).click()
    expect(page.locator("#id_name")).to_have_value("刘小明")
    staff = User.objects.get(username="xiaoming").staff
    assert staff.org_unit.code == "440106" and staff.role_codes == {Role.CUSTOMER_MANAGER}

    # She moves to 越秀区 and also supervises: changed on her page.
    page.select_option("#id_org_unit", label="\u3000\u3000\u3000越秀区分公司")
    page.check("[data-testid=roles] input[value=supervisor]")
    page.click("[data-testid=save]")
    expect(page.locator(".alert-success")).to_be_visible()
    staff.refresh_from_db()
    assert staff.org_unit.code == "440104"
    assert set(staff.roles.values_list("code", flat=True)) == {Role.CUSTOMER_MANAGER, Role.SUPERVISOR}

    # 王强 leaves: disabled (asked first), his work offered for handover; then back again.
    me.menu("/org/staff/")
    page.fill("#id_search", "王强")
    expect(page.locator("[data-testid=staff-table] tbody tr")).to_have_count(1)
    page.locator("[data-testid=staff-table] tbody tr a").first.click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-testid=deactivate]")
    expect(page.locator("[data-testid=account-status]")).to_contain_text("已离职")
    expect(page.locator("[data-testid=handover-offer] a[href='/work/handovers/new/']")).to_have_count(1)
    me.shot("account-disabled")
    assert not User.objects.get(username="bob").is_active
    page.click("[data-testid=reactivate]")
    expect(page.locator("[data-testid=account-status]")).to_contain_text("在职")
    assert User.objects.get(username="bob").is_active

    # The audit log says who did all this.
    me.menu("/audit/")
    expect(page.locator("main")).to_contain_text("刘小明")
    expect(page.locator("main")).to_contain_text("王强")
    assert password not in page.locator("main").inner_text()
    me.log_out()

    # The new colleague logs in with the password she was given.
    page.goto(f"{me.base}/accounts/login/")
    page.fill("input[name=username]", "xiaoming")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{me.base}/")
    expect(page.locator("[data-testid=whoami]")).to_contain_text("刘小明")
