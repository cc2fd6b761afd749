"""Weights and targets: per unit (the default of its managers) and per manager, versioned, audited, used by the
month they are valid in."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jiketong.assessment import services
from jiketong.assessment.components import default_terms
from jiketong.assessment.compute import month_compute
from jiketong.assessment.models import ManagerScore, ScoreSettings
from jiketong.core.models import AuditEvent

from .conftest import MONTH

pytestmark = pytest.mark.django_db


def only(code: str, target: str = "1.00") -> dict:
    """Terms where one component carries all the weight."""
    terms = {c: {"weight": 0, "target": t["target"]} for c, t in default_terms().items()}
    terms[code] = {"weight": 100, "target": target}
    return terms


def test_a_units_settings_score_its_managers_and_a_managers_own_override_them(november):
    carol = november.carol.user
    services.settings_save(actor=carol, org_unit=november.org["440100"], valid_from=MONTH, terms=only("visits"), cap=1)
    services.settings_save(
        actor=carol, staff=november.alice, valid_from=MONTH, terms=only("follow_up", "0.25"), cap="1.5"
    )
    month_compute(MONTH)
    alice = ManagerScore.objects.get(period=MONTH, staff=november.alice)
    bob = ManagerScore.objects.get(period=MONTH, staff=november.bob)
    assert alice.total == Decimal("150.0")  # follow-ups 1 ÷ 2 = 50% against 25%: 2.0, capped at 1.5
    assert bob.terms["visits"]["weight"] == 100 and bob.terms["cap"] == "1.00"


def test_each_save_is_a_new_audited_version_and_a_stale_form_is_refused(november):
    carol, unit = november.carol.user, november.org["440106"]
    first = services.settings_save(actor=carol, org_unit=unit, valid_from=MONTH, terms=default_terms(), cap="1.2")
    second = services.settings_save(
        actor=carol, org_unit=unit, valid_from=date(2026, 12, 1), terms=only("archive"), cap="1.2", base_version=1
    )
    assert (first.version, second.version) == (1, 2)
    with pytest.raises(ValidationError) as error:
        services.settings_save(actor=carol, org_unit=unit, valid_from=MONTH, terms={}, cap="1.2", base_version=1)
    assert "base_version" in error.value.message_dict
    assert ScoreSettings.objects.filter(org_unit=unit).count() == 2
    events = AuditEvent.objects.filter(target_type="assessment.scoresettings").order_by("at", "id")
    assert [e.after["version"] for e in events] == [1, 2]


def test_a_month_is_scored_with_the_version_valid_in_it(november):
    carol, unit = november.carol.user, november.org["440106"]
    services.settings_save(actor=carol, org_unit=unit, valid_from=MONTH, terms=only("visits"), cap="1.2")
    services.settings_save(actor=carol, org_unit=unit, valid_from=date(2026, 12, 1), terms=only("archive"), cap="1.2")
    month_compute(MONTH)
    assert ManagerScore.objects.get(period=MONTH, staff=november.alice).total == Decimal("50.0")  # visits 2 ÷ 4


def test_every_bad_weight_target_and_cap_is_named_at_once(november):
    terms = default_terms() | {"visits": {"weight": 120, "target": "0"}, "login": {"weight": "x", "target": "-1"}}
    with pytest.raises(ValidationError) as error:
        services.settings_save(
            actor=november.carol.user, org_unit=november.org["440106"], valid_from=MONTH, terms=terms, cap="3"
        )
    assert {"visits_weight", "visits_target", "login_weight", "login_target", "cap"} <= set(error.value.message_dict)


def test_a_supervisor_sets_only_their_own_subtree_and_managers_none(november):
    with pytest.raises(PermissionDenied):
        services.settings_save(
            actor=november.dave.user, staff=november.alice, valid_from=MONTH, terms=default_terms(), cap="1.2"
        )
    with pytest.raises(PermissionDenied):
        services.settings_save(
            actor=november.alice.user, staff=november.alice, valid_from=MONTH, terms=default_terms(), cap="1.2"
        )
