"""HQ's forms for the directives: assignments, targets, the national catalog and discount rules, in the UI."""

from decimal import Decimal

import pytest
from django.urls import reverse

from jiketong.catalog.models import Product

from ..models import Directive, NationalAccount, NationalDiscountRule, NationalGroup, NationalTarget
from .conftest import as_hq

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank(provinces):
    return NationalGroup.objects.create(key="91110000100000000X", uscc="91110000100000000X", name="中国某银行")


def test_an_hq_analyst_assigns_a_national_account_from_the_group_page(
    bank, cast, client_as, django_assert_max_num_queries
):
    client = client_as(cast.erin)
    with as_hq(), django_assert_max_num_queries(14):
        page = client.get(reverse("federation:group", args=[bank.pk])).content.decode()
    assert 'data-testid="assign-form"' in page and "广东（440000）" in page
    with as_hq():
        response = client.post(
            reverse("federation:assign", args=[bank.pk]),
            {"lead_province": "440000", "manager_name": "刘建国", "team": "陈静、周伟"},
        )
    assert response.status_code == 302
    account = NationalAccount.objects.get(group=bank)
    assert (account.lead_province, account.manager_name, account.team) == ("440000", "刘建国", ["陈静", "周伟"])
    assert Directive.objects.get().kind == "account"


def test_an_assignment_without_a_manager_is_refused_in_chinese_and_sends_nothing(bank, cast, client_as):
    with as_hq():
        response = client_as(cast.erin).post(reverse("federation:assign", args=[bank.pk]), {"lead_province": "440000"})
    assert response.status_code == 400
    assert 'data-field-error="manager_name"' in response.content.decode()
    assert not Directive.objects.exists()


def test_the_directives_page_sets_a_target_publishes_a_product_and_a_discount_rule(
    provinces, cast, client_as, django_assert_max_num_queries
):
    product = Product.objects.create(
        code="NAT01",
        name="全国云专线",
        category="connectivity",
        billing_unit="per_group",
        standard_price=Decimal("900"),
    )
    client = client_as(cast.erin)
    with as_hq(), django_assert_max_num_queries(14):
        page = client.get(reverse("federation:directives")).content.decode()
    assert "下达" in page or "target-form" in page
    with as_hq():
        target = client.post(
            reverse("federation:directive_target"),
            {
                "province": "440000",
                "indicator": "revenue",
                "period_type": "month",
                "period": "2026-06",
                "value": "5000000",
            },
        )
        catalog = client.post(reverse("federation:directive_catalog"), {"product": product.pk})
        rule = client.post(
            reverse("federation:directive_discount"),
            {"category": "", "manager_max": "5", "city_max": "15", "province_max": "25"},
        )
    assert [target.status_code, catalog.status_code, rule.status_code] == [302, 302, 302]
    assert NationalTarget.objects.get().value == Decimal("5000000")
    assert NationalDiscountRule.objects.get(category="").province_max == Decimal("25")
    assert list(Directive.objects.values_list("kind", flat=True)) == ["target", "catalog", "discount"]
    with as_hq(), django_assert_max_num_queries(14):
        page = client.get(reverse("federation:directives")).content.decode()
    assert "NAT01" in page and "product:NAT01" in page


def test_a_discount_rule_out_of_order_shows_the_error_on_the_form(provinces, cast, client_as):
    with as_hq():
        response = client_as(cast.erin).post(
            reverse("federation:directive_discount"),
            {"category": "voice", "manager_max": "20", "city_max": "10", "province_max": "30"},
        )
    assert response.status_code == 400
    assert 'data-field-error="city_max"' in response.content.decode()
    assert not Directive.objects.exists()


def test_publishing_needs_a_product_or_a_package(provinces, cast, client_as):
    with as_hq():
        response = client_as(cast.erin).post(reverse("federation:directive_catalog"), {})
    assert response.status_code == 400 and not Directive.objects.exists()


@pytest.mark.parametrize("persona", ["alice", "carol", "grace"])
def test_directive_forms_are_for_hq_analysts_and_admins_only(provinces, cast, client_as, persona):
    client = client_as(getattr(cast, persona))
    with as_hq():
        assert client.get(reverse("federation:directives")).status_code == 403
        posted = client.post(
            reverse("federation:directive_discount"),
            {"category": "", "manager_max": "1", "city_max": "2", "province_max": "3"},
        )
    assert posted.status_code == 403 and not Directive.objects.exists()


def test_a_city_analyst_is_not_hq_and_cannot_direct(provinces, cast):
    from .. import queries

    assert queries.can_direct(cast.erin.user) and queries.can_direct(cast.frank.user)
    assert not queries.can_direct(cast.carol.user)
