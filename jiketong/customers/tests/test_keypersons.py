"""The key-person map (decision 0020): relations between contacts, our counterparts, and the gaps it flags."""

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone, translation

from jiketong import testing
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.customers import keypersons
from jiketong.customers.models import ContactRelation, Customer, GapKind, KeyPersonGap, LifecycleStatus
from jiketong.customers.services import (
    contact_create,
    contact_delete,
    contact_mark_left,
    contact_relation_add,
    contact_relation_remove,
    contact_set_counterpart,
    contact_update,
)
from jiketong.org.models import Role
from jiketong.work.models import Activity

TODAY = date(2026, 11, 30)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def person(cast, name, customer=None, **fields):
    return contact_create(actor=cast.alice.user, customer=customer or cast.alice_customer, name=name, **fields)


@pytest.fixture
def people(cast):
    """广州地铁: 张总 (decider), his deputy 李处 reports to him, 王工 reports to 李处."""

    class People:
        boss = person(cast, "张总", title="总经理", decision_role="decider", is_key_person=True, mobile="13920001234")
        deputy = person(cast, "李处", title="信息处处长", decision_role="influencer")
        engineer = person(cast, "王工", title="工程师", decision_role="technical")

    contact_relation_add(actor=cast.alice.user, from_contact=People.deputy, to_contact=People.boss, kind="reports_to")
    contact_relation_add(
        actor=cast.alice.user, from_contact=People.engineer, to_contact=People.deputy, kind="reports_to"
    )
    return People


def relation_errors(cast, from_contact, to_contact, kind="reports_to") -> dict:
    with pytest.raises(ValidationError) as info:
        contact_relation_add(actor=cast.alice.user, from_contact=from_contact, to_contact=to_contact, kind=kind)
    return info.value.message_dict


# --- relations ----------------------------------------------------------------------------------
def test_a_relation_is_recorded_and_audited(people, cast):
    relation = ContactRelation.objects.get(from_contact=people.deputy, kind="reports_to")
    assert (relation.customer_id, relation.to_contact_id) == (cast.alice_customer.pk, people.boss.pk)
    event = AuditEvent.objects.get(target_type="customers.contactrelation", target_id=relation.pk)
    assert event.action == AuditAction.CREATE
    assert event.after == {"from_contact": people.deputy.pk, "to_contact": people.boss.pk, "kind": "reports_to"}


def test_reports_to_cannot_close_a_circle_directly(people, cast):
    errors = relation_errors(cast, people.boss, people.deputy)
    assert errors == {
        "to_contact": ["李处 already reports to 张总, directly or through others: this would make a circle."]
    }


def test_reports_to_cannot_close_a_circle_through_others(people, cast):
    errors = relation_errors(cast, people.boss, people.engineer)
    assert list(errors) == ["to_contact"]
    assert "would make a circle" in errors["to_contact"][0]
    assert not ContactRelation.objects.filter(from_contact=people.boss).exists()


def test_influence_may_run_against_the_reporting_line(people, cast):
    contact_relation_add(actor=cast.alice.user, from_contact=people.boss, to_contact=people.engineer, kind="influences")
    contact_relation_add(actor=cast.alice.user, from_contact=people.engineer, to_contact=people.boss, kind="influences")
    assert ContactRelation.objects.filter(kind="influences").count() == 2


def test_a_person_cannot_be_related_to_themselves(people, cast):
    assert relation_errors(cast, people.boss, people.boss, "influences") == {
        "to_contact": ["A person cannot be related to themselves."]
    }


def test_the_same_relation_is_not_recorded_twice(people, cast):
    assert relation_errors(cast, people.deputy, people.boss) == {"to_contact": ["This relation is already recorded."]}


def test_both_persons_must_belong_to_the_same_customer(people, cast):
    stranger = person(cast, "赵院长", customer=cast.backed_up, decision_role="decider")
    assert relation_errors(cast, people.boss, stranger, "influences") == {
        "to_contact": ["Both persons must be contacts of the same customer."]
    }


def test_a_person_who_left_gets_no_new_relations(people, cast):
    contact_mark_left(actor=cast.alice.user, contact=people.engineer, left_on=date(2026, 10, 1))
    people.engineer.refresh_from_db()
    assert relation_errors(cast, people.engineer, people.boss, "influences") == {
        "from_contact": ["王工 has left the customer."]
    }


def test_only_someone_who_may_change_the_customer_records_relations(people, cast):
    with pytest.raises(Http404):
        contact_relation_add(
            actor=cast.bob.user, from_contact=people.boss, to_contact=people.engineer, kind="influences"
        )
    with pytest.raises(PermissionDenied):
        contact_relation_add(
            actor=cast.grace.user, from_contact=people.boss, to_contact=people.engineer, kind="influences"
        )


def test_removing_a_relation_is_audited_with_the_link_as_it_was(people, cast):
    relation = ContactRelation.objects.get(from_contact=people.engineer)
    contact_relation_remove(actor=cast.alice.user, relation=relation)
    assert not ContactRelation.objects.filter(pk=relation.pk).exists()
    event = AuditEvent.objects.get(target_type="customers.contactrelation", action=AuditAction.DELETE)
    assert event.before["from_contact"] == people.engineer.pk


def test_deleting_a_contact_takes_its_relations_with_it(people, cast):
    contact_delete(actor=cast.alice.user, contact=people.deputy)
    assert not ContactRelation.objects.exists()


# --- counterparts -------------------------------------------------------------------------------
def test_the_owner_or_a_supervisor_above_can_be_the_counterpart(people, cast):
    contact_set_counterpart(actor=cast.alice.user, contact=people.boss, counterpart=cast.carol)
    people.boss.refresh_from_db()
    assert people.boss.counterpart == cast.carol
    event = AuditEvent.objects.filter(target_type="customers.contact", target_id=people.boss.pk).latest("id")
    assert (event.before, event.after) == ({"counterpart": None}, {"counterpart": cast.carol.pk})
    contact_set_counterpart(actor=cast.alice.user, contact=people.boss, counterpart=None)
    people.boss.refresh_from_db()
    assert people.boss.counterpart is None


@pytest.mark.parametrize("colleague", ["bob", "dave", "ivan"])
def test_a_counterpart_must_be_able_to_see_the_customer(people, cast, colleague):
    with pytest.raises(ValidationError) as info:
        contact_set_counterpart(actor=cast.alice.user, contact=people.boss, counterpart=getattr(cast, colleague))
    assert info.value.message_dict == {
        "counterpart": ["This person cannot see the customer; choose someone who looks after it."]
    }
    people.boss.refresh_from_db()
    assert people.boss.counterpart is None


def test_a_colleague_who_left_cannot_be_a_counterpart(people, cast):
    gone = testing.make_staff("gone", cast.org["440100"], [Role.SUPERVISOR], name="离职主管")
    gone.user.is_active = False
    gone.user.save()
    with pytest.raises(ValidationError) as info:
        contact_set_counterpart(actor=cast.alice.user, contact=people.boss, counterpart=gone)
    assert list(info.value.message_dict) == ["counterpart"]


# --- flags: worked examples ---------------------------------------------------------------------
def at(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, 10, 0))


def meet(cast, contact, day: date, kind="visit"):
    activity = Activity.objects.create(
        kind=kind, subject="拜访", happened_at=at(day), customer=contact.customer, owner=cast.alice
    )
    activity.contacts.add(contact)


def gaps(kind=None):
    rows = KeyPersonGap.objects.order_by("customer_id", "contact_id")
    if kind:
        rows = rows.filter(kind=kind)
    return list(rows.values_list("customer__name", "contact__name", "kind"))


def test_a_decision_maker_met_within_90_days_is_no_gap(people, cast):
    meet(cast, people.boss, TODAY - timedelta(days=90))
    keypersons.refresh(TODAY)
    assert ("广州地铁集团有限公司", "张总", "unmet_decider") not in gaps()
    assert ("广州地铁集团有限公司", None, "no_decider") not in gaps()


def test_a_decision_maker_last_met_91_days_ago_is_not_met(people, cast):
    meet(cast, people.boss, TODAY - timedelta(days=91))
    meet(cast, people.deputy, TODAY - timedelta(days=5))  # meeting his deputy does not count for him
    keypersons.refresh(TODAY)
    row = KeyPersonGap.objects.get(kind=GapKind.UNMET_DECIDER, customer=cast.alice_customer)
    assert (row.contact, timezone.localdate(row.last_met_at), row.computed_on) == (
        people.boss,
        TODAY - timedelta(days=91),
        TODAY,
    )


def test_a_phone_call_is_not_a_meeting(people, cast):
    meet(cast, people.boss, TODAY - timedelta(days=3), kind="call")
    keypersons.refresh(TODAY)
    row = KeyPersonGap.objects.get(kind=GapKind.UNMET_DECIDER, customer=cast.alice_customer)
    assert row.last_met_at is None


def test_customers_without_a_current_decision_maker_are_listed(people, cast):
    person(cast, "钱院长", customer=cast.backed_up, decision_role="decider")
    contact_mark_left(actor=cast.alice.user, contact=people.boss, left_on=date(2026, 11, 1))
    Customer.objects.filter(pk=cast.zhejiang_customer.pk).update(status=LifecycleStatus.CHURNED)
    keypersons.refresh(TODAY)
    # 张总 left, so 广州地铁 has no known decision maker; 越秀区人民医院 has one (never met); 杭州 left us.
    assert gaps(GapKind.NO_DECIDER) == [
        ("广州地铁集团有限公司", None, "no_decider"),
        ("天河软件园管理委员会", None, "no_decider"),
        ("深圳福田银行", None, "no_decider"),
    ]
    assert gaps(GapKind.UNMET_DECIDER) == [("越秀区人民医院", "钱院长", "unmet_decider")]


def test_contact_changes_refresh_their_customers_gaps_at_once(cast):
    keypersons.refresh(TODAY)
    assert ("广州地铁集团有限公司", None, "no_decider") in gaps()
    boss = person(cast, "张总", decision_role="decider")
    assert gaps_of(cast.alice_customer) == [("广州地铁集团有限公司", "张总", "unmet_decider")]
    contact_update(actor=cast.alice.user, contact=boss, decision_role="influencer")
    assert gaps_of(cast.alice_customer) == [("广州地铁集团有限公司", None, "no_decider")]
    assert ("天河软件园管理委员会", None, "no_decider") in gaps()  # other customers untouched


def gaps_of(customer):
    return [row for row in gaps() if row[0] == customer.name]


def test_the_nightly_job_rebuilds_the_gaps(cast):
    from jiketong.customers import jobs

    assert "key-person gaps" in jobs.daily(TODAY)
    assert len(gaps(GapKind.NO_DECIDER)) == 5


def test_an_archive_import_refreshes_the_gaps_of_the_customers_it_gave_contacts(cast, tmp_path):
    from openpyxl import Workbook

    from jiketong.customers.tests.test_imports import run

    keypersons.refresh(TODAY)
    book = Workbook()
    customers = book.active
    customers.title = "客户"
    customers.append(["集团编号", "客户名称", "客户类型", "行业", "归属单位"])
    customers.append([cast.alice_customer.number, cast.alice_customer.name, "企业", "信息技术/互联网", "440106"])
    people = book.create_sheet("联系人")
    people.append(["集团编号", "联系人", "职务", "决策角色"])
    people.append([cast.alice_customer.number, "黄总", "总经理", "决策者"])
    path = tmp_path / "people.xlsx"
    book.save(path)
    run(cast.carol.user, path, match="number")
    assert gaps_of(cast.alice_customer) == [("广州地铁集团有限公司", "黄总", "unmet_decider")]


def test_a_regrade_or_leaving_us_refreshes_the_customers_gaps_at_once(cast, django_capture_on_commit_callbacks):
    from jiketong.customers.models import Grade
    from jiketong.customers.services import customer_set_status, customer_update

    keypersons.refresh(TODAY)
    customer_update(actor=cast.carol.user, customer=cast.alice_customer, grade=Grade.B1, grade_reason="年收入过千万")
    assert list(KeyPersonGap.objects.filter(customer=cast.alice_customer).values_list("grade", flat=True)) == ["B1"]
    with django_capture_on_commit_callbacks(execute=True):
        customer_set_status(
            actor=cast.carol.user, customer=cast.alice_customer, status=LifecycleStatus.CHURNED, reason="离网"
        )
    assert gaps_of(cast.alice_customer) == []  # 离网: nobody to win over there any more
