"""No lost updates (core.concurrency): two people editing the same record, in the UI and through the API.

One table drives every test: for each edited kind of record, how to make one, its edit page, its API path
and a text field to change. Alice (the owner) and Carol (her city supervisor) both open the record; Carol
saves first; Alice's save is refused with Carol's change shown, and saving again goes through.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.forms import BaseForm, CheckboxInput
from django.urls import reverse

from jiketong.api.tests.conftest import API, ApiClient
from jiketong.core.concurrency import StaleEdit, VersionedModel, bump, check_version, etag, expected_from_if_match
from jiketong.core.models import AuditEvent
from jiketong.customers import services as customer_services
from jiketong.customers.models import Contact, Customer, Industry
from jiketong.deals import services as deal_services
from jiketong.org.services import token_issue
from jiketong.sales import services as sales_services
from jiketong.service.tests.factories import receive

pytestmark = pytest.mark.django_db


def _contact(cast):
    return customer_services.contact_create(
        actor=cast.alice.user, customer=cast.alice_customer, name="张建国", title="信息部经理", mobile="13912345678"
    )


def _lead(cast):
    industry = Industry.objects.get(code="it")
    return sales_services.lead_create(
        actor=cast.alice.user, confirm_duplicates=True, source="visit", name="示例科技有限公司", industry=industry
    )


def _opportunity(cast):
    return sales_services.opportunity_create(
        actor=cast.alice.user, customer=cast.alice_customer, name="专线升级", expected_close=date(2026, 12, 15)
    )


def _quote(cast):
    return deal_services.quote_create(actor=cast.alice.user, customer=cast.alice_customer, title="测试报价")


def _contract(cast):
    return deal_services.contract_create(
        actor=cast.alice.user,
        customer=cast.alice_customer,
        start_on=date(2026, 1, 1),
        end_on=date(2026, 12, 31),
        value=Decimal("12000.00"),
    )


@dataclass(frozen=True)
class Kind:
    name: str
    make: object  # cast → record
    edit: object  # record → edit page URL
    api: object  # record → API path
    field: str  # a text field both the form and the PATCH body name

    def __str__(self) -> str:
        return self.name


KINDS = [
    Kind("customer", lambda c: c.alice_customer, lambda r: reverse("customers:edit", args=[r.pk]),
         lambda r: f"/customers/{r.pk}", "note"),
    Kind("contact", _contact, lambda r: reverse("customers:contact_edit", args=[r.pk]),
         lambda r: f"/customers/{r.customer_id}/contacts/{r.pk}", "notes"),
    Kind("lead", _lead, lambda r: reverse("sales:lead_edit", args=[r.pk]), lambda r: f"/leads/{r.pk}", "need"),
    Kind("opportunity", _opportunity, lambda r: reverse("sales:opportunity_edit", args=[r.pk]),
         lambda r: f"/opportunities/{r.pk}", "note"),
    Kind("quote", _quote, lambda r: reverse("deals:quote_edit", args=[r.pk]), lambda r: f"/quotes/{r.pk}", "note"),
    Kind("contract", _contract, lambda r: reverse("deals:contract_edit", args=[r.pk]),
         lambda r: f"/contracts/{r.pk}", "renewal_terms"),
    Kind("ticket", lambda c: receive(c.alice, c.alice_customer), lambda r: reverse("service:ticket_edit", args=[r.pk]),
         lambda r: f"/tickets/{r.pk}", "description"),
]  # fmt: skip


def fresh(record):
    return type(record)._base_manager.get(pk=record.pk)


def posted(response) -> dict:
    """What the browser would send back: every field of the page's form (and formsets) as it is shown."""
    data: dict = {}
    for name in ("form", "dates"):
        try:
            item = response.context[name]
        except KeyError:
            continue
        forms = [item] if isinstance(item, BaseForm) else [item.management_form, *item.forms]
        for form in forms:
            for bound in form:
                if bound.field.disabled:
                    continue
                value = bound.value()
                if isinstance(bound.field.widget, CheckboxInput):
                    if value:
                        data[bound.html_name] = "on"
                    continue
                if value is None:
                    value = ""
                elif hasattr(value, "isoformat"):
                    value = value.isoformat()
                data[bound.html_name] = value
    return data


def errors_on_page(response) -> list[str]:
    return [str(e) for e in response.context["form"].non_field_errors()]


# --- the UI ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_a_stale_save_is_refused_with_the_other_change_and_a_second_save_overwrites(cast, client_as, kind):
    record = kind.make(cast)
    alice, carol = client_as(cast.alice), client_as(cast.carol)
    alice_page, carol_page = alice.get(kind.edit(record)), carol.get(kind.edit(record))
    assert alice_page.status_code == carol_page.status_code == 200

    saved = carol.post(kind.edit(record), posted(carol_page) | {kind.field: "陈静改的内容"})
    assert saved.status_code == 302, errors_on_page(saved)
    assert getattr(fresh(record), kind.field) == "陈静改的内容"

    refused = alice.post(kind.edit(record), posted(alice_page) | {kind.field: "李晓红填的内容"})
    assert refused.status_code in (200, 400)
    assert getattr(fresh(record), kind.field) == "陈静改的内容", "the stale save was written"
    shown = " ".join(errors_on_page(refused))
    assert "陈静" in shown and "陈静改的内容" in shown and "李晓红填的内容" in shown
    assert "在您编辑期间" in shown
    # Her typing is kept, and the page now carries the current version.
    again = posted(refused)
    assert again[kind.field] == "李晓红填的内容"
    assert int(again["row_version"]) == fresh(record).row_version

    overwritten = alice.post(kind.edit(record), again)
    assert overwritten.status_code == 302, errors_on_page(overwritten)
    assert getattr(fresh(record), kind.field) == "李晓红填的内容"


@pytest.mark.parametrize("kind", KINDS[:2], ids=str)
def test_a_page_without_the_version_saves_as_before(cast, client_as, kind):
    """A page opened before versions existed posts no version: it saves, unchecked."""
    record = kind.make(cast)
    alice = client_as(cast.alice)
    data = posted(alice.get(kind.edit(record)))
    del data["row_version"], data["row_read_at"]
    customer_services.customer_update(actor=cast.carol.user, customer=cast.alice_customer, note="别人改过")
    assert alice.post(kind.edit(record), data | {kind.field: "照样保存"}).status_code == 302
    assert getattr(fresh(record), kind.field) == "照样保存"


def test_the_refusal_names_only_the_fields_the_other_person_changed(cast, client_as):
    alice = client_as(cast.alice)
    page = alice.get(reverse("customers:edit", args=[cast.alice_customer.pk]))
    customer_services.customer_update(actor=cast.carol.user, customer=cast.alice_customer, address="天河路1号")
    refused = alice.post(page.request["PATH_INFO"], posted(page) | {"note": "我的备注"})
    shown = errors_on_page(refused)
    assert any("天河路1号" in line for line in shown)
    assert not any("我的备注" in line for line in shown), "her own change is not theirs"


# --- the API ---------------------------------------------------------------------------------------
@pytest.fixture
def api(cast):
    return {who: ApiClient(token_issue(user=getattr(cast, who).user)) for who in ("alice", "carol")}


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_the_api_answers_an_etag_and_refuses_a_stale_if_match_with_412(cast, api, kind):
    record = kind.make(cast)
    path = API + kind.api(record)
    read = api["alice"].get(path)
    assert read.status_code == 200
    assert read["ETag"] == f'W/"{fresh(record).row_version}"' == etag(fresh(record))
    assert read.json()["row_version"] == fresh(record).row_version

    changed = api["carol"].patch(path, {kind.field: "陈静改的内容"}, content_type="application/json")
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] != read["ETag"]
    audit_rows = AuditEvent.objects.count()

    stale = api["alice"].patch(
        path, {kind.field: "李晓红填的内容"}, content_type="application/json", HTTP_IF_MATCH=read["ETag"]
    )
    assert stale.status_code == 412
    assert set(stale.json()) == {"detail", "errors"} and stale.json()["errors"] == {}
    assert stale["ETag"] == changed["ETag"]
    assert getattr(fresh(record), kind.field) == "陈静改的内容", "nothing is written"
    assert AuditEvent.objects.count() == audit_rows

    fresh_tag = api["alice"].get(path)["ETag"]
    done = api["alice"].patch(
        path, {kind.field: "李晓红填的内容"}, content_type="application/json", HTTP_IF_MATCH=fresh_tag
    )
    assert done.status_code == 200, done.content
    assert getattr(fresh(record), kind.field) == "李晓红填的内容"
    assert done["ETag"] == etag(fresh(record))


def test_the_strong_form_of_the_current_tag_matches_too(cast, api):
    path = f"{API}/customers/{cast.alice_customer.pk}"
    tag = f'"{fresh(cast.alice_customer).row_version}"'
    assert (
        api["alice"].patch(path, {"note": "x"}, content_type="application/json", HTTP_IF_MATCH=tag).status_code == 200
    )


@pytest.mark.parametrize("header", ["W/1", "abc", 'W/"999"', '"0"'])
def test_an_if_match_naming_no_current_version_answers_412(cast, api, header):
    path = f"{API}/customers/{cast.alice_customer.pk}"
    answer = api["alice"].patch(path, {"note": "x"}, content_type="application/json", HTTP_IF_MATCH=header)
    assert answer.status_code == 412
    assert fresh(cast.alice_customer).note != "x"


def test_without_if_match_a_patch_applies_as_before(cast, api):
    path = f"{API}/customers/{cast.alice_customer.pk}"
    assert api["alice"].patch(path, {"note": "无条件"}, content_type="application/json").status_code == 200
    assert (
        api["alice"].patch(path, {"note": "*"}, content_type="application/json", HTTP_IF_MATCH="*").status_code == 200
    )


def test_a_stale_if_match_on_delete_keeps_the_contact(cast, api):
    contact = _contact(cast)
    path = f"{API}/customers/{cast.alice_customer.pk}/contacts/{contact.pk}"
    tag = api["alice"].get(path)["ETag"]
    customer_services.contact_update(actor=cast.carol.user, contact=contact, notes="刚改过")
    assert api["alice"].delete(path, HTTP_IF_MATCH=tag).status_code == 412
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert api["alice"].delete(path, HTTP_IF_MATCH=api["alice"].get(path)["ETag"]).status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_the_published_schema_documents_if_match_and_412_on_the_patches():
    from jiketong.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1/")
    patched = [(path, op) for path, ops in schema["paths"].items() for method, op in ops.items() if method == "patch"]
    versioned = [op for path, op in patched if any(p["name"] == "If-Match" for p in op.get("parameters", []))]
    assert len(versioned) == 9, [path for path, _op in patched]
    assert all("412" in op["responses"] for op in versioned)


# --- the version itself ----------------------------------------------------------------------------
def test_every_write_moves_the_version_on_in_the_same_update(cast):
    customer = fresh(cast.alice_customer)
    start = customer.row_version
    customer_services.customer_set_status(actor=None, customer=customer, status="warning", reason="测试")
    assert fresh(customer).row_version == start + 1
    Customer.objects.filter(pk=customer.pk).update(note="批量", **bump())
    assert fresh(customer).row_version == start + 2
    customer = fresh(customer)
    customer.note = "再改"
    customer.save(update_fields=["note"])
    assert customer.row_version == fresh(customer).row_version == start + 3


def test_an_instance_read_before_another_write_never_claims_a_newer_version_than_stored(cast):
    customer = fresh(cast.alice_customer)
    Customer.objects.filter(pk=customer.pk).update(**bump())  # a write the instance did not see
    customer.note = "盲写"
    customer.save(update_fields=["note"])
    assert customer.row_version < fresh(customer).row_version  # so a check against it refuses, never passes


def test_a_failed_save_leaves_the_version_as_it_was(cast):
    customer = fresh(cast.alice_customer)
    read = customer.row_version
    customer.name = None  # NOT NULL
    with pytest.raises(IntegrityError):
        customer.save(update_fields=["name"])
    assert customer.row_version == read


def test_a_handover_moves_the_versions_of_what_it_moves(cast):
    from jiketong.work.services import handover

    moved = [
        cast.bob_customer,
        receive(cast.bob, cast.bob_customer),
        sales_services.opportunity_create(
            actor=cast.bob.user, customer=cast.bob_customer, name="云专线", expected_close=date(2026, 12, 15)
        ),
    ]
    before = [fresh(record).row_version for record in moved]
    handover(cast.carol.user, old_owner=cast.bob, new_owner=cast.alice, disable_account=False)
    assert [fresh(record).row_version for record in moved] == [version + 1 for version in before]


def test_the_service_check_refuses_an_older_version(cast):
    customer = fresh(cast.alice_customer)
    check_version(customer, None)
    check_version(customer, customer.row_version)
    with pytest.raises(StaleEdit) as refused:
        check_version(customer, customer.row_version - 1)
    assert refused.value.current == customer.row_version and refused.value.code == "stale"
    with pytest.raises(StaleEdit):
        customer_services.customer_update(
            actor=cast.alice.user, customer=customer, note="x", expected_version=customer.row_version + 1
        )


def test_if_match_headers_are_read_leniently_and_refuse_what_they_cannot_name():
    assert expected_from_if_match(None) is None
    assert expected_from_if_match(" * ") is None
    assert expected_from_if_match('W/"7"') == expected_from_if_match('"7"') == 7
    assert expected_from_if_match("7") == 0
    assert expected_from_if_match('"7", "8"') == 0


def test_the_models_people_edit_in_forms_are_versioned():
    from django.apps import apps

    versioned = sorted(m._meta.label for m in apps.get_models() if issubclass(m, VersionedModel))
    assert versioned == [
        "analytics.Target",
        "billing.ClubBenefit",
        "catalog.SolutionPackage",
        "customers.Contact",
        "customers.Customer",
        "deals.Contract",
        "deals.Quote",
        "org.Staff",
        "sales.Lead",
        "sales.Opportunity",
        "service.Ticket",
    ]


def test_an_archive_import_that_changes_a_customer_moves_its_version(cast, tmp_path, settings):
    from jiketong.customers.tests.test_imports import run, write

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    before = fresh(cast.alice_customer).row_version
    path = write(tmp_path, [[cast.alice_customer.uscc, "", "", "", "", "B1", "在网", "", "", ""]])
    assert run(cast.carol.user, path).counts["updated"] == 1
    assert fresh(cast.alice_customer).row_version == before + 1
