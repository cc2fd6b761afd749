"""The sync API as the OpenAPI publishes it: paths, bodies, answers, and real answers matching their schemas."""

import pytest

from jiketong.api import api

from .conftest import hq_call

pytestmark = pytest.mark.django_db
PREFIX = "/api/v1/federation"


@pytest.fixture(scope="module")
def spec():
    return api.get_openapi_schema(path_prefix="/api/v1")


def schema_of(spec, ref_holder: dict) -> dict:
    ref = ref_holder["content"]["application/json"]["schema"]
    if "$ref" not in ref:
        return ref
    return spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


def keys_match(spec, response, body: dict) -> None:
    documented = schema_of(spec, response)
    assert set(documented.get("required", [])) <= set(body) <= set(documented["properties"]), (documented, body)


def test_the_sync_paths_are_published_with_their_answers(spec):
    batches = spec["paths"][f"{PREFIX}/batches"]["post"]
    assert {"200", "400", "401", "403", "422"} <= {str(code) for code in batches["responses"]}
    body = schema_of(spec, batches["requestBody"])
    assert {"province", "rows", "status"} <= set(body["properties"])
    row = spec["components"]["schemas"]["RowIn"]
    assert set(row["required"]) >= {"seq", "province", "kind", "key", "payload"}
    assert set(row["properties"]["kind"]["enum"]) == {"group", "unit", "unit_month", "indicator", "contact"}
    assert {"200", "401"} <= {str(code) for code in spec["paths"][f"{PREFIX}/cursor"]["get"]["responses"]}
    directives = spec["paths"][f"{PREFIX}/directives"]["get"]
    assert {"after", "limit", "offset"} <= {parameter["name"] for parameter in directives["parameters"]}


def test_real_answers_match_the_published_schemas(spec, provinces):
    token = provinces["440000"]
    answer = hq_call(token, "POST", "batches", {"province": "440000", "rows": []})
    assert answer.status_code == 200
    keys_match(spec, spec["paths"][f"{PREFIX}/batches"]["post"]["responses"][200], answer.json())
    refused = hq_call(token, "POST", "batches", {"province": "330000", "rows": []})
    assert refused.status_code == 403
    keys_match(spec, spec["paths"][f"{PREFIX}/batches"]["post"]["responses"][403], refused.json())
    cursor = hq_call(token, "GET", "cursor")
    keys_match(spec, spec["paths"][f"{PREFIX}/cursor"]["get"]["responses"][200], cursor.json())
    assert cursor.json()["last_batch_at"]
    page = hq_call(token, "GET", "directives?after=0").json()
    assert {"count", "items"} <= set(page)
    bad = hq_call(token, "GET", "directives?offset=-1")
    assert bad.status_code == 422 and "offset" in bad.json()["errors"]


def test_the_directive_kinds_are_published(spec):
    kinds = spec["components"]["schemas"]["DirectiveOut"]["properties"]["kind"]["enum"]
    assert set(kinds) == {"account", "target", "catalog", "discount"}
