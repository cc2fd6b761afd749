"""core.access: the kernel asks the one app that names its access module (org) who holds a role."""

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from jiketong.core import access


@pytest.mark.django_db
def test_the_kernel_learns_who_holds_a_role_from_org(cast):
    assert access.can(cast.frank.user, {access.ADMIN})
    assert not access.can(cast.alice.user, {access.ADMIN})
    assert access.can(cast.grace.user, {access.AUDITOR, access.ADMIN})
    assert set(access.holders([access.ADMIN])) == {cast.frank.user.pk}


@pytest.mark.django_db
def test_a_person_is_named_by_staff_name_and_unit(cast):
    assert access.person_text(cast.alice.user) == f"{cast.alice.name} ({cast.alice.org_unit.name})"
    assert access.person_text(cast.alice.user, unit=False) == cast.alice.name


def test_exactly_one_app_must_answer(monkeypatch):
    access.rules.cache_clear()
    org = apps.get_app_config("org")
    monkeypatch.setattr(access.apps, "get_app_configs", lambda: [apps.get_app_config("core")])
    with pytest.raises(ImproperlyConfigured):
        access.rules()
    monkeypatch.setattr(access.apps, "get_app_configs", lambda: [org, org])
    with pytest.raises(ImproperlyConfigured):
        access.rules()
    monkeypatch.undo()
    access.rules.cache_clear()
    assert access.rules().__name__ == "jiketong.org.access"
