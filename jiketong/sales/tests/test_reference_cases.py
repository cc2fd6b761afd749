"""标杆案例: a won opportunity published for the province; the customer is named only to readers who may see it."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import translation

from jiketong import testing
from jiketong.catalog.models import BillingUnit, Product, ProductCategory
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.sales import queries, services
from jiketong.sales.models import ReferenceCase

pytestmark = pytest.mark.django_db
D = Decimal
STORY = "地铁各站点需要统一调度通信：我们以专线加V网的方案，在三周内完成试点，赢在交付速度。"


@pytest.fixture
def line_product(db):
    return Product.objects.create(
        code="DIA100M",
        name="互联网专线100M",
        category=ProductCategory.CONNECTIVITY,
        billing_unit=BillingUnit.PER_GROUP,
        standard_price=D("2000.00"),
    )


@pytest.fixture
def won(cast, stage, make_opportunity, line_product):
    """Alice's won opportunity for 广州地铁: 2,000 a month and 5,000 once on one 专线 line."""
    opportunity = make_opportunity(
        cast.alice,
        cast.alice_customer,
        name="广州地铁调度专线",
        lines=[{"product": line_product, "quantity": 1, "amount_monthly": D("2000"), "amount_once": D("5000")}],
    )
    return services.opportunity_move(cast.alice.user, opportunity, stage["won"])


def publish(cast, opportunity, **fields):
    values = {"title": "轨道交通调度专线", "what_won": STORY, "public_name": "某市轨道交通集团"} | fields
    return services.case_publish(actor=cast.alice.user, opportunity=opportunity, **values)


# --- publishing ---------------------------------------------------------------------------------------
def test_a_won_opportunity_is_published_with_its_industry_region_products_and_value(cast, won, line_product):
    case = publish(cast, won)
    assert case.industry_id == cast.alice_customer.industry_id and case.org_unit_id == cast.alice_customer.org_unit_id
    assert list(case.products.all()) == [line_product]
    assert case.value == D("29000.00")  # 2,000 × 12 + 5,000
    assert case.published_by == cast.alice
    event = AuditEvent.objects.get(target_type="sales.referencecase", target_id=case.pk)
    assert event.action == AuditAction.CREATE and event.customer_id == cast.alice_customer.pk


def test_only_a_won_opportunity_can_be_published(cast, make_opportunity):
    open_one = make_opportunity(cast.alice, cast.alice_customer, amount_monthly=D("100"))
    with pytest.raises(ValidationError) as refused:
        publish(cast, open_one)
    assert "opportunity" in refused.value.message_dict
    assert not ReferenceCase.objects.exists()


def test_a_lost_opportunity_cannot_be_published_either(cast, stage, make_opportunity):
    lost = make_opportunity(cast.alice, cast.alice_customer)
    lost = services.opportunity_move(
        cast.alice.user, lost, stage["lost"], lost_reason="价格", competitor="china_telecom"
    )
    with pytest.raises(ValidationError):
        publish(cast, lost)


def test_an_opportunity_is_published_once(cast, won):
    publish(cast, won)
    with pytest.raises(ValidationError) as again:
        publish(cast, won, title="再发一次")
    assert "opportunity" in again.value.message_dict


def test_the_published_text_must_not_name_the_customer(cast, won):
    with pytest.raises(ValidationError) as refused:
        publish(cast, won, title="广州地铁调度专线", public_name="广州地铁集团有限公司")
    assert {"title", "public_name"} <= set(refused.value.message_dict)


def test_someone_who_cannot_see_the_opportunity_cannot_publish_it(cast, won):
    with pytest.raises(Http404):
        services.case_publish(actor=cast.bob.user, opportunity=won, title="x", what_won="y")


def test_an_opportunity_without_lines_names_its_products(cast, stage, make_opportunity, line_product):
    bare = make_opportunity(cast.alice, cast.alice_customer, amount_monthly=D("1000"))
    bare = services.opportunity_move(cast.alice.user, bare, stage["won"])
    with pytest.raises(ValidationError) as refused:
        publish(cast, bare)
    assert "products" in refused.value.message_dict
    assert list(publish(cast, bare, products=[line_product]).products.all()) == [line_product]


# --- who reads what -----------------------------------------------------------------------------------
def test_everyone_in_the_province_reads_the_case_but_only_the_customers_scope_reads_its_name(cast, won):
    case = publish(cast, won)
    alice = queries.case_get(cast.alice.user, case.pk)
    assert alice.names_customer and alice.customer_label == "广州地铁集团有限公司"
    for reader in (cast.bob, cast.ivan):  # same county, another city: the case, not the customer
        seen = queries.case_get(reader.user, case.pk)
        assert not seen.names_customer and seen.customer_label == "某市轨道交通集团"
        assert seen.customer_name is None  # the name is not even read for them
    assert queries.case_get(cast.carol.user, case.pk).names_customer  # the city supervisor sees the customer


def test_a_reader_in_another_province_does_not_get_the_case(cast, won):
    case = publish(cast, won)
    with pytest.raises(Http404):
        queries.case_get(cast.dave.user, case.pk)
    assert queries.case_get(cast.erin.user, case.pk)  # HQ reads every province's


def test_without_an_anonymised_name_readers_outside_scope_read_the_industry_and_region(cast, won):
    case = publish(cast, won, public_name="")
    seen = queries.case_get(cast.bob.user, case.pk)
    with translation.override("zh-hans"):
        assert seen.customer_label == f"{case.org_unit.name}某{case.industry.name}客户"


def test_the_pages_name_the_customer_only_inside_its_scope(cast, won, client_as):
    case = publish(cast, won)
    url = reverse("sales:case_detail", args=[case.pk])
    assert "广州地铁集团有限公司" in client_as(cast.alice).get(url).content.decode()
    for reader in (cast.bob, cast.ivan):
        html = client_as(reader).get(url).content.decode()
        assert "某市轨道交通集团" in html and "广州地铁" not in html and STORY in html
        listed = client_as(reader).get(reverse("sales:case_list")).content.decode()
        assert "轨道交通调度专线" in listed and "广州地铁" not in listed
    assert client_as(cast.dave).get(url).status_code == 404


def test_the_list_filters_by_industry_product_and_region_and_searches_the_text_only(cast, won, client_as):
    publish(cast, won)
    client = client_as(cast.bob)

    def titles(**params):
        page = client.get(reverse("sales:case_list"), params).context["page"]
        return [case.title for case in page.object_list]

    assert titles(industry=cast.alice_customer.industry_id) == ["轨道交通调度专线"]
    assert titles(industry="education") == []
    assert titles(product=Product.objects.get(code="DIA100M").pk) == ["轨道交通调度专线"]
    assert titles(region="440106") == ["轨道交通调度专线"] and titles(region="440304") == []
    assert titles(search="交付速度") == ["轨道交通调度专线"]
    assert titles(search="广州地铁集团") == []  # a hidden customer's case is not found by its name


def test_the_list_is_bounded_in_queries(cast, stage, make_opportunity, line_product, client_as,
                                         django_assert_max_num_queries):  # fmt: skip
    for n in range(12):
        opportunity = make_opportunity(
            cast.alice, cast.alice_customer, lines=[{"product": line_product, "amount_monthly": D(100 + n)}]
        )
        opportunity = services.opportunity_move(cast.alice.user, opportunity, stage["won"])
        publish(cast, opportunity, title=f"案例{n}")
    client = client_as(cast.bob)
    with django_assert_max_num_queries(14):  # the same for 1 case or a full page: no query per row
        response = client.get(reverse("sales:case_list"))
    assert len(response.context["page"].object_list) == 12


# --- the opportunity's page ---------------------------------------------------------------------------
def test_an_opportunity_shows_the_largest_cases_of_its_industry_top_n_by_value(
    cast, stage, make_opportunity, line_product, client_as, django_assert_max_num_queries
):
    for n in range(7):
        opportunity = make_opportunity(
            cast.alice, cast.alice_customer, lines=[{"product": line_product, "amount_monthly": D(1000 * (n + 1))}]
        )
        publish(cast, services.opportunity_move(cast.alice.user, opportunity, stage["won"]), title=f"案例{n}")
    other = testing.make_customer(org_unit=cast.org["440106"], owner=cast.bob, name="天河信息科技")  # same industry
    mine = make_opportunity(cast.bob, other)
    similar = queries.cases_like(cast.bob.user, mine)
    assert [case.title for case in similar] == ["案例6", "案例5", "案例4", "案例3", "案例2"]
    client = client_as(cast.bob)
    with django_assert_max_num_queries(20):
        html = client.get(reverse("sales:opportunity_detail", args=[mine.pk])).content.decode()
    assert "案例6" in html and "案例1" not in html and "广州地铁" not in html and "某市轨道交通集团" in html


def test_a_won_opportunity_offers_publishing_and_then_links_its_case(cast, won, client_as):
    client = client_as(cast.alice)
    detail = reverse("sales:opportunity_detail", args=[won.pk])
    assert reverse("sales:case_publish", args=[won.pk]) in client.get(detail).content.decode()
    response = client.post(
        reverse("sales:case_publish", args=[won.pk]),
        {"title": "轨道交通调度专线", "what_won": STORY, "public_name": "某市轨道交通集团"},
    )
    case = ReferenceCase.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("sales:case_detail", args=[case.pk])
    assert reverse("sales:case_detail", args=[case.pk]) in client.get(detail).content.decode()


def test_the_publish_form_shows_every_error_at_once(cast, make_opportunity, client_as):
    open_one = make_opportunity(cast.alice, cast.alice_customer)
    response = client_as(cast.alice).post(reverse("sales:case_publish", args=[open_one.pk]), {"title": "广州地铁"})
    assert response.status_code == 200
    form = response.context["form"]
    assert {"title", "what_won"} <= set(form.errors)
    assert any("赢单" in error for error in form.non_field_errors())


# --- the API ------------------------------------------------------------------------------------------
def test_the_api_publishes_a_won_opportunity_and_names_the_customer_only_in_scope(cast, won, api_as):
    answer = api_as(cast.alice).post_json(
        f"/opportunities/{won.pk}/reference-case", {"title": "轨道交通调度专线", "what_won": STORY}
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["names_customer"] and body["customer"] == cast.alice_customer.pk and body["value"] == "29000.00"
    other = api_as(cast.bob).api_get(f"/reference-cases/{body['id']}").json()
    assert other["customer"] is None and not other["names_customer"] and "广州地铁" not in str(other)
    listed = api_as(cast.ivan).api_get("/reference-cases", industry=cast.alice_customer.industry_id).json()
    assert listed["count"] == 1 and listed["items"][0]["customer"] is None
    assert api_as(cast.dave).api_get(f"/reference-cases/{body['id']}").status_code == 404


def test_the_api_refuses_an_open_opportunity_with_a_field_error(cast, make_opportunity, api_as):
    open_one = make_opportunity(cast.alice, cast.alice_customer)
    answer = api_as(cast.alice).post_json(
        f"/opportunities/{open_one.pk}/reference-case", {"title": "x", "what_won": "y"}
    )
    assert answer.status_code == 400 and "opportunity" in answer.json()["errors"]
