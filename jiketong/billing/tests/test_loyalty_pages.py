"""Pages and API of redemptions, club benefits and the credit grade: scoped, errors in Chinese at their field,
exports audited, query counts bounded."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from jiketong.billing import services
from jiketong.billing.credit import refresh_credit_grades
from jiketong.billing.models import (
    BenefitUse,
    ClubBenefit,
    CustomerMonth,
    Redemption,
)
from jiketong.billing.points import refresh_points
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.org.services import token_issue

pytestmark = pytest.mark.django_db
THIS_MONTH = timezone.localdate().replace(day=1)


def months_back(n: int) -> date:
    d = THIS_MONTH
    for _ in range(n):
        d = (d - timedelta(days=1)).replace(day=1)
    return d


def api(staff):
    from django.test import Client

    return Client(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=staff.user)}")


@pytest.fixture
def billed(cast):
    """alice's and bob's customers: two paid months of 2,000.00 (402 points each), bob's last one in arrears."""
    for customer, late in ((cast.alice_customer, False), (cast.bob_customer, True)):
        CustomerMonth.objects.create(customer=customer, period=months_back(2), revenue=Decimal("2000"), days_to_pay=20)
        CustomerMonth.objects.create(customer=customer, period=months_back(1), revenue=Decimal("2000"), arrears=late,
                                     days_to_pay=25)  # fmt: skip
    refresh_points(months_back(2))
    refresh_credit_grades()
    return cast


# --- redemption ------------------------------------------------------------------------------------
def test_a_manager_redeems_on_the_statement_and_sees_it_there(billed, client_as):
    client = client_as(billed.alice)
    url = reverse("billing:customer_points", args=[billed.alice_customer.pk])
    response = client.post(reverse("billing:customer_redeem", args=[billed.alice_customer.pk]), {"points": "200"})
    assert response.status_code == 302 and response.url == url
    page = client.get(url)
    assert [(r.points, r.benefit) for r in page.context["redemptions"]] == [(200, Decimal("20.00"))]
    text = page.content.decode()
    assert "¥20.00" in text and text.count('data-testid="redemptions"') == 1
    assert text.count('data-testid="redeem-submit"') == 1
    title = text.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "<" not in title and billed.alice_customer.name in title
    assert text.index('data-testid="redemptions"') > text.index('data-testid="benefits-link"')


def test_a_refused_redemption_shows_the_reason_in_chinese_at_the_field(billed, client_as):
    response = client_as(billed.bob).post(reverse("billing:customer_redeem", args=[billed.bob_customer.pk]),
                                          {"points": "100"})  # fmt: skip
    assert response.status_code == 422
    assert response.context["form"].errors["points"] == [f"客户 {months_back(1):%Y-%m} 欠费：缴清后才能兑换积分。"]
    assert not Redemption.objects.exists()


def test_an_out_of_scope_customer_cannot_be_redeemed_for(billed, client_as):
    response = client_as(billed.alice).post(reverse("billing:customer_redeem", args=[billed.bob_customer.pk]),
                                            {"points": "100"})  # fmt: skip
    assert response.status_code == 404


def test_the_months_redemptions_export_for_boss_is_scoped_and_audited(billed, client_as):
    services.redemption_create(actor=billed.alice.user, customer=billed.alice_customer, points=300)
    applied = Redemption.objects.get().applied_period
    # Carol (the city) sees it; Dave (another province) gets an empty file.
    response = client_as(billed.carol).get(reverse("billing:redemption_export") + f"?period={applied:%Y-%m}")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["抵扣账期", "集团编号", "客户", "积分"]
    assert rows[1][3:5] == ["300", "30.00"] and rows[1][2] == billed.alice_customer.name
    event = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (event.target_type, event.after["count"]) == ("billing.redemption", 1)
    other = client_as(billed.dave).get(reverse("billing:redemption_export") + f"?period={applied:%Y-%m}")
    assert len(list(csv.reader(io.StringIO(b"".join(other.streaming_content).decode("utf-8-sig"))))) == 1


@pytest.mark.parametrize("count", [2, 20])
def test_the_redemption_list_queries_do_not_grow(billed, client_as, django_assert_max_num_queries, count):
    Redemption.objects.bulk_create(
        Redemption(customer=billed.alice_customer, points=100, benefit=Decimal("10"), kind="amount",
                   from_period=months_back(1), applied_period=THIS_MONTH, created_by=billed.alice.user)
        for _ in range(count)
    )  # fmt: skip
    client = client_as(billed.carol)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("billing:redemption_list"))
    assert len(page.context["page"].object_list) == count


def test_the_redemption_list_counts_a_province_month_up_to_a_cap(billed, client_as, monkeypatch):
    """Decision 0605: a province's month of redemptions is counted up to the cap, not in full, on every page."""
    from jiketong.core import paging

    monkeypatch.setattr(paging.CappedPaginator.__init__, "__defaults__", (3,))
    Redemption.objects.bulk_create(
        Redemption(customer=billed.alice_customer, points=100, benefit=Decimal("10"), kind="amount",
                   from_period=months_back(1), applied_period=THIS_MONTH, created_by=billed.alice.user)
        for _ in range(5)
    )  # fmt: skip
    paginator = client_as(billed.carol).get(reverse("billing:redemption_list")).context["page"].paginator
    assert (paginator.count, paginator.capped) == (3, True)


def test_the_statement_queries_do_not_grow_with_redemptions(billed, client_as, django_assert_max_num_queries):
    for _ in range(4):
        services.redemption_create(actor=billed.alice.user, customer=billed.alice_customer, points=100)
    client = client_as(billed.alice)
    with django_assert_max_num_queries(13):
        page = client.get(reverse("billing:customer_points", args=[billed.alice_customer.pk]))
    assert len(page.context["redemptions"]) == 4


def test_the_api_redeems_lists_and_refuses_at_the_field(billed):
    client = api(billed.alice)
    created = client.post(f"/api/v1/customers/{billed.alice_customer.pk}/points/redemptions", {"points": 100},
                          content_type="application/json")  # fmt: skip
    assert created.status_code == 201, created.content
    assert (created.json()["benefit"], created.json()["points"]) == ("10.00", 100)
    refused = client.post(f"/api/v1/customers/{billed.alice_customer.pk}/points/redemptions", {"points": 150},
                          content_type="application/json")  # fmt: skip
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["points"]
    body = client.get(f"/api/v1/customers/{billed.alice_customer.pk}/points").json()
    assert [r["points"] for r in body["redemptions"]] == [100] and body["balance"] == 302
    applied = created.json()["applied_period"]
    listed = api(billed.carol).get(f"/api/v1/billing/redemptions?period={applied}").json()
    assert listed["count"] == 1
    assert api(billed.dave).get(f"/api/v1/billing/redemptions?period={applied}").json()["count"] == 0


# --- credit grade ----------------------------------------------------------------------------------
def test_the_360_page_and_the_api_show_the_credit_grade(billed, client_as):
    page = client_as(billed.alice).get(reverse("customers:detail", args=[billed.alice_customer.pk]))
    text = page.content.decode()
    assert 'data-testid="credit-grade"' in text and "AAA 信用极好" in text
    body = api(billed.bob).get(f"/api/v1/customers/{billed.bob_customer.pk}/credit").json()
    # One month in arrears, and it is the latest: AA allows one month but none in a row now, so A.
    assert (body["grade"], body["arrears_months"], body["consecutive_arrears"], body["avg_days_to_pay"]) == (
        "A", 1, 1, "22.5",
    )  # fmt: skip
    assert api(billed.alice).get(f"/api/v1/customers/{billed.bob_customer.pk}/credit").status_code == 404


# --- club benefits ---------------------------------------------------------------------------------
@pytest.fixture
def catalogue(billed):
    billed.repair = ClubBenefit.objects.create(name="上门维修", kind="repair", min_tier="regular", yearly_limit=2)
    billed.salon = ClubBenefit.objects.create(name="钻石客户沙龙", kind="event", min_tier="diamond")
    return billed


def test_only_an_admin_keeps_the_catalogue_with_errors_at_their_fields(catalogue, client_as):
    assert client_as(catalogue.alice).get(reverse("billing:benefit_create")).status_code == 403
    admin = client_as(catalogue.frank)
    response = admin.post(reverse("billing:benefit_create"), {"name": "", "kind": "repair", "min_tier": "gold",
                                                              "yearly_limit": "-1"})  # fmt: skip
    assert set(response.context["form"].errors) == {"name", "yearly_limit"}
    assert response.context["form"].errors["name"] == ["这个字段是必填项。"]
    response = admin.post(reverse("billing:benefit_create"), {"name": "新业务八折", "kind": "discount",
                                                              "min_tier": "gold", "active": "on"})  # fmt: skip
    assert response.status_code == 302
    benefit = ClubBenefit.objects.get(name="新业务八折")
    assert AuditEvent.objects.filter(target_type="billing.clubbenefit", target_id=benefit.pk).exists()


def test_two_admins_editing_one_benefit_do_not_lose_a_change(catalogue, client_as):
    admin = client_as(catalogue.frank)
    url = reverse("billing:benefit_edit", args=[catalogue.repair.pk])
    form = {"name": "上门维修（4小时到场）", "kind": "repair", "min_tier": "regular", "yearly_limit": "2",
            "active": "on", "row_version": "1"}  # fmt: skip
    services.benefit_save(actor=catalogue.frank.user, benefit=catalogue.repair, yearly_limit=3)
    refused = admin.post(url, form)
    assert refused.status_code == 200 and refused.context["form"].stale
    assert ClubBenefit.objects.get(pk=catalogue.repair.pk).name == "上门维修"


def test_a_use_is_recorded_within_the_tier_and_the_yearly_limit(catalogue, client_as):
    client = client_as(catalogue.alice)
    url = reverse("billing:customer_benefits", args=[catalogue.alice_customer.pk])
    page = client.get(url)
    assert [b.name for b in page.context["open"]] == ["上门维修"]  # 普通会员: the salon is for diamond
    today = timezone.localdate()
    for _ in range(2):
        assert client.post(url, {"benefit": catalogue.repair.pk, "used_on": today.isoformat()}).status_code == 302
    third = client.post(url, {"benefit": catalogue.repair.pk, "used_on": today.isoformat()})
    assert third.status_code == 422
    assert third.context["form"].errors["benefit"] == [f"{today.year} 年已使用 2 次：每年限 2 次。"]
    salon = client.post(url, {"benefit": catalogue.salon.pk, "used_on": today.isoformat()})
    assert salon.context["form"].errors["benefit"] == ["此权益仅限钻石会员及以上。"]
    assert BenefitUse.objects.filter(customer=catalogue.alice_customer).count() == 2
    assert AuditEvent.objects.filter(target_type="billing.benefituse").count() == 2
    assert client.get(reverse("billing:customer_benefits", args=[catalogue.bob_customer.pk])).status_code == 404


def test_the_customer_benefits_page_queries_are_bounded(catalogue, client_as, django_assert_max_num_queries):
    for _ in range(2):
        services.benefit_use_record(actor=catalogue.alice.user, customer=catalogue.alice_customer,
                                    benefit=catalogue.repair, used_on=timezone.localdate())  # fmt: skip
    client = client_as(catalogue.alice)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("billing:customer_benefits", args=[catalogue.alice_customer.pk]))
    assert len(page.context["uses"]) == 2


def test_the_api_records_a_benefit_use(catalogue):
    client = api(catalogue.alice)
    url = f"/api/v1/customers/{catalogue.alice_customer.pk}/benefit-uses"
    ok = client.post(url, {"benefit": catalogue.repair.pk, "used_on": timezone.localdate().isoformat()},
                     content_type="application/json")  # fmt: skip
    assert ok.status_code == 201, ok.content
    missing = client.post(url, {"benefit": 987654, "used_on": timezone.localdate().isoformat()},
                          content_type="application/json")  # fmt: skip
    assert missing.status_code == 400 and list(missing.json()["errors"]) == ["benefit"]
    assert client.get("/api/v1/billing/benefits").json()["count"] == 2


@pytest.mark.parametrize("count", [2, 20])
def test_the_benefit_catalogue_costs_the_same_at_any_size(cast, client_as, django_assert_max_num_queries, count):
    ClubBenefit.objects.bulk_create(ClubBenefit(name=f"权益{i}", kind="event") for i in range(count))
    client = client_as(cast.alice)
    with django_assert_max_num_queries(9):
        page = client.get(reverse("billing:benefit_list"))
    assert len(page.context["benefits"]) == count and not page.context["can_edit"]


def test_the_catalogue_lists_benefits_from_the_lowest_tier_up(cast):
    from jiketong.billing import queries

    for name, tier in (("钻石答谢会", "diamond"), ("银卡维修", "silver"), ("问候", "regular"), ("金卡沙龙", "gold")):
        ClubBenefit.objects.create(name=name, min_tier=tier)
    assert [b.name for b in queries.benefits()] == ["问候", "银卡维修", "金卡沙龙", "钻石答谢会"]
