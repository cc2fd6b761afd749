"""Decision 0803: the board's rows and the units of the rolled-up sets carry a copy of their customer's org unit, so
a subtree reader's scope is a condition on the kept row itself (its index) and a province's capped count or page
never joins every customer. The copy is written by every rebuild, and follows a customer that moves."""

import pytest

from jiketong.customers.models import CompetitorPresence
from jiketong.customers.services import customer_update
from jiketong.defence import grouprisk, queries, services
from jiketong.defence.models import GroupRisk, GroupRiskUnit, Threat

from .test_grouprisk import TODAY, group  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept(group):  # noqa: F811
    """The group of test_grouprisk with its board rows kept (the Guangzhou unit is under a high threat)."""
    services.threats_refresh(today=TODAY)
    return group


def _sql(queryset) -> str:
    return str(queryset.query)


def test_a_subtree_readers_board_and_sets_are_read_without_the_customers(kept):
    group = kept  # noqa: F811
    carol, frank = group.carol.user, group.frank.user
    threats = Threat.objects.visible_to(carol)
    sets = GroupRisk.objects.visible_to(carol)
    assert "customers_customer" not in _sql(threats) and "customers_customer" not in _sql(sets)
    assert set(threats.values_list("customer_id", flat=True)) == {group.gz_unit.pk}
    assert sets.count() == 1 and GroupRisk.objects.visible_to(frank).count() == 1
    # A manager's portfolio is still read through the customer's owners: Bob owns the Guangzhou unit.
    assert list(Threat.objects.visible_to(group.bob.user).values_list("customer_id", flat=True)) == [group.gz_unit.pk]
    assert not Threat.objects.visible_to(group.alice.user).exists()


def test_every_rebuild_copies_the_customers_unit(kept):
    Threat.objects.update(org_unit=None)
    GroupRiskUnit.objects.update(org_unit=None)
    services.threats_refresh(today=TODAY)
    grouprisk.refresh(today=TODAY)
    for row in [*Threat.objects.select_related("customer"), *GroupRiskUnit.objects.select_related("customer")]:
        assert row.org_unit_id == row.customer.org_unit_id


def test_a_customer_that_moves_takes_its_rows_out_of_the_old_subtree(kept, django_capture_on_commit_callbacks):
    group = kept  # noqa: F811
    carol, dave = group.carol.user, group.dave.user
    assert Threat.objects.visible_to(carol).filter(customer=group.gz_unit).exists()
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(actor=group.frank.user, customer=group.gz_unit, org_unit=group.org["330106"])
    assert not Threat.objects.visible_to(carol).filter(customer=group.gz_unit).exists()
    assert Threat.objects.visible_to(dave).filter(customer=group.gz_unit).exists()
    assert set(GroupRiskUnit.objects.filter(customer=group.gz_unit).values_list("org_unit_id", flat=True)) == {
        group.org["330106"].pk
    }
    # 广州's board no longer lists it; the group is still Carol's (its head is in 天河区).
    _filter, board = queries.board(carol)
    assert group.gz_unit.pk not in {t.customer_id for t in board}
    assert GroupRisk.objects.visible_to(carol).count() == 1


def test_a_row_created_by_hand_copies_its_customers_unit(cast):
    CompetitorPresence.objects.create(customer=cast.alice_customer, competitor="china_telecom", threat="high")
    row = Threat.objects.create(customer=cast.alice_customer, level="high", competitor="china_telecom")
    assert row.org_unit_id == cast.alice_customer.org_unit_id
    assert Threat.objects.visible_to(cast.carol.user).filter(pk=row.pk).exists()
    assert not Threat.objects.visible_to(cast.dave.user).filter(pk=row.pk).exists()
