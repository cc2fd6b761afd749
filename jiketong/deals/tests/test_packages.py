"""Quoting a solution package: its lines come from the package at the package price, and its discount against
the sum of list prices is routed by the same approval rule as any quote (services.required_level)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from jiketong.catalog import services as catalog_services
from jiketong.catalog.models import ProductCategory
from jiketong.core.models import Notification
from jiketong.customers.models import Industry
from jiketong.deals import services
from jiketong.deals.models import ApprovalLevel, DiscountPolicy, QuoteStatus
from jiketong.deals.tests.conftest import make_quote

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def package_at(deals):
    """`package_at(price)` → a package of 1 专线 (2,000.00) and 10 V网 (100.00 each): list total 3,000.00."""

    def build(price, code="PKG"):
        return catalog_services.package_save(
            actor=deals.frank.user,
            code=code,
            name=f"交通物流套餐{code}",
            industry=Industry.objects.get(code="transport"),
            price=D(price),
            items=[(deals.line, 1), (deals.vnet, 10)],
        )

    return build


def quote_with(deals, package, staff=None):
    staff = staff or deals.alice
    quote = make_quote(staff, deals.alice_customer)
    services.quote_package_add(actor=staff.user, quote=quote, package=package)
    quote.refresh_from_db()
    return quote


def test_a_package_puts_its_products_on_the_quote_at_the_package_price(deals, package_at):
    quote = quote_with(deals, package_at("2700.00"))
    lines = list(quote.lines.order_by("id"))
    assert [(line.product.code, line.quantity) for line in lines] == [("DIA100M", 1), ("VNET", 10)]
    assert [line.standard_price for line in lines] == [D("2000.00"), D("100.00")]
    assert [line.offered_price for line in lines] == [D("1800.00"), D("90.00")]
    assert all(line.discount_pct == D("10.00") for line in lines)
    assert quote.total_standard == D("3000.00") and quote.total == D("2700.00")


def test_a_package_at_list_price_is_approved_at_once(deals, package_at):
    quote = services.quote_submit(actor=deals.alice.user, quote=quote_with(deals, package_at("3000.00")))
    assert quote.status == QuoteStatus.APPROVED and quote.required_level == ApprovalLevel.MANAGER


def test_a_package_whose_discount_needs_approval_waits_for_the_city_like_any_quote(
    deals, package_at, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        quote = services.quote_submit(actor=deals.alice.user, quote=quote_with(deals, package_at("2700.00")))
    assert quote.status == QuoteStatus.PENDING and quote.required_level == ApprovalLevel.CITY
    assert list(Notification.objects.filter(kind="quote_approval").values_list("recipient_id", flat=True)) == [
        deals.carol.pk
    ]
    services.quote_approve(actor=deals.carol.user, quote=quote)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED


def test_a_deeper_package_discount_goes_to_the_province_and_the_city_cannot_approve_it(deals, package_at):
    from django.core.exceptions import PermissionDenied

    quote = services.quote_submit(actor=deals.alice.user, quote=quote_with(deals, package_at("2250.00")))  # 25%
    assert quote.required_level == ApprovalLevel.PROVINCE
    with pytest.raises(PermissionDenied):
        services.quote_approve(actor=deals.carol.user, quote=quote)
    services.quote_approve(actor=deals.hank.user, quote=quote)


def test_the_package_is_judged_on_its_whole_discount_under_the_solutions_policy(deals, package_at):
    """Not line by line under the voice and connectivity rows: the package as one 行业解决方案 item."""
    DiscountPolicy.objects.create(category=ProductCategory.VOICE, manager_max=0, city_max=1, province_max=2)
    DiscountPolicy.objects.create(category=ProductCategory.SOLUTION, manager_max=15, city_max=20, province_max=40)
    quote = services.quote_submit(actor=deals.alice.user, quote=quote_with(deals, package_at("2700.00")))
    assert quote.required_level == ApprovalLevel.MANAGER and quote.status == QuoteStatus.APPROVED


def test_a_package_and_a_line_of_its_own_each_count_and_the_deeper_decides(deals, package_at):
    quote = quote_with(deals, package_at("2970.00"))  # 1% off: within the city's 10%
    services.quote_line_save(actor=deals.alice.user, quote=quote, product=deals.vnet, quantity=1, discount_pct=D(35))
    assert services.required_level(quote) == ApprovalLevel.HQ


def test_a_package_line_is_changed_only_with_its_package(deals, package_at):
    quote = quote_with(deals, package_at("2700.00"))
    line = quote.lines.first()
    with pytest.raises(ValidationError) as changed:
        services.quote_line_save(
            actor=deals.alice.user, quote=quote, product=line.product, line=line, offered_price=D("1")
        )
    with pytest.raises(ValidationError) as deleted:
        services.quote_line_delete(actor=deals.alice.user, line=line)
    for refused in (changed, deleted):
        assert "solution package" in " ".join(refused.value.message_dict["__all__"])
    line.refresh_from_db()
    assert line.offered_price == D("1800.00") and quote.lines.count() == 2
    services.quote_package_remove(actor=deals.alice.user, quote=quote, package=line.package)
    quote.refresh_from_db()
    assert not quote.lines.exists() and quote.total == D("0.00")


def test_the_same_package_twice_or_one_off_sale_is_refused(deals, package_at):
    package = package_at("2700.00")
    quote = quote_with(deals, package)
    with pytest.raises(ValidationError) as twice:
        services.quote_package_add(actor=deals.alice.user, quote=quote, package=package)
    assert "package" in twice.value.message_dict
    catalog_services.package_retire(actor=deals.frank.user, package=package)
    package.refresh_from_db()
    with pytest.raises(ValidationError) as off_sale:
        services.quote_package_add(actor=deals.alice.user, quote=make_quote(deals.alice, deals.alice_customer),
                                   package=package)  # fmt: skip
    assert "no longer on sale" in " ".join(off_sale.value.message_dict["package"])


def test_a_new_version_keeps_the_package_together(deals, package_at):
    quote = services.quote_submit(actor=deals.alice.user, quote=quote_with(deals, package_at("2700.00")))
    new = services.quote_new_version(actor=deals.alice.user, quote=quote)
    assert all(line.package_id for line in new.lines.all()) and new.lines.count() == 2
    assert services.required_level(new) == ApprovalLevel.CITY


def test_the_order_from_an_approved_package_quote_carries_the_package_price(deals, package_at):
    quote = services.quote_submit(actor=deals.alice.user, quote=quote_with(deals, package_at("3000.00")))
    order = services.order_create_from_quote(actor=deals.alice.user, quote=quote)
    assert sum(line.contracted_price * line.quantity for line in order.lines.all()) == D("3000.00")


def test_the_quote_page_adds_a_package_and_shows_its_lines(deals, package_at, client_as, django_assert_max_num_queries):
    package = package_at("2700.00")
    quote = make_quote(deals.alice, deals.alice_customer)
    client = client_as(deals.alice)
    response = client.post(reverse("deals:quote_package_add", args=[quote.pk]), {"package": package.pk})
    assert response.status_code == 302
    with django_assert_max_num_queries(25):
        html = client.get(reverse("deals:quote_detail", args=[quote.pk])).content.decode()
    assert html.count('data-testid="package-line"') == 2 and package.name in html
    remove = reverse("deals:quote_package_remove", args=[quote.pk, package.pk])
    assert remove in html
    assert client.post(remove).status_code == 302
    assert not quote.lines.exists()


def test_the_quote_page_answers_a_package_off_sale_as_a_field_error(deals, package_at, client_as):
    package = package_at("2700.00")
    catalog_services.package_retire(actor=deals.frank.user, package=package)
    quote = make_quote(deals.alice, deals.alice_customer)
    response = client_as(deals.alice).post(
        reverse("deals:quote_package_add", args=[quote.pk]), {"package": package.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "package" in response.context["package_form"].errors
    assert not quote.lines.exists()


def test_the_api_adds_a_package_and_the_lines_name_it(deals, package_at):
    from jiketong.api.tests.conftest import ApiClient
    from jiketong.org.services import token_issue

    package = package_at("2700.00")
    quote = make_quote(deals.alice, deals.alice_customer)
    client = ApiClient(token_issue(user=deals.alice.user))
    answer = client.post_json(f"/quotes/{quote.pk}/packages", {"package": package.pk})
    assert answer.status_code == 201, answer.content
    assert [line["package"] for line in answer.json()["lines"]] == [package.pk, package.pk]
    assert answer.json()["total"] == "2700.00"
    assert client.post_json(f"/quotes/{quote.pk}/packages", {"package": 987654}).json()["errors"].keys() == {"package"}
    assert client.delete(f"/api/v1/quotes/{quote.pk}/packages/{package.pk}").status_code == 204
    assert not quote.lines.exists()
