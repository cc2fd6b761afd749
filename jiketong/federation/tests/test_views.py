"""HQ's national pages: a group's 360 from the provinces, national indicators with 全国性 counted once, freshness."""

import pytest
from django.urls import reverse

from .. import services
from ..models import GroupUnit, NationalGroup, Province
from .conftest import as_hq, hq_call

pytestmark = pytest.mark.django_db


def send(token, code, rows):
    response = hq_call(token, "POST", "batches", {"province": code, "rows": rows})
    assert response.status_code == 200, response.content


def group_rows(code, seq, revenue, unit_name, *, at_risk=False):
    return [
        {
            "seq": seq,
            "province": code,
            "kind": "group",
            "key": "91110000100000000X",
            "period": "",
            "payload": {
                "uscc": "91110000100000000X",
                "group_code": "G001",
                "name": "中国某银行",
                "industry": "finance",
            },
        },
        {
            "seq": seq + 1,
            "province": code,
            "kind": "unit",
            "key": f"U{code}",
            "period": "",
            "payload": {
                "group": "91110000100000000X",
                "name": unit_name,
                "org_unit_code": code,
                "owner_name": "经理" + code,
                "grade": "A1",
                "status": "active",
                "at_risk": at_risk,
            },
        },
        {
            "seq": seq + 2,
            "province": code,
            "kind": "unit_month",
            "key": f"U{code}",
            "period": "2026-05",
            "payload": {"group": "91110000100000000X", "revenue": revenue, "members": 100},
        },
        {
            "seq": seq + 3,
            "province": code,
            "kind": "indicator",
            "key": f"{code}|finance|A1",
            "period": "2026-05",
            "payload": {
                "org_unit_code": code,
                "industry": "finance",
                "grade": "A1",
                "in_service": 10,
                "revenue": revenue,
                "members": 100,
                "mobile": 3,
            },
        },
    ]


@pytest.fixture
def two_provinces(provinces):
    send(provinces["440000"], "440000", group_rows("440000", 1, "700000.00", "某银行广东分行", at_risk=True))
    send(provinces["330000"], "330000", group_rows("330000", 1, "400000.00", "某银行浙江分行"))
    return NationalGroup.objects.get()


def test_a_group_in_two_provinces_over_a_million_is_national_and_counted_once(two_provinces):
    group = two_provinces
    assert group.provinces_12m == 2 and group.revenue_12m == 1100000 and group.is_national
    assert GroupUnit.objects.count() == 2


def test_the_group_360_assembles_units_owners_months_and_risks(
    two_provinces, cast, client_as, django_assert_max_num_queries
):
    client = client_as(cast.erin)
    with as_hq(), django_assert_max_num_queries(14):  # the assignment form's provinces and the contacts too
        page = client.get(reverse("federation:group", args=[two_provinces.pk])).content.decode()
    assert "某银行广东分行" in page and "某银行浙江分行" in page and "经理330000" in page
    assert page.count("2026-05") >= 2
    risks = page.split('data-testid="group-risks"')[1].split("</ul>")[0]
    assert "某银行广东分行" in risks and "某银行浙江分行" not in risks


def test_national_indicators_by_province_count_a_national_group_once(
    two_provinces, cast, client_as, django_assert_max_num_queries
):
    client = client_as(cast.erin)
    with as_hq(), django_assert_max_num_queries(12):
        page = client.get(reverse("federation:indicators")).content.decode()
    assert "广东" in page and "浙江" in page
    total = page.split('data-testid="national-total">')[1].split("<")[0]
    assert total == "1"  # units in two provinces, one national group customer


def test_the_freshness_panel_shows_each_province(two_provinces, cast, client_as, django_assert_max_num_queries):
    Province.objects.filter(code="330000").update(failures=3, last_error="HQ unreachable")
    client = client_as(cast.erin)
    with as_hq(), django_assert_max_num_queries(8):
        page = client.get(reverse("federation:freshness")).content.decode()
    assert "HQ unreachable" in page and "440000" in page


def test_the_group_list_pages_and_filters(two_provinces, cast, client_as, django_assert_max_num_queries):
    NationalGroup.objects.create(key="code:G002", group_code="G002", name="某地方企业")  # one province: not 全国性
    client = client_as(cast.frank)
    with as_hq(), django_assert_max_num_queries(10):
        page = client.get(reverse("federation:groups"), {"national": "1"}).content.decode()
    assert "中国某银行" in page and "某地方企业" not in page
    with as_hq():
        every = client.get(reverse("federation:groups")).content.decode()
        found = client.get(reverse("federation:groups"), {"search": "G002"}).content.decode()
    assert "中国某银行" in every and "某地方企业" in every
    assert "某地方企业" in found and "中国某银行" not in found


@pytest.mark.parametrize("persona", ["alice", "carol", "dave"])
def test_national_pages_are_for_hq_only(two_provinces, cast, client_as, persona):
    with as_hq():
        response = client_as(getattr(cast, persona)).get(reverse("federation:group", args=[two_provinces.pk]))
    assert response.status_code == 403


def test_a_province_instance_has_no_national_pages(two_provinces, cast, client_as, settings):
    settings.JIKETONG_INSTANCE, settings.JIKETONG_PROVINCE = "province", "440000"
    assert client_as(cast.erin).get(reverse("federation:groups")).status_code == 404


def test_the_indicator_page_without_data_is_empty(cast, client_as):
    page = client_as(cast.erin).get(reverse("federation:indicators"), {"period": "bad"}).content.decode()
    assert "national-indicators" in page and "尚无省份发送指标。" in page
    assert 'data-testid="national-total"' not in page


def test_the_indicator_page_reads_counts_kept_at_sync_time_not_per_province_and_group(
    two_provinces, cast, client_as, django_assert_num_queries, django_assert_max_num_queries
):
    from .. import services

    client = client_as(cast.erin)
    with as_hq(), django_assert_max_num_queries(12) as before:
        client.get(reverse("federation:indicators"))
    queries = len(before)  # now: the log is reset by the next requests
    assert queries > 0
    assert dict(Province.objects.values_list("code", "national_groups")) == {"440000": 1, "330000": 1}
    for code in ("110000", "320000", "510000", "610000"):  # four more provinces, each with two units of the bank
        token = services.province_add(actor=cast.frank.user, code=code, name=code)[1]
        send(token, code, group_rows(code, 1, "300000.00", f"某银行{code}分行"))
        extra = group_rows(code, 10, "100000.00", f"某银行{code}支行")[1:3]
        send(token, code, [{**row, "key": f"V{code}"} for row in extra])
    with as_hq(), django_assert_num_queries(queries):
        page = client.get(reverse("federation:indicators")).content.decode()
    assert page.split('data-testid="national-total">')[1].split("<")[0] == "1"  # the bank, counted once
    assert Province.objects.get(code="110000").national_groups == 1


def test_a_group_no_longer_national_leaves_the_counts_at_the_next_batch(two_provinces, provinces):
    from ..models import NationalTally

    assert NationalTally.objects.get().national_groups == 1
    send(provinces["330000"], "330000", [{**group_rows("330000", 20, "0.00", "某银行浙江分行")[2]}])
    assert not NationalGroup.objects.get().is_national
    assert NationalTally.objects.get().national_groups == 0
    assert set(Province.objects.values_list("national_groups", flat=True)) == {0}


def test_the_group_list_names_the_lead_province(client_as, cast, provinces):
    group = NationalGroup.objects.create(key="91110000100000000X", uscc="91110000100000000X", name="中国某银行")
    with as_hq():
        services.account_assign(actor=cast.erin.user, group=group, lead_province="440000", manager_name="刘建国")
        page = client_as(cast.erin).get(reverse("federation:groups")).content.decode()
    assert "<td>广东</td>" in page
