"""HQ → provinces: national account assignments and national targets, applied by the province's services."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from jiketong.analytics.models import Target
from jiketong.core.models import AuditEvent

from .. import client, services
from ..models import NationalAssignment, NationalGroup, SharedGroup, SyncState
from .conftest import as_hq, as_province, hq_call

pytestmark = pytest.mark.django_db


def test_an_assignment_reaches_every_province_shares_the_group_and_is_audited(cast, provinces, hq_link):
    head = cast.alice_customer
    group = NationalGroup.objects.create(key=head.uscc, uscc=head.uscc, name=head.name)
    with as_hq():
        services.account_assign(
            actor=cast.erin.user, group=group, lead_province="440000", manager_name="刘建国", team=["陈静", "周伟"]
        )
    with as_province(token=provinces["440000"]):
        assert client.pull_directives() == 1
        assert client.pull_directives() == 0  # the cursor moved
    assignment = NationalAssignment.objects.get(group_key=head.uscc)
    assert assignment.customer == head and assignment.manager_name == "刘建国" and assignment.team == ["陈静", "周伟"]
    assert SharedGroup.objects.filter(customer=head, reason="hq").exists()
    assert AuditEvent.objects.filter(target_id=str(assignment.pk), actor__username="hq-federation").exists()
    assert SyncState.objects.get().directives_through > 0


def test_a_national_target_is_set_on_the_province_through_the_targets_service(cast, provinces, hq_link):
    with as_hq():
        services.target_set(
            actor=cast.erin.user,
            province="440000",
            indicator="revenue",
            period_type="month",
            period=date(2026, 6, 1),
            value=Decimal("5000000"),
        )
        services.target_set(
            actor=cast.erin.user,
            province="330000",
            indicator="revenue",
            period_type="month",
            period=date(2026, 6, 1),
            value=Decimal("1"),
        )
    with as_province(token=provinces["440000"]):
        client.pull_directives()
    target = Target.objects.get()
    assert target.org_unit.code == "440000" and target.value == Decimal("5000000")  # Zhejiang's is not ours
    assert AuditEvent.objects.filter(target_id=str(target.pk), actor__username="hq-federation").exists()


def test_only_hq_analysts_and_admins_set_directives(cast, provinces):
    group = NationalGroup.objects.create(key="K", name="某集团")
    with pytest.raises(PermissionDenied):
        services.account_assign(actor=cast.alice.user, group=group, lead_province="440000", manager_name="某人")


def test_a_province_reads_only_its_own_and_everyones_directives(cast, provinces):
    with as_hq():
        services.target_set(
            actor=cast.erin.user,
            province="330000",
            indicator="revenue",
            period_type="year",
            period=date(2026, 1, 1),
            value=Decimal("9"),
        )
    body = hq_call(provinces["440000"], "GET", "directives?after=0").json()
    assert body["count"] == 0 and body["items"] == []
    assert hq_call(provinces["330000"], "GET", "directives?after=0").json()["count"] == 1
