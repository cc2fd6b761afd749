"""Closing a month freezes its figures; reopening is an audited administrator's action."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jiketong.assessment import queries, services
from jiketong.assessment.models import ManagerScore, UnitScore
from jiketong.core.models import AuditEvent

from .conftest import MONTH, bill

pytestmark = pytest.mark.django_db


def alices_total(user) -> Decimal:
    return queries.manager_scores(user, MONTH).get(staff_id=user.pk).total


def test_a_closed_month_keeps_its_figures_when_recomputed(november):
    services.month_compute(actor=november.frank.user, period=MONTH)
    services.month_close(actor=november.frank.user, period=MONTH)
    before = alices_total(november.alice.user)
    bill(november.c3, MONTH, "90000")  # a late bill would raise Alice's revenue growth and retention
    services.month_compute(actor=november.frank.user, period=MONTH)
    assert alices_total(november.alice.user) == before == Decimal("67.5")
    draft = ManagerScore.objects.get(period=MONTH, staff=november.alice, closed=False)
    assert draft.total > before  # the recomputed draft moved; the closed copy did not


def test_closing_copies_every_manager_and_unit_row(november):
    services.month_compute(actor=november.frank.user, period=MONTH)
    services.month_close(actor=november.frank.user, period=MONTH)
    assert ManagerScore.objects.filter(period=MONTH, closed=True).count() == 3
    assert (
        UnitScore.objects.filter(period=MONTH, closed=True).count()
        == UnitScore.objects.filter(period=MONTH, closed=False).count()
    )
    event = AuditEvent.objects.filter(target_type="assessment.assessmentmonth", action="status").get()
    assert event.after["status"] == "closed" and event.actor == november.frank.user


def test_a_month_is_closed_once_and_only_after_it_was_computed(november):
    with pytest.raises(ValidationError) as error:
        services.month_close(actor=november.frank.user, period=MONTH)
    assert error.value.message_dict == {"period": ["This month has no scorecards yet: compute it first."]}
    services.month_compute(actor=november.frank.user, period=MONTH)
    services.month_close(actor=november.frank.user, period=MONTH)
    with pytest.raises(ValidationError) as again:
        services.month_close(actor=november.frank.user, period=MONTH)
    assert again.value.message_dict == {"period": ["This month is already closed."]}
    assert ManagerScore.objects.filter(period=MONTH, closed=True).count() == 3  # copied once, not twice


def test_a_county_manager_or_city_supervisor_cannot_close_a_month(november):
    services.month_compute(actor=november.frank.user, period=MONTH)
    for person in (november.alice, november.carol):
        with pytest.raises(PermissionDenied):
            services.month_close(actor=person.user, period=MONTH)


def test_only_an_administrator_reopens_with_a_reason_and_the_drafts_show_again(november):
    services.month_compute(actor=november.frank.user, period=MONTH)
    services.month_close(actor=november.frank.user, period=MONTH)
    with pytest.raises(PermissionDenied):
        services.month_reopen(actor=november.carol.user, period=MONTH, reason="更正")
    with pytest.raises(ValidationError) as error:
        services.month_reopen(actor=november.frank.user, period=MONTH, reason=" ")
    assert error.value.message_dict == {"reason": ["Say why the month is reopened."]}
    assert queries.is_closed(MONTH)
    bill(november.c3, MONTH, "90000")
    services.month_reopen(actor=november.frank.user, period=MONTH, reason="账单补录")
    services.month_compute(actor=november.frank.user, period=MONTH)
    assert not queries.is_closed(MONTH)
    assert alices_total(november.alice.user) > Decimal("67.5")
    assert not ManagerScore.objects.filter(period=MONTH, closed=True).exists()
    event = AuditEvent.objects.filter(target_type="assessment.assessmentmonth", action="status").first()
    assert event.note == "账单补录" and event.before["status"] == "closed"
