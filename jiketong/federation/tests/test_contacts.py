"""Head-office contacts travel to HQ only when the province marks them shareable: names and titles, never mobiles."""

import json

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client

from jiketong.core.models import AuditEvent
from jiketong.customers.models import Contact
from jiketong.customers.services import contact_update

from .. import client, collect
from ..models import GroupContact, NationalGroup, OutboxRow
from .conftest import MOBILE, PHONE, as_hq, as_province

pytestmark = pytest.mark.django_db
SHARED_MOBILE = "13700002222"


def sync(provinces, code="440000"):
    with as_province(code, token=provinces[code]):
        collect.collect()
        return client.send_due(force=True)


@pytest.fixture
def contacts(national):
    """张总 (the key person with a mobile) stays private; 王秘书 of the head office, mobile too, is marked
    shareable by Alice, the owner; 刘经理 of the 深圳 unit is shareable but not of the head office."""
    head = national.alice_customer
    wang = Contact.objects.create(customer=head, name="王秘书", title="董事会秘书", mobile=SHARED_MOBILE)
    contact_update(actor=national.alice.user, contact=wang, is_shareable=True)
    Contact.objects.create(customer=national.shenzhen_unit, name="刘经理", title="分公司经理", is_shareable=True)
    national.wang = wang
    return national


def test_only_shareable_head_office_contacts_reach_hq_with_name_and_title(contacts, provinces, hq_link):
    sync(provinces)
    group = NationalGroup.objects.get(key=contacts.alice_customer.uscc)
    assert list(GroupContact.objects.filter(group=group).values_list("name", "title", "province")) == [
        ("王秘书", "董事会秘书", "440000")
    ]
    assert AuditEvent.objects.filter(
        target_id=str(contacts.wang.pk), actor=contacts.alice.user, after__is_shareable=True
    ).exists()


def test_no_mobile_nor_a_private_contact_reaches_any_hq_table(contacts, provinces, hq_link):
    sync(provinces)
    sent = json.dumps(list(OutboxRow.objects.values_list("payload", flat=True)), ensure_ascii=False)
    assert "王秘书" in sent
    assert "张总" not in sent and "刘经理" not in sent
    config = apps.get_app_config("federation")
    hq_side = {"OutboxRow", "SyncState", "SharedGroup", "NationalAssignment"}  # the province's own tables
    with connection.cursor() as cursor:
        for model in config.get_models():
            if model.__name__ in hq_side:
                continue
            cursor.execute(f"SELECT * FROM {model._meta.db_table}")  # noqa: S608 - our own table names
            text = json.dumps(cursor.fetchall(), default=str, ensure_ascii=False)
            for secret in (PHONE, MOBILE, SHARED_MOBILE, "张总", "刘经理"):
                assert secret not in text, (model.__name__, secret)


def test_a_contact_no_longer_shareable_is_removed_at_hq(contacts, provinces, hq_link):
    sync(provinces)
    contact_update(actor=contacts.alice.user, contact=contacts.wang, is_shareable=False)
    assert sync(provinces).sent == 1  # its tombstone
    assert not GroupContact.objects.exists()


def test_the_national_group_360_shows_the_shared_contacts(contacts, provinces, hq_link, cast):
    sync(provinces)
    group = NationalGroup.objects.get(key=contacts.alice_customer.uscc)
    browser = Client()
    browser.force_login(cast.erin.user)
    with as_hq():
        page = browser.get(f"/federation/groups/{group.pk}/").content.decode()
    assert "王秘书" in page and "董事会秘书" in page
    assert SHARED_MOBILE not in page and "张总" not in page


def test_the_contact_form_offers_the_shareable_toggle(contacts):
    browser = Client()
    browser.force_login(contacts.alice.user)
    page = browser.get(f"/customers/contacts/{contacts.wang.pk}/edit/").content.decode()
    assert 'name="is_shareable"' in page and "checked" in page
