"""Hostile input answers a 4xx of the one error shape, never a 500: each fault the API fuzzer once found.

The fuzz run (test_fuzz.py) keeps the whole API honest; these pin the faults it found, one by one.
"""

import json
import logging
import re

import pytest
from pydantic import BaseModel

from jiketong.api import api
from jiketong.api.base import MAX_OFFSET

from .conftest import API

BEYOND_64_BITS = str(2**70)


def spec() -> dict:
    return api.get_openapi_schema(path_prefix="/api/v1")


def operations():
    for path, methods in spec()["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def list_paths() -> list[str]:
    return sorted(
        path
        for path, method, operation in operations()
        if method == "get" and any(p["name"] == "offset" for p in operation.get("parameters", []))
    )


def error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert set(body) == {"detail", "errors"} and isinstance(body["detail"], str) and body["detail"]
    return body["errors"]


def concrete(path: str, pk: int) -> str:
    return re.sub(r"\{\w+\}", str(pk), path.removeprefix(API))


# --- integers -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("offset", [BEYOND_64_BITS, str(MAX_OFFSET + 1), "-1"])
def test_an_offset_out_of_range_is_a_field_error_on_every_list(cast, api_as, offset):
    client = api_as(cast.frank)
    paths = list_paths()
    assert len(paths) > 20
    for path in paths:
        response = client.api_get(concrete(path, cast.alice_customer.pk), offset=offset)
        # A list with a required filter (the whitespace list's product) reports that too: all errors at once.
        assert "offset" in error_shape(response, 422), path


def test_a_large_offset_within_range_is_an_empty_page(cast, api_as):
    body = api_as(cast.frank).api_get("/customers", offset=MAX_OFFSET).json()
    assert body["items"] == [] and body["count"] == 5


def test_an_id_past_64_bits_in_the_path_is_a_field_error(cast, api_as):
    client = api_as(cast.frank)
    assert list(error_shape(client.api_get(f"/staff/{BEYOND_64_BITS}"), 422)) == ["staff_id"]
    assert list(error_shape(client.post_json(f"/staff/{BEYOND_64_BITS}/deactivate"), 422)) == ["staff_id"]
    assert list(error_shape(client.api_get(f"/customers/{BEYOND_64_BITS}"), 422)) == ["customer_id"]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/customers", "owner"),
        ("/customers", "parent"),
        ("/subscriptions", "customer"),
        ("/subscriptions", "product"),
        ("/leads", "owner"),
        ("/opportunities", "owner"),
        ("/opportunities", "customer"),
        ("/quotes", "customer"),
        ("/contracts", "customer"),
        ("/orders", "customer"),
        ("/activities", "customer"),
        ("/tickets", "customer"),
        ("/surveys", "customer"),
        ("/org-units", "parent"),
        ("/staff", "org_unit"),
    ],
)
def test_an_id_filter_past_64_bits_is_a_field_error(cast, api_as, path, name):
    response = api_as(cast.frank).api_get(path, **{name: BEYOND_64_BITS})
    assert list(error_shape(response, 422)) == [name]


@pytest.mark.parametrize("days", [BEYOND_64_BITS, "1000000000", "3661"])
def test_expiring_within_out_of_the_calendar_is_a_field_error(cast, api_as, days):
    response = api_as(cast.frank).api_get("/contracts", expiring_within=days)
    assert list(error_shape(response, 422)) == ["expiring_within"]


def test_an_integer_past_64_bits_in_a_body_is_a_field_error(cast, api_as):
    url = f"/customers/{cast.alice_customer.pk}"
    response = api_as(cast.frank).patch(API + url, f'{{"size": {2**70}}}', content_type="application/json")
    assert list(error_shape(response, 422)) == ["size"]


# --- decimals -----------------------------------------------------------------------------------------
PRODUCT = {"code": "FUZZ-1", "name": "测试产品", "category": "voice", "billing_unit": "per_group"}


@pytest.mark.parametrize("price", [4e307, "4e307", "1e12", "12.345", "NaN"])
def test_a_price_out_of_range_is_a_field_error(cast, api_as, price):
    response = api_as(cast.frank).post_json("/products", PRODUCT | {"standard_price": price})
    assert list(error_shape(response, 422)) == ["standard_price"]


def test_a_nan_literal_in_json_is_refused(cast, api_as):
    body = json.dumps(PRODUCT)[:-1] + ', "standard_price": NaN}'
    response = api_as(cast.frank).post(API + "/products", body, content_type="application/json")
    error_shape(response, 422)


def test_a_discount_over_100_percent_is_a_field_error(cast, api_as):
    body = {"customer": cast.alice_customer.pk, "product": 1, "start_on": "2026-01-01", "discount_pct": "250"}
    assert list(error_shape(api_as(cast.frank).post_json("/subscriptions", body), 422)) == ["discount_pct"]


# --- text -----------------------------------------------------------------------------------------------
def test_a_lone_surrogate_in_a_name_is_a_field_error(cast, api_as):
    body = '{"name": "广州\\ud800地铁"}'
    response = api_as(cast.alice).patch(
        API + f"/customers/{cast.alice_customer.pk}", body, content_type="application/json"
    )
    errors = error_shape(response, 422)
    assert errors == {"name": ["The text holds an invalid character (U+D800, a lone surrogate) at position 3."]}


def test_a_control_character_in_a_body_is_a_field_error_on_its_path(cast, api_as):
    rows = [{"phone": "13800138000", "joined_on": "2026-01-01", "department": "研发\u0001部"}]
    response = api_as(cast.alice).post_json(f"/customers/{cast.alice_customer.pk}/members/bulk-add", {"rows": rows})
    assert error_shape(response, 422) == {"rows.0.department": ["Remove the control character U+0001 at position 3."]}


def test_nul_in_a_query_string_is_a_field_error(cast, api_as):
    response = api_as(cast.alice).api_get("/customers", search="广州\x00")
    assert error_shape(response, 422) == {"search": ["Remove the control character U+0000 at position 3."]}


def test_line_breaks_in_free_text_are_kept(cast, api_as):
    response = api_as(cast.alice).patch_json(f"/customers/{cast.alice_customer.pk}", {"note": "第一行\n第二行\t完"})
    assert response.status_code == 200 and response.json()["note"] == "第一行\n第二行\t完"


def test_a_direction_override_in_a_name_is_refused_by_the_model_rule(cast, api_as):
    response = api_as(cast.alice).patch_json(f"/customers/{cast.alice_customer.pk}", {"name": "广州\u202e铁地"})
    assert list(error_shape(response, 400)) == ["name"]


# --- explicit null on fields that cannot be null -----------------------------------------------------------
@pytest.mark.parametrize("field", ["name", "type", "industry", "org_unit", "grade", "status", "service_level"])
def test_null_on_a_field_that_cannot_be_empty_is_refused(cast, api_as, field):
    response = api_as(cast.frank).patch_json(f"/customers/{cast.alice_customer.pk}", {field: None})
    assert list(error_shape(response, 422 if response.status_code == 422 else 400)) == [field]


# --- bodies -------------------------------------------------------------------------------------------------
def test_a_body_that_is_not_json_answers_422(cast, api_as):
    response = api_as(cast.alice).post(API + "/customers", "{not json", content_type="application/json")
    error_shape(response, 422)


def test_a_body_over_the_limit_answers_413(cast, api_as, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({"name": "大" * 2000})
    response = api_as(cast.alice).post(API + "/customers", body, content_type="application/json")
    error_shape(response, 413)


def test_an_unforeseen_failure_answers_a_json_500_and_is_logged(cast, api_as, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("jiketong.customers.queries.customer_list", broken)
    with caplog.at_level(logging.ERROR, logger="jiketong.api"):
        response = api_as(cast.alice).api_get("/customers")
    error_shape(response, 500)
    assert "boom" not in response.content.decode()
    assert any(record.exc_info and "boom" in str(record.exc_info[1]) for record in caplog.records)


# --- the published description ------------------------------------------------------------------------------
def test_every_operation_documents_the_errors_it_can_answer():
    for path, method, operation in operations():
        codes = {str(code) for code in operation["responses"]}
        assert {"401", "500"} <= codes, (method, path)
        if operation.get("parameters") or "requestBody" in operation:
            assert "422" in codes, (method, path)
        if "requestBody" in operation:
            assert {"400", "413"} <= codes, (method, path)
        for code, answer in operation["responses"].items():
            code, content = str(code), answer.get("content", {})
            if content and code.startswith(("4", "5")) and "application/json" in content:
                ref = content["application/json"]["schema"].get("$ref", "")
                assert ref.split("/")[-1] in ("ErrorOut", "BulkAddOut", "BulkRemoveOut"), (method, path, code)


def _models(annotation, found: set) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found:
            return
        found.add(annotation)
        for field in annotation.model_fields.values():
            _models(field.annotation, found)
    for argument in getattr(annotation, "__args__", ()):
        _models(argument, found)


def test_no_two_schemas_share_a_name():
    """The OpenAPI names components by class name: two `TaskOut`s published one and answered the other."""
    found: set = set()
    for router in api._routers:
        for path_view in router[1].path_operations.values():
            for operation in path_view.operations:
                for model in operation.response_models.values():
                    _models(model, found)
                for model in operation.models:
                    _models(model, found)
    by_name: dict[str, set] = {}
    for model in found:
        if model.__module__.startswith("jiketong."):
            by_name.setdefault(model.__name__, set()).add(f"{model.__module__}.{model.__qualname__}")
    assert {name: where for name, where in by_name.items() if len(where) > 1} == {}
