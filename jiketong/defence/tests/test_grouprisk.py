"""One group, one risk (decision 0802): a group with units in 广东 and 浙江 rolled up over every unit, units out
of the reader's scope counted and never named, the chained warning (连锁联动) on the head and the siblings, the
affiliated set, the group risk view (filters, export, API, bounded queries) and its refresh on events."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from jiketong import testing
from jiketong.billing.models import CustomerMonth
from jiketong.churn.models import ChurnScore
from jiketong.core.events import emit, handle_now
from jiketong.customers.models import Affiliation, CompetitorPresence
from jiketong.deals.models import Contract
from jiketong.defence import grouprisk, queries
from jiketong.defence.models import GroupRisk, GroupRiskUnit, RiskSetKind

GROUPS = reverse("defence:groups")
OCT, JUL = date(2026, 10, 1), date(2026, 7, 1)
TODAY = date(2026, 11, 10)


def month(customer, period, revenue, members=0, arrears=False):
    CustomerMonth.objects.create(
        customer=customer, period=period, revenue=Decimal(revenue), members=members, arrears=arrears
    )


def complaint(customer, staff):
    from jiketong.service.models import Ticket

    opened = timezone.now() - timedelta(days=3)
    return Ticket.objects.create(
        number=f"T{Ticket.objects.count() + 1}", type="complaint", customer=customer, title="信号差", owner=staff,
        received_by=staff, opened_at=opened, response_due=opened + timedelta(hours=1),
        resolve_due=opened + timedelta(hours=8),
    )  # fmt: skip


def warn(customer, score=80):
    ChurnScore.objects.update_or_create(
        customer=customer,
        defaults={"scored_on": TODAY, "score": score, "risk": "high" if score >= 60 else "low", "model_version": "t"},
    )


@pytest.fixture
def group(cast):
    """广州地铁 (Alice's, 440106) heads a Guangzhou unit that is Bob's and a Hangzhou unit in 浙江 (Dave's scope).
    October against July: the head holds 1,000; the Guangzhou unit falls from 800 to 500 and is in arrears,
    under a high threat and has an open complaint; the Hangzhou unit keeps 300 and has a churn warning; the head's
    contract ends within 90 days."""
    head = cast.alice_customer
    cast.gz_unit = testing.make_customer(
        org_unit=cast.org["440106"], owner=cast.bob, parent=head, name="广州地铁运营分公司"
    )
    cast.hz_unit = testing.make_customer(org_unit=cast.org["330106"], parent=head, name="广州地铁杭州设计分院")
    for customer, oct_revenue, jul_revenue, members in (
        (head, "1000", "1000", 40),
        (cast.gz_unit, "500", "800", 30),
        (cast.hz_unit, "300", "300", 20),
    ):
        month(customer, JUL, jul_revenue, members + 5)
        month(customer, OCT, oct_revenue, members, arrears=customer == cast.gz_unit)
    CompetitorPresence.objects.create(customer=cast.gz_unit, competitor="china_telecom", products="专线", threat="high")
    complaint(cast.gz_unit, cast.bob)
    warn(cast.hz_unit)
    Contract.objects.create(
        number="HT-9", customer=head, value=1000, start_on=date(2025, 1, 1), end_on=TODAY + timedelta(days=40),
        status="active",
    )  # fmt: skip
    grouprisk.refresh(today=TODAY)
    return cast


def the_group(cast) -> GroupRisk:
    return GroupRisk.objects.get(kind=RiskSetKind.GROUP, head=cast.alice_customer)


def test_the_roll_up_sums_every_unit_in_both_provinces(group):
    risk = the_group(group)
    assert risk.units == 3
    assert risk.revenue == Decimal("1800.00") and risk.revenue_before == Decimal("2100.00")
    assert risk.revenue_change_pct == Decimal("-14.3") and risk.risk_revenue
    assert risk.trend[-1] == ["2026-10", "1800.00"] and risk.trend[-4] == ["2026-07", "2100.00"]
    assert len(risk.trend) == 12
    assert (risk.members, risk.members_before) == (90, 105)
    assert (risk.arrears_units, risk.arrears_revenue) == (1, Decimal("500.00"))
    assert risk.open_complaints == 1
    assert risk.contracts_expiring == 1 and risk.next_contract_end == TODAY + timedelta(days=40)
    assert (risk.churn_max, risk.churn_units, risk.churn_revenue) == (80, 1, Decimal("300.00"))
    assert (risk.competitor_units, risk.competitor_high_units) == (1, 1)
    # A year of the at-risk units' revenue (all three: contract, arrears/threat/complaint, warning) + the decline.
    assert risk.value_at_risk == Decimal("25200.00")
    assert {(e["code"], e["unit"]) for e in risk.chain} == {
        ("churn", group.hz_unit.pk), ("threat", group.gz_unit.pk), ("arrears", group.gz_unit.pk),
    }  # fmt: skip


def test_a_contract_renewed_in_advance_is_not_expiring(group):
    old = Contract.objects.get(number="HT-9")
    Contract.objects.create(
        number="HT-10", customer=group.alice_customer, value=1000, start_on=old.end_on,
        end_on=old.end_on + timedelta(days=365), status="active", previous=old,
    )  # fmt: skip
    grouprisk.refresh(today=TODAY)
    risk = the_group(group)
    assert (risk.contracts_expiring, risk.next_contract_end, risk.risk_contracts) == (0, None, False)


def test_a_revenue_fall_below_the_threshold_is_no_decline(group, settings):
    settings.DEFENCE_GROUP_DECLINE_PCT = 15
    grouprisk.refresh(today=TODAY)
    assert not the_group(group).risk_revenue


def test_the_view_counts_out_of_scope_units_and_never_names_them(client_as, group):
    response = client_as(group.alice).get(GROUPS)
    row = next(r for r in response.context["page"].object_list if r.kind == RiskSetKind.GROUP)
    assert row.units_hidden == 2 and row.title == group.alice_customer.name
    body = response.content.decode()
    assert group.alice_customer.name in body and "¥1,800.00" in body
    assert group.gz_unit.name not in body and group.hz_unit.name not in body
    with translation.override("zh-hans"):
        assert "1 个同集团成员单位（不在您的范围内）出现离网预警" in [str(line) for line in row.lines]


def test_a_reader_who_sees_only_the_zhejiang_unit_gets_the_totals_without_names(client_as, group):
    response = client_as(group.dave).get(reverse("defence:group", args=[the_group(group).pk]))
    body = response.content.decode()
    assert response.context["risk"].units_hidden == 2 and response.context["risk"].revenue == Decimal("1800.00")
    assert group.hz_unit.name in body
    assert group.alice_customer.name not in body and group.gz_unit.name not in body
    assert [u.pk for u in response.context["units"]] == [group.hz_unit.pk]


def test_a_group_nobody_in_scope_belongs_to_is_not_found(client_as, group):
    assert client_as(group.ivan).get(reverse("defence:group", args=[the_group(group).pk])).status_code == 404


def test_the_chain_flags_the_head_and_the_siblings_on_their_360_pages(client_as, group):
    with translation.override("zh-hans"):
        head_panel = client_as(group.frank).get(reverse("customers:detail", args=[group.alice_customer.pk]))
        body = head_panel.content.decode()
        assert f"同集团成员单位 {group.hz_unit.name} 出现离网预警" in body
        assert f"同集团成员单位 {group.gz_unit.name} 出现欠费" in body
        sibling = client_as(group.frank).get(reverse("customers:detail", args=[group.gz_unit.pk])).content.decode()
        assert f"同集团成员单位 {group.hz_unit.name} 出现离网预警" in sibling
        assert f"同集团成员单位 {group.gz_unit.name} 出现欠费" not in sibling  # its own arrears: its own panels
        # Bob sees his unit only: the Hangzhou unit's warning is counted, not named.
        bob = client_as(group.bob).get(reverse("customers:detail", args=[group.gz_unit.pk])).content.decode()
        assert "1 个同集团成员单位（不在您的范围内）出现离网预警" in bob
        assert group.hz_unit.name not in bob and group.alice_customer.name not in bob


def test_a_new_churn_warning_flags_the_group_at_once(group, django_capture_on_commit_callbacks):
    ChurnScore.objects.all().delete()
    grouprisk.refresh(today=TODAY)
    assert not the_group(group).risk_churn
    warn(group.hz_unit)
    with django_capture_on_commit_callbacks(execute=True):
        event = emit("churn.level_changed", customer_id=group.hz_unit.pk, actor=None, warned=True,
                     from_level="low", to_level="high", score=80, reasons=[])  # fmt: skip
    handle_now(event)  # the task worker's part
    risk = the_group(group)
    assert risk.risk_churn and {"code": "churn", "unit": group.hz_unit.pk} in risk.chain


def test_a_high_threat_rolls_the_group_up_by_the_task_worker_not_the_request(group, django_capture_on_commit_callbacks):
    """A whole group's roll-up is heavy (thousands of units): the request that records a threat refreshes the
    unit's board row; the task worker rolls its group up."""
    CompetitorPresence.objects.all().delete()
    grouprisk.refresh(today=TODAY)
    assert not the_group(group).risk_competitor
    presence = CompetitorPresence.objects.create(
        customer=group.hz_unit, competitor="china_unicom", products="V网", threat="high"
    )
    with django_capture_on_commit_callbacks(execute=True):
        event = emit(
            "competitor.threat_recorded", customer_id=group.hz_unit.pk, actor=None, presence=presence.pk,
            attack=None, competitor="china_unicom", threat="high", from_threat="", contract_end=None,
        )  # fmt: skip
    assert not the_group(group).risk_competitor
    handle_now(event)  # the task worker's part
    risk = the_group(group)
    assert risk.risk_competitor and {"code": "threat", "unit": group.hz_unit.pk} in risk.chain


def test_an_affiliated_set_is_one_risk(cast):
    month(cast.bob_customer, OCT, "700", arrears=True)
    month(cast.shenzhen_customer, OCT, "200")
    Affiliation.objects.create(customer=cast.bob_customer, related=cast.shenzhen_customer, kind="equity",
                               direction="controls")  # fmt: skip
    grouprisk.refresh(today=TODAY)
    risk = GroupRisk.objects.get(kind=RiskSetKind.AFFILIATED)
    assert (risk.units, risk.revenue, risk.arrears_units) == (2, Decimal("900.00"), 1)
    with translation.override("zh-hans"):
        [seen] = queries.decorate(
            cast.ivan.user, queries.group_risks_of(cast.ivan.user, cast.shenzhen_customer.pk),
            viewer_unit=cast.shenzhen_customer.pk,
        )  # fmt: skip
        assert seen.lines == ["1 个关联企业（不在您的范围内）出现欠费"]
        assert seen.title == "关联企业群（首家企业不在您的范围内）" and seen.units_hidden == 1
        [named] = queries.decorate(cast.frank.user, queries.group_risks_of(cast.frank.user, cast.shenzhen_customer.pk),
                                   viewer_unit=cast.shenzhen_customer.pk)  # fmt: skip
        assert named.lines == [f"关联企业 {cast.bob_customer.name} 出现欠费"]


def test_a_set_broken_up_disappears_at_night(cast):
    link = Affiliation.objects.create(customer=cast.bob_customer, related=cast.shenzhen_customer, kind="equity",
                                      direction="controls")  # fmt: skip
    grouprisk.refresh(today=TODAY)
    assert GroupRiskUnit.objects.filter(risk__kind=RiskSetKind.AFFILIATED).count() == 2
    link.delete()
    grouprisk.refresh(today=TODAY)
    assert not GroupRisk.objects.exists() and not GroupRiskUnit.objects.exists()


def test_the_view_filters_by_risk_kind_region_and_grade(client_as, group):
    month(group.bob_customer, OCT, "100")
    month(group.backed_up, OCT, "100")
    Affiliation.objects.create(customer=group.bob_customer, related=group.backed_up, kind="equity",
                               direction="controls")  # fmt: skip
    grouprisk.refresh(today=TODAY)
    client = client_as(group.frank)

    def kinds(params):
        return [r.kind for r in client.get(GROUPS, params).context["page"].object_list]

    assert kinds({}) == ["group", "affiliated"]  # by value at risk
    assert kinds({"risk": "arrears"}) == ["group"]
    assert kinds({"risk": "chain"}) == ["group"]
    assert kinds({"region": "330000"}) == ["group"]  # a unit in 浙江
    assert kinds({"kind": "affiliated"}) == ["affiliated"]
    assert kinds({"grade": "A"}) == []
    assert kinds({"grade": "C"}) == ["group", "affiliated"]  # every head of this world is a C
    assert client.get(GROUPS, {"risk": "nonsense"}).context["filter"].errors["risk"]


def test_the_group_view_queries_do_not_grow_with_rows(client_as, cast, django_assert_max_num_queries):
    def a_group():
        head = testing.make_customer(org_unit=cast.org["440106"])
        unit = testing.make_customer(org_unit=cast.org["330106"], parent=head)
        month(unit, OCT, "100", arrears=True)
        warn(unit)

    a_group()
    grouprisk.refresh(today=TODAY)
    client = client_as(cast.carol)
    client.get(GROUPS)  # warm the session
    with django_assert_max_num_queries(18) as small:
        client.get(GROUPS)
    for _ in range(25):
        a_group()
    grouprisk.refresh(today=TODAY)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(GROUPS)
    assert len(response.context["page"].object_list) == 20


def test_the_refresh_reads_a_bounded_number_of_queries(cast, django_assert_max_num_queries):
    for _ in range(30):
        head = testing.make_customer(org_unit=cast.org["440106"])
        testing.make_customer(org_unit=cast.org["330106"], parent=head)
    with django_assert_max_num_queries(25):
        assert grouprisk.refresh(today=TODAY) == 30


def test_the_export_is_scoped_and_names_no_hidden_unit(client_as, group):
    from openpyxl import load_workbook

    response = client_as(group.dave).get(reverse("defence:group_export"))
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    text = " ".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row)
    assert "1800" in text
    assert group.alice_customer.name not in text and group.gz_unit.name not in text


def test_the_api_gives_totals_and_hides_the_head_out_of_scope(group):
    from django.test import Client

    from jiketong.org.services import token_issue

    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=group.dave.user)}")
    listed = api.get("/api/v1/defence/groups").json()
    [item] = [i for i in listed["items"] if i["kind"] == "group"]
    assert item["head"] is None and item["units"] == 3 and item["units_hidden"] == 2
    assert item["revenue"] in ("1800.00", 1800.0, "1800") and "churn" in item["risks"]
    detail = api.get(f"/api/v1/defence/groups/{item['id']}")
    assert detail.status_code == 200 and group.alice_customer.name not in detail.content.decode()
    assert api.get("/api/v1/defence/groups", {"risk": "nonsense"}).status_code == 400


def test_the_360_panel_and_the_group_page_cost_the_same_for_a_big_group(
    rf, client_as, group, django_assert_max_num_queries
):
    from jiketong.defence.panels import group_panel

    request = rf.get("/")
    request.user = group.carol.user
    group_panel(request, group.gz_unit)  # the staff record, read once per request
    with django_assert_max_num_queries(3):
        assert group_panel(request, group.gz_unit)["sets"][0].units == 3
    url = reverse("defence:group", args=[the_group(group).pk])
    client = client_as(group.carol)
    client.get(url)
    with django_assert_max_num_queries(20) as small:
        client.get(url)
    for _ in range(30):
        unit = testing.make_customer(org_unit=group.org["440106"], parent=group.alice_customer)
        warn(unit)
    grouprisk.refresh(today=TODAY)
    with django_assert_max_num_queries(3):
        assert group_panel(request, group.gz_unit)["sets"][0].units == 33
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


def test_the_api_counts_the_group_risk_view_up_to_the_cap(group, monkeypatch):
    """Decision 0606: a province's list costs what a county's does, so the count stops at the cap (1 here) and
    says there are more; the page still holds every set, each with its chained warnings put into words."""
    from django.test import Client

    from jiketong.core import paging
    from jiketong.org.services import token_issue

    second = testing.make_customer(org_unit=group.org["440106"], owner=group.alice, name="广州港集团")
    testing.make_customer(org_unit=group.org["440106"], parent=second, name="广州港码头分公司")
    grouprisk.refresh(today=TODAY)
    monkeypatch.setattr(paging.capped_count, "__defaults__", (1,))
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=group.erin.user)}")
    body = api.get("/api/v1/defence/groups", {"kind": "group", "limit": 5}).json()
    assert (body["count"], body["count_capped"], len(body["items"])) == (1, True, 2)
    assert any(item["chain"] for item in body["items"])
