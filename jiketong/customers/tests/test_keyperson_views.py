"""The key-person map's pages: the 360 page's map and flags, mark-left, the relation and counterpart forms, and
the supervisor's list of gaps (scoped, bounded)."""

import json
import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from jiketong import testing
from jiketong.customers import keypersons, services
from jiketong.customers.models import Contact, ContactRelation
from jiketong.work.models import Activity


def detail(customer) -> str:
    return reverse("customers:detail", args=[customer.pk])


def map_json(html: str) -> dict:
    found = re.search(r'<script id="keymap-data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the 360 page carries the map's data"
    return json.loads(found.group(1))


def add(cast, name, customer=None, **fields) -> Contact:
    return services.contact_create(actor=cast.alice.user, customer=customer or cast.alice_customer, name=name, **fields)


def met(cast, contact, days_ago: int) -> None:
    activity = Activity.objects.create(
        kind="visit",
        subject="拜访",
        happened_at=timezone.now() - timedelta(days=days_ago),
        customer=contact.customer,
        owner=cast.alice,
    )
    activity.contacts.add(contact)


@pytest.fixture
def metro(cast):
    """广州地铁: 张总 decides (met 100 days ago), 李处 reports to him (met last week), our 陈静 keeps 张总."""
    boss = add(
        cast,
        "张总",
        title="总经理",
        decision_role="decider",
        is_key_person=True,
        mobile="13920001234",
        email="zhang.zong@example.com",
        birthday=date(1970, 3, 8),
    )
    deputy = add(cast, "李处", title="信息处处长", decision_role="influencer", mobile="13800005678")
    services.contact_relation_add(actor=cast.alice.user, from_contact=deputy, to_contact=boss, kind="reports_to")
    services.contact_set_counterpart(actor=cast.alice.user, contact=boss, counterpart=cast.carol)
    met(cast, boss, 100)
    met(cast, deputy, 7)
    return boss, deputy


# --- the 360 page -------------------------------------------------------------------------------------
def test_the_map_draws_persons_links_and_counterparts_without_personal_data(metro, cast, client_as):
    boss, deputy = metro
    html = client_as(cast.alice).get(detail(cast.alice_customer)).content.decode()
    data = map_json(html)
    assert [(n["name"], n["title"], n["counterpart"], n["unmet"]) for n in data["nodes"]] == [
        ("张总", "总经理", "陈静", True),
        ("李处", "信息处处长", "", False),
    ]
    assert data["links"] == [
        {"source": str(deputy.pk), "target": str(boss.pk), "kind": "reports_to", "label": "汇报给"}
    ]
    text = json.dumps(data, ensure_ascii=False)
    for secret in ("13920001234", "1234", "5678", "zhang.zong", "example.com", "1970", "03-08"):
        assert secret not in text
    assert 'data-keyperson-map="keymap-data"' in html


def test_the_360_page_flags_a_decision_maker_nobody_met_in_90_days(metro, cast, client_as):
    html = client_as(cast.alice).get(detail(cast.alice_customer)).content.decode()
    assert 'data-testid="unmet-decider"' in html
    assert "决策者 张总 已 90 天未见面" in html
    assert 'data-testid="no-decider"' not in html


def test_a_recent_visit_clears_the_flag(metro, cast, client_as):
    met(cast, metro[0], 3)
    html = client_as(cast.alice).get(detail(cast.alice_customer)).content.decode()
    assert 'data-testid="unmet-decider"' not in html


def test_a_customer_whose_only_decision_maker_left_has_no_known_decision_maker(metro, cast, client_as):
    services.contact_mark_left(actor=cast.alice.user, contact=metro[0], left_on=date(2026, 6, 30))
    html = client_as(cast.alice).get(detail(cast.alice_customer)).content.decode()
    assert 'data-testid="no-decider"' in html
    assert 'data-testid="unmet-decider"' not in html
    assert html.count('data-testid="contact-left"') == 1  # greyed in the contacts table
    node = next(n for n in map_json(html)["nodes"] if n["name"] == "张总")
    assert (node["left"], node["unmet"]) == (True, False)


# --- mark left ----------------------------------------------------------------------------------------
def test_the_contact_page_marks_a_person_left(metro, cast, client_as):
    boss = metro[0]
    client = client_as(cast.alice)
    page = client.get(reverse("customers:contact_edit", args=[boss.pk])).content.decode()
    assert 'data-testid="mark-left"' in page and "标记为离职" in page
    response = client.post(reverse("customers:contact_left", args=[boss.pk]), {"left_on": "2026-06-30"})
    assert response.status_code == 302
    boss.refresh_from_db()
    assert boss.left_on == date(2026, 6, 30)
    client.post(reverse("customers:contact_left", args=[boss.pk]), {"left_on": ""})
    boss.refresh_from_db()
    assert boss.left_on is None


def test_a_day_still_to_come_is_refused_on_the_field_in_chinese(metro, cast, client_as):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client_as(cast.alice).post(
        reverse("customers:contact_left", args=[metro[0].pk]), {"left_on": tomorrow.isoformat()}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["left_on"][0].startswith("这一天还没到")


# --- relation and counterpart forms ------------------------------------------------------------------
def test_the_relation_form_records_a_link(metro, cast, client_as):
    boss, deputy = metro
    engineer = add(cast, "王工")
    response = client_as(cast.alice).post(
        reverse("customers:relation_create", args=[cast.alice_customer.pk]),
        {"from_contact": engineer.pk, "kind": "influences", "to_contact": boss.pk},
    )
    assert response.status_code == 302
    assert ContactRelation.objects.filter(from_contact=engineer, to_contact=boss, kind="influences").exists()


def test_the_relation_form_refuses_a_circle_on_the_field_in_chinese(metro, cast, client_as):
    boss, deputy = metro
    response = client_as(cast.alice).post(
        reverse("customers:relation_create", args=[cast.alice_customer.pk]),
        {"from_contact": boss.pk, "kind": "reports_to", "to_contact": deputy.pk},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"to_contact": ["李处 已直接或间接汇报给 张总，这样会形成循环。"]}


def test_the_relation_form_offers_only_this_customers_current_contacts(metro, cast, client_as):
    other = add(cast, "赵院长", customer=cast.backed_up)
    response = client_as(cast.alice).post(
        reverse("customers:relation_create", args=[cast.alice_customer.pk]),
        {"from_contact": metro[0].pk, "kind": "influences", "to_contact": other.pk},
    )
    assert list(response.context["form"].errors) == ["to_contact"]
    assert not ContactRelation.objects.filter(to_contact=other).exists()


def test_removing_a_relation_from_the_map(metro, cast, client_as):
    relation = ContactRelation.objects.get()
    response = client_as(cast.alice).post(reverse("customers:relation_delete", args=[relation.pk]))
    assert response.status_code == 302
    assert not ContactRelation.objects.exists()


def test_the_counterpart_form_refuses_a_colleague_who_cannot_see_the_customer(metro, cast, client_as):
    response = client_as(cast.alice).post(
        reverse("customers:contact_counterpart", args=[metro[1].pk]), {"counterpart": cast.bob.pk}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"counterpart": ["此人无权查看该客户，请选择负责该客户的人员。"]}


def test_the_counterpart_shows_with_the_contact(metro, cast, client_as):
    html = client_as(cast.alice).get(detail(cast.alice_customer)).content.decode()
    assert '<div class="small text-secondary" data-testid="counterpart">我方对接人: 陈静</div>' in html


# --- the supervisor's list ----------------------------------------------------------------------------
def gap_names(client, kind) -> set[str]:
    response = client.get(reverse("customers:key_person_gaps"), {"kind": kind})
    assert response.status_code == 200
    return {gap.customer.name for gap in response.context["page"].object_list}


def test_a_supervisor_lists_the_gaps_of_their_subtree_only(metro, cast, client_as):
    add(cast, "钱院长", customer=cast.backed_up, decision_role="decider")
    keypersons.refresh(timezone.localdate())
    carol = client_as(cast.carol)
    assert gap_names(carol, "no_decider") == {"天河软件园管理委员会"}
    assert gap_names(carol, "unmet_decider") == {"广州地铁集团有限公司", "越秀区人民医院"}
    assert gap_names(client_as(cast.dave), "no_decider") == {"杭州西湖教育集团"}
    assert gap_names(client_as(cast.alice), "unmet_decider") == {"广州地铁集团有限公司", "越秀区人民医院"}


def test_the_unmet_list_names_the_decider_counterpart_and_last_meeting(metro, cast, client_as):
    keypersons.refresh(timezone.localdate())
    html = client_as(cast.carol).get(reverse("customers:key_person_gaps"), {"kind": "unmet_decider"}).content.decode()
    assert "张总" in html and "陈静" in html
    assert (timezone.localdate() - timedelta(days=100)).isoformat() in html


@pytest.mark.parametrize("size", [2, 40])
def test_the_gaps_list_costs_the_same_at_any_size(cast, client_as, django_assert_max_num_queries, size):
    for i in range(size):
        customer = testing.make_customer(org_unit=cast.org["440106"], owner=cast.alice, name=f"规模客户{i}")
        add(cast, f"决策者{i}", customer=customer, decision_role="decider")
    keypersons.refresh(timezone.localdate())
    client = client_as(cast.carol)
    client.get(reverse("customers:key_person_gaps"))
    for kind in ("no_decider", "unmet_decider"):
        with django_assert_max_num_queries(GAPS_MAX_QUERIES):
            client.get(reverse("customers:key_person_gaps"), {"kind": kind})


GAPS_MAX_QUERIES = 10


def test_the_change_history_names_the_persons_of_a_relation_and_the_counterpart(metro, cast):
    from django.utils import translation

    from jiketong.customers.history import history_lines
    from jiketong.customers.queries import customer_history

    with translation.override("zh-hans"):
        lines = history_lines(cast.alice.user, list(customer_history(cast.alice.user, cast.alice_customer.pk)))
        shown = [(line.record_type, [(c.label, str(c.before), str(c.after)) for c in line.changes]) for line in lines]
    assert ("关键人关系", [("人员", "—", "李处"), ("关联类型", "—", "汇报给"), ("关联人员", "—", "张总")]) in shown
    assert ("联系人", [("我方对接人", "—", "陈静（广州市分公司）")]) in shown
