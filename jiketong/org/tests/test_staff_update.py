"""Changing a colleague's record: an administrator cannot take their own administrator role away."""

import pytest
from django.core.exceptions import ValidationError

from jiketong import testing
from jiketong.org.models import Role, Staff
from jiketong.org.services import staff_update

pytestmark = pytest.mark.django_db


def test_an_admin_cannot_remove_their_own_admin_role(cast):
    with pytest.raises(ValidationError) as info:
        staff_update(actor=cast.frank.user, staff=cast.frank, roles=[Role.SUPERVISOR])
    assert info.value.message_dict == {
        "roles": ["You cannot remove your own administrator role: ask another administrator to do it."]
    }
    assert Staff.objects.get(pk=cast.frank.pk).role_codes == {Role.ADMIN}


def test_an_admin_may_change_their_own_other_roles_and_details(cast):
    staff_update(actor=cast.frank.user, staff=cast.frank, roles=[Role.ADMIN, Role.SUPERVISOR], name="吴刚刚")
    frank = Staff.objects.get(pk=cast.frank.pk)
    assert frank.role_codes == {Role.ADMIN, Role.SUPERVISOR} and frank.name == "吴刚刚"


def test_another_admin_may_remove_an_admins_role(cast):
    other = testing.make_staff("olga", cast.org["440000"], [Role.ADMIN], name="欧阳")
    staff_update(actor=other.user, staff=cast.frank, roles=[Role.SUPERVISOR])
    assert Staff.objects.get(pk=cast.frank.pk).role_codes == {Role.SUPERVISOR}


def test_the_api_refuses_it_on_the_roles_field(cast):
    from jiketong.api.tests.conftest import API, ApiClient
    from jiketong.org.services import token_issue

    client = ApiClient(token_issue(user=cast.frank.user))
    answer = client.patch(f"{API}/staff/{cast.frank.pk}", {"roles": ["supervisor"]}, content_type="application/json")
    assert answer.status_code == 400
    assert "roles" in answer.json()["errors"]
