"""Personal data in the audit trail: every model declares its personal fields, the trail stores them masked by
the one masking rule, and every reader (audit log, 360 history, API, export) sees them masked, whatever the role."""

import json
from datetime import date
from io import BytesIO

import pytest
from django.apps import apps
from django.urls import reverse
from openpyxl import load_workbook

from jiketong.api.tests.conftest import ApiClient
from jiketong.core.masking import mask_audit_values
from jiketong.core.models import AuditAction, AuditEvent
from jiketong.core.validators import mask_personal
from jiketong.customers import services as customer_services
from jiketong.customers.models import Industry
from jiketong.org import services as org_services
from jiketong.org.services import token_issue
from jiketong.sales import services as sales_services

pytestmark = pytest.mark.django_db

LEAD_MOBILE = "13912345678"
CONTACT_MOBILE = "13820001234"
CONTACT_EMAIL = "zhang.jianguo@gzmtr.example.cn"
BIRTHDAY = date(1975, 5, 4)
MEMBER_PHONE = "13700005555"
STAFF_MOBILE = "13600006666"
CLEAR = [LEAD_MOBILE, CONTACT_MOBILE, CONTACT_EMAIL, BIRTHDAY.isoformat(), MEMBER_PHONE, STAFF_MOBILE]
# The names a model's field gets when it holds personal data: each such field must be declared.
PERSONAL_NAMES = ("mobile", "phone", "email", "birthday", "id_number", "id_card")


def make_lead(cast, **fields):
    values = {"source": "visit", "name": "示例科技有限公司", "industry": Industry.objects.get(code="it")} | fields
    return sales_services.lead_create(actor=cast.alice.user, confirm_duplicates=True, **values)


def personal_data_everywhere(cast):
    """A lead, a contact (created, changed, deleted), members and a staff member, each with personal data."""
    make_lead(cast, contact_name="王经理", contact_mobile=LEAD_MOBILE)
    sales_services.leads_import(
        actor=cast.carol.user,
        rows=[{"name": "导入科技有限公司", "contact_mobile": "13912340000", "org_unit": "440106"}],
        all_or_nothing=True,
    )
    contact = customer_services.contact_create(
        actor=cast.alice.user,
        customer=cast.alice_customer,
        name="张建国",
        mobile=CONTACT_MOBILE,
        email=CONTACT_EMAIL,
        birthday=BIRTHDAY,
        dates=[("入职纪念日", date(2001, 3, 8))],
    )
    customer_services.contact_update(actor=cast.alice.user, contact=contact, mobile="13820009999")
    customer_services.contact_delete(actor=cast.alice.user, contact=contact)
    member = customer_services.member_add(
        actor=cast.alice.user, customer=cast.alice_customer, phone=MEMBER_PHONE, joined_on=date(2024, 1, 1)
    )
    customer_services.member_update(actor=cast.alice.user, member=member, phone="13700006666")
    customer_services.members_bulk_remove(
        actor=cast.alice.user, customer=cast.alice_customer, phones=["13700006666"], left_on=date(2024, 6, 30)
    )
    org_services.staff_create(
        actor=cast.frank.user,
        username="xiaoming",
        password="Jkt-new-2026!",
        name="小明",
        org_unit=cast.org["440106"],
        roles=["customer_manager"],
        mobile=STAFF_MOBILE,
    )


def assert_no_clear_value(text: str) -> None:
    for value in [*CLEAR, "13912340000", "13820009999", "13700006666", "2001-03-08"]:
        assert value not in text, value


# --- the declaration ------------------------------------------------------------------------------------
def test_every_personal_field_of_every_model_is_declared():
    undeclared = []
    for model in apps.get_models():
        if not model.__module__.startswith("jiketong."):
            continue
        declared = set(getattr(model, "PERSONAL_FIELDS", ()))
        for field in model._meta.concrete_fields:
            named = any(name in field.name for name in PERSONAL_NAMES)
            textual = field.get_internal_type() in ("CharField", "EmailField", "DateField", "TextField")
            if named and textual and field.name not in declared:
                undeclared.append(f"{model._meta.label}.{field.name}")
    assert undeclared == []


def test_the_one_masking_rule_masks_mobiles_emails_dates_and_lists():
    assert mask_personal("13912345678") == "139****5678"
    assert mask_personal("zhang@example.cn") == "z***@example.cn"
    assert mask_personal("1975-05-04") == "****-**-**"
    assert mask_personal(["13912345678", "13700005555"]) == ["139****5678", "137****5555"]
    assert mask_personal("入职纪念日 2001-03-08") == "入职纪念日 ****-**-**"
    assert mask_personal("") == "" and mask_personal(None) is None
    # Masking a masked value changes nothing: old and new trail rows read the same.
    for value in ("13912345678", "zhang@example.cn", "1975-05-04"):
        assert mask_personal(mask_personal(value)) == mask_personal(value)


def test_audit_values_are_masked_by_the_targets_declared_fields_and_free_text_by_pattern():
    masked = mask_audit_values(
        "sales.lead", {"contact_mobile": LEAD_MOBILE, "need": "请拨 13912340000 联系", "expected_size": 12}
    )
    assert masked == {"contact_mobile": "139****5678", "need": "请拨 139****0000 联系", "expected_size": 12}
    assert mask_audit_values("customers.contact", {"birthday": "1975-05-04"}) == {"birthday": "****-**-**"}
    assert mask_audit_values("customers.customer", None) is None


# --- write time -----------------------------------------------------------------------------------------
def test_the_trail_never_stores_a_clear_personal_value(cast):
    personal_data_everywhere(cast)
    rows = list(AuditEvent.objects.values("before", "after", "note", "target_repr"))
    assert len(rows) > 8
    assert_no_clear_value(json.dumps(rows, ensure_ascii=False))
    lead_event = AuditEvent.objects.get(target_type="sales.lead", action=AuditAction.CREATE)
    assert lead_event.after["contact_mobile"] == "139****5678"
    assert lead_event.after["contact_name"] == "王经理"  # a name is not masked


def test_a_change_between_two_numbers_that_mask_alike_still_shows(cast, client_as):
    contact = customer_services.contact_create(
        actor=cast.alice.user, customer=cast.alice_customer, name="张建国", mobile="13811115678"
    )
    customer_services.contact_update(actor=cast.alice.user, contact=contact, mobile="13822225678")
    response = client_as(cast.grace).get(reverse("audit:list"), {"action": AuditAction.UPDATE})
    (line,) = [line for line in response.context["lines"] if line.event.target_type == "customers.contact"]
    assert [(c.label, str(c.before), str(c.after)) for c in line.changes] == [
        ("手机号码", "138****5678", "138****5678")
    ]


# --- readers --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", ["grace", "frank"])
def test_lead_contact_mobile_is_masked_in_the_audit_log(cast, client_as, persona):
    make_lead(cast, contact_name="王经理", contact_mobile=LEAD_MOBILE)
    html = client_as(getattr(cast, persona)).get(reverse("audit:list")).content.decode()
    assert LEAD_MOBILE not in html
    assert "139****5678" in html


def test_nothing_personal_reaches_the_audit_log_even_from_old_clear_rows(cast, client_as):
    personal_data_everywhere(cast)
    # A row written before the trail masked at write time.
    AuditEvent.objects.create(
        action=AuditAction.CREATE,
        target_type="customers.contact",
        target_id=1,
        customer_id=cast.alice_customer.pk,
        target_repr="老联系人",
        after={"mobile": "13855554444", "birthday": "1980-01-02", "email": "old@example.cn"},
    )
    for persona in (cast.grace, cast.frank):
        html = client_as(persona).get(reverse("audit:list")).content.decode()
        assert_no_clear_value(html)
        assert "13855554444" not in html and "1980-01-02" not in html and "old@example.cn" not in html


def test_nothing_personal_reaches_the_360_history_or_the_api_history(cast, client_as):
    personal_data_everywhere(cast)
    AuditEvent.objects.create(
        action=AuditAction.CREATE,
        target_type="customers.contact",
        target_id=1,
        customer_id=cast.alice_customer.pk,
        after={"mobile": "13855554444", "birthday": "1980-01-02"},
    )
    html = client_as(cast.alice).get(reverse("customers:detail", args=[cast.alice_customer.pk])).content.decode()
    history = html[html.index('id="history-section"') :]
    assert_no_clear_value(history)
    assert "13855554444" not in history and "1980-01-02" not in history
    api = ApiClient(token_issue(user=cast.alice.user))
    body = api.api_get(f"/customers/{cast.alice_customer.pk}/history", limit=200).content.decode()
    assert_no_clear_value(body)
    assert "13855554444" not in body and "1980-01-02" not in body
    assert "****-**-**" in body


def test_audit_log_export_is_masked_and_logged(cast, client_as):
    personal_data_everywhere(cast)
    response = client_as(cast.grace).get(reverse("audit:export"))
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.getvalue())).active
    text = json.dumps([[cell for cell in row] for row in sheet.iter_rows(values_only=True)], ensure_ascii=False)
    assert_no_clear_value(text)
    assert "139****5678" in text
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, actor=cast.grace.user).exists()


def test_the_migration_masks_rows_written_in_clear_before_the_rule(cast):
    import importlib

    migration = importlib.import_module("jiketong.core.migrations.0004_mask_personal_data_in_audit")
    make_lead(cast, contact_mobile=LEAD_MOBILE)
    # What an older trail holds: `update()` writes around the model's masking, as the old code did.
    AuditEvent.objects.filter(target_type="sales.lead").update(
        after={"contact_mobile": LEAD_MOBILE, "name": "示例科技有限公司"}, note=f"回电 {LEAD_MOBILE}"
    )
    migration.mask_existing_rows(apps, None)
    event = AuditEvent.objects.get(target_type="sales.lead")
    assert event.after == {"contact_mobile": "139****5678", "name": "示例科技有限公司"}
    assert event.note == "回电 139****5678"


def test_mobiles_typed_into_tickets_and_activities_are_masked_in_the_trail(cast):
    from jiketong.service.tests.factories import receive
    from jiketong.work import services as work_services

    receive(cast.alice, cast.alice_customer, title="客户 13912345678 来电：专线中断")
    work_services.activity_create(
        cast.alice.user, customer=cast.alice_customer, subject="回访 13700001111", next_step="再打 13700001111"
    )
    rows = json.dumps(list(AuditEvent.objects.values("before", "after", "note", "target_repr")), ensure_ascii=False)
    assert "13912345678" not in rows and "13700001111" not in rows
    assert "139****5678" in rows and "137****1111" in rows
