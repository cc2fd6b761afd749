"""The discount approval policy's one write path (also how HQ's discount rules are applied in a province)."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jiketong.core.models import AuditEvent
from jiketong.deals.models import DiscountPolicy
from jiketong.deals.services import discount_policy_save, policies

pytestmark = pytest.mark.django_db


def test_an_admin_sets_a_categorys_limits_audited_and_saving_the_same_again_audits_nothing(cast):
    policy = discount_policy_save(
        actor=cast.frank.user,
        category="voice",
        manager_max=Decimal("3"),
        city_max=Decimal("8"),
        province_max=Decimal("20"),
    )
    assert policies()["voice"].level_for(Decimal("9")) == "province"
    events = AuditEvent.objects.filter(target_id=str(policy.pk), target_type__icontains="discount")
    assert events.count() == 1
    discount_policy_save(
        actor=cast.frank.user,
        category="voice",
        manager_max=Decimal("3"),
        city_max=Decimal("8"),
        province_max=Decimal("20"),
    )
    assert events.count() == 1 and DiscountPolicy.objects.filter(category="voice").count() == 1


def test_levels_out_of_order_are_refused(cast):
    with pytest.raises(ValidationError):
        discount_policy_save(
            actor=cast.frank.user,
            category="",
            manager_max=Decimal("20"),
            city_max=Decimal("10"),
            province_max=Decimal("30"),
        )


def test_a_supervisor_cannot_change_the_policy(cast):
    with pytest.raises(PermissionDenied):
        discount_policy_save(
            actor=cast.carol.user,
            category="",
            manager_max=Decimal("1"),
            city_max=Decimal("2"),
            province_max=Decimal("3"),
        )
