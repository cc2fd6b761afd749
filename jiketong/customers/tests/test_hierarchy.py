"""Group hierarchy: member units across provinces, roll-up counts that never name hidden units, moves."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from jiketong import testing
from jiketong.core.models import AuditEvent
from jiketong.customers.models import Customer
from jiketong.customers.queries import customer_hierarchy
from jiketong.customers.services import customer_update


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def group(cast):
    """中国测试集团: HQ in 天河 (Alice) with a unit in 天河 (Alice), one in 西湖 (Zhejiang, nobody's),
    and under that one a sub-unit in 福田 (Ivan)."""
    org = cast.org
    g = cast
    g.hq = testing.make_customer(org_unit=org["440106"], owner=cast.alice, name="中国测试集团有限公司")
    g.tianhe = testing.make_customer(org_unit=org["440106"], owner=cast.alice, parent=g.hq, name="测试集团天河分公司")
    g.xihu = testing.make_customer(org_unit=org["330106"], parent=g.hq, name="测试集团杭州分公司")
    g.futian = testing.make_customer(org_unit=org["440304"], owner=cast.ivan, parent=g.xihu, name="测试集团深圳办")
    return g


def fresh(customer):
    return Customer.objects.get(pk=customer.pk)


def parent_of(customer):
    return Customer.objects.get_parent(fresh(customer))


def test_children_sit_under_their_parent(group):
    assert parent_of(group.tianhe) == group.hq
    assert parent_of(group.futian) == group.xihu
    assert {c.pk for c in Customer.objects.get_descendants(fresh(group.hq))} == {
        group.tianhe.pk,
        group.xihu.pk,
        group.futian.pk,
    }


def test_rollup_counts_the_whole_group_across_provinces(group):
    h = customer_hierarchy(group.erin.user, fresh(group.hq))
    assert (h.unit_count, h.province_count, h.hidden_children) == (3, 2, 0)
    assert [c.name for c in h.children] == sorted([group.tianhe.name, group.xihu.name])


def test_hidden_units_are_counted_but_never_named(group):
    h = customer_hierarchy(group.alice.user, fresh(group.hq))
    assert (h.unit_count, h.province_count) == (3, 2)
    assert [c.name for c in h.children] == [group.tianhe.name]
    assert h.hidden_children == 1
    assert group.xihu.name not in repr(h)


def test_hidden_parent_is_flagged_not_shown(group):
    h = customer_hierarchy(group.ivan.user, fresh(group.futian))
    assert h.parent is None and h.parent_hidden is True
    visible = customer_hierarchy(group.erin.user, fresh(group.futian))
    assert visible.parent == group.xihu and visible.parent_hidden is False


def test_leaf_has_no_units(group):
    h = customer_hierarchy(group.alice.user, fresh(group.tianhe))
    assert (h.unit_count, h.hidden_children, h.children) == (0, 0, [])
    assert h.province_count == 1


def test_customer_cannot_move_under_its_own_unit(group):
    with pytest.raises(ValidationError) as info:
        customer_update(actor=group.frank.user, customer=group.hq, parent=fresh(group.futian))
    assert info.value.message_dict == {"parent": ["A customer cannot be placed under itself or one of its own units."]}
    assert fresh(group.hq).is_root()


def test_customer_cannot_move_under_itself(group):
    with pytest.raises(ValidationError):
        customer_update(actor=group.frank.user, customer=group.xihu, parent=fresh(group.xihu))


def test_moving_a_unit_takes_its_subtree_and_is_audited(group):
    customer_update(actor=group.frank.user, customer=group.xihu, parent=fresh(group.tianhe))
    assert parent_of(parent_of(group.futian)) == group.tianhe
    assert customer_hierarchy(group.erin.user, fresh(group.tianhe)).unit_count == 2
    event = AuditEvent.objects.get(customer_id=group.xihu.pk, action="update")
    assert (event.actor, event.before, event.after) == (
        group.frank.user,
        {"parent": group.hq.pk},
        {"parent": group.tianhe.pk},
    )


def test_unit_can_become_its_own_group(group):
    customer_update(actor=group.frank.user, customer=group.xihu, parent=None)
    assert fresh(group.xihu).is_root()
    assert parent_of(group.futian) == group.xihu
    assert customer_hierarchy(group.erin.user, fresh(group.hq)).unit_count == 1
