"""Text at the boundary: control characters, NUL, lone surrogates and direction controls are refused with a
field error on every input path (the model rule the services run, so forms, API and imports alike), and the
Excel exports survive rows stored before the rule."""

import io

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from jiketong.catalog.services import product_save
from jiketong.core.models import AuditEvent
from jiketong.core.validators import text_error, validate_name_text, validate_text
from jiketong.customers.models import Customer
from jiketong.customers.services import customer_update
from jiketong.customers.tests.test_views import customer_post
from jiketong.sales import services as sales_services

CONTROL = "Remove the control character U+0001 at position 3."
BIDI = "Remove the text-direction character U+202E at position 3: it can disguise what a name or code says."


# --- the rule -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value", ["广州地铁集团有限公司", "Guangzhou Metro (GZ) Co., Ltd.", "全角　空格", "", "😀 表情"]
)
def test_ordinary_text_and_names_pass(value):
    assert text_error(value) is None
    assert text_error(value, name=True) is None


@pytest.mark.parametrize("value", ["广州\x00", "广州\x01", "\x1b[31m", "删除\x7f", "换页\x0c", "C1\x85"])
def test_control_characters_and_nul_are_refused_in_any_text(value):
    with pytest.raises(ValidationError) as info:
        validate_text(value)
    assert info.value.code == "text_control"


def test_a_lone_surrogate_is_refused():
    with pytest.raises(ValidationError) as info:
        validate_text("广州\ud800")
    assert info.value.messages == ["The text holds an invalid character (U+D800, a lone surrogate) at position 3."]


def test_free_text_keeps_tabs_and_line_breaks():
    validate_text("第一行\r\n第二行\t完")


@pytest.mark.parametrize("mark", ["\u202e", "\u202d", "\u2066", "\u2067", "\u200f", "\u061c"])
def test_names_and_codes_refuse_direction_controls(mark):
    validate_text(f"备注{mark}")  # free text may quote anything printable
    with pytest.raises(ValidationError) as info:
        validate_name_text(f"公司{mark}")
    assert info.value.code == "text_bidi"


def test_names_and_codes_fit_on_one_line():
    with pytest.raises(ValidationError) as info:
        validate_name_text("广州\n地铁")
    assert info.value.messages == ["A name or code fits on one line: remove the tab or line break at position 3."]


# --- model rule: services, so the API and imports -----------------------------------------------------
def test_a_control_character_in_a_customer_name_is_a_field_error(cast):
    with pytest.raises(ValidationError) as info:
        customer_update(actor=cast.alice.user, customer=cast.alice_customer, name="广州\x01地铁")
    assert info.value.message_dict == {"name": [CONTROL]}
    assert Customer.objects.get(pk=cast.alice_customer.pk).name == "广州地铁集团有限公司"


def test_a_direction_override_in_a_customer_name_is_a_field_error(cast):
    with pytest.raises(ValidationError) as info:
        customer_update(actor=cast.alice.user, customer=cast.alice_customer, short_name="广州\u202e铁地")
    assert info.value.message_dict == {"short_name": [BIDI]}


def test_a_direction_override_in_a_product_code_is_a_field_error(cast):
    fields = {"name": "集团彩铃", "category": "voice", "billing_unit": "per_group", "standard_price": "10"}
    with pytest.raises(ValidationError) as info:
        product_save(actor=cast.frank.user, code="CR\u202e01", **fields)
    assert list(info.value.message_dict) == ["code"]


def test_nul_in_a_customer_note_is_a_field_error_but_line_breaks_stay(cast):
    with pytest.raises(ValidationError) as info:
        customer_update(actor=cast.alice.user, customer=cast.alice_customer, note="备注\x00")
    assert list(info.value.message_dict) == ["note"]
    customer = customer_update(actor=cast.alice.user, customer=cast.alice_customer, note="第一行\n第二行")
    assert customer.note == "第一行\n第二行"


def test_a_lead_import_reports_a_control_character_as_a_row_error(cast):
    rows = [{"name": "石牌\x01街道办事处", "org_unit": "440106"}, {"name": "岗顶小卖部", "org_unit": "440106"}]
    result = sales_services.leads_import(actor=cast.carol.user, rows=rows, all_or_nothing=False)
    assert result.done == 1
    assert [(error["row"], list(error["errors"])) for error in result.errors] == [(1, ["name"])]


# --- forms --------------------------------------------------------------------------------------------
def test_the_customer_form_shows_the_control_character_on_the_name_field(cast, client_as):
    data = customer_post(None, cast.org["440106"], name="新开\x01客户有限公司")
    client = client_as(cast.alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # pages follow the language switch, not Accept-Language
    response = client.post(reverse("customers:create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["Remove the control character U+0001 at position 3."]
    assert not Customer.objects.filter(name__startswith="新开").exists()


# --- exports of rows stored before the rule ----------------------------------------------------------------
def test_the_customer_export_survives_a_control_character_already_stored(cast, client_as):
    # Written straight to the table, as rows from before the rule may be (SQLite cannot even store a surrogate).
    Customer.objects.filter(pk=cast.alice_customer.pk).update(name="广州\x01地铁\x1f集团")
    response = client_as(cast.alice).get(reverse("customers:export"))
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.getvalue()), read_only=True).active.iter_rows(values_only=True))
    assert "广州地铁集团" in {row[1] for row in rows[1:]}


def test_a_name_starting_with_equals_is_exported_as_text_not_a_formula(cast, client_as):
    Customer.objects.filter(pk=cast.alice_customer.pk).update(name='=HYPERLINK("http://evil.example","点我")')
    response = client_as(cast.alice).get(reverse("customers:export"))
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    cell = next(c for c in cells if str(c.value).startswith("=HYPERLINK"))
    assert cell.data_type == "s"


def test_the_audit_export_survives_a_control_character_already_stored(cast, client_as):
    customer_update(actor=cast.frank.user, customer=cast.alice_customer, note="改")
    AuditEvent.objects.update(target_repr="广州\x01地铁")
    response = client_as(cast.frank).get(reverse("audit:export"))
    assert response.status_code == 200
