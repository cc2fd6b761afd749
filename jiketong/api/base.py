"""API plumbing: bearer-token auth, the {count, items} page, bounded input types and one error shape.

Every error answers JSON of one shape, `{"detail": "...", "errors": {"field": ["why", ...]}}`: the request
schema (pydantic) 422, a service or a filter (Django ValidationError) 400, no token 401, the role 403, out of
scope or missing 404 (alike), a body over DATA_UPLOAD_MAX_MEMORY_SIZE 413, and anything unforeseen a logged 500.
Each operation's OpenAPI entry lists the answers it can give (`document_errors`), so a client, and the fuzz
test in api/tests/test_fuzz.py, can rely on the published description.

The apps' api.py build on this module; it imports none of them. The API that assembles their routers is
api/site.py (`build_api`), above them all.

Hostile input stops here, in one place each: ids, `limit` and `offset` are bounded integers (`Id`, `Page`),
money and percentages bounded decimals (`Money`, `Percent`), and every string of a body or a query string
passes the text rule of core.validators (no control characters, NUL or lone surrogates) in `TextParser`.
"""

import json
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Length, Substr
from django.http import FileResponse
from django.utils.translation import gettext as _
from ninja import Field, Header, Schema
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import LimitOffsetPagination
from ninja.parser import Parser
from ninja.security import HttpBearer
from pydantic import BeforeValidator, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from jiketong.core.paging import LIST_COUNT_CAP, capped_count
from jiketong.core.validators import text_error
from jiketong.org.services import token_authenticate

logger = logging.getLogger("jiketong.api")

MAX_PAGE = 200
INT64_MAX = 2**63 - 1  # a 64-bit key, on SQLite and PostgreSQL alike; beyond it SQLite raises OverflowError
MAX_OFFSET = 1_000_000_000  # far past any list a province has, and no arithmetic near the 64-bit edge

Id = Annotated[int, Field(ge=1, le=INT64_MAX)]
"""A record's id in a path or a filter: 1 to 2⁶³−1; anything else answers 422 on that field (in a body, the
parser refuses any integer past 64 bits and `referenced` answers 400 for an id naming nothing visible)."""


def bounded_decimal(max_digits: int, decimal_places: int, **bounds: Any) -> Any:
    """A decimal input that fits its model's DecimalField: `4e307`, NaN or a third decimal place answer 422
    instead of failing in the database adapter."""
    return Annotated[
        Decimal, Field(max_digits=max_digits, decimal_places=decimal_places, allow_inf_nan=False, **bounds)
    ]


Money = bounded_decimal(14, 2)  # core.money.MoneyField: yuan with two places, below 10¹²

IfMatch = Annotated[
    str | None,
    Header(
        None,
        alias="If-Match",
        description='The ETag of the record as you read it (e.g. `W/"3"`): a record changed since answers 412 and '
        "nothing is written. Optional: without it the change applies to the record as it is now.",
    ),
]
"""`If-Match` on a PATCH or DELETE of a versioned record (core.concurrency): pass it on as `expected_version`
through `core.concurrency.expected_from_if_match`; the operation then documents 412."""
RowVersion = Annotated[
    int, Field(description='Goes up by one with every change to the record; its ETag is `W/"<row_version>"`.')
]
Percent = bounded_decimal(5, 2, ge=0, le=100)


class BearerToken(HttpBearer):
    def authenticate(self, request, token: str):
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class Page(LimitOffsetPagination):
    """`limit` (≤ 200) and `offset`; answers `{"count": N, "count_capped": bool, "items": [...]}`. The count
    stops at LIST_COUNT_CAP (decision 0605/0606: a province's list costs what a county's does); past it
    `count_capped` is true and a client pages on until a page comes back short."""

    class Input(Schema):
        limit: int = Field(50, ge=0, le=INT64_MAX, description=f"At most {MAX_PAGE}; more is capped.")
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    class Output(Schema):
        items: list[Any]
        count: int = Field(description=f"Matching rows, counted up to {LIST_COUNT_CAP:,}.")
        count_capped: bool = Field(False, description="True when more rows match than `count` says.")

    def paginate_queryset(self, queryset, pagination: Input, **params):
        limit = min(pagination.limit, MAX_PAGE)
        offset = pagination.offset
        if isinstance(queryset, QuerySet):
            count, capped = capped_count(queryset)
        else:
            count, capped = len(queryset), False
        return {"items": queryset[offset : offset + limit], "count": count, "count_capped": capped}


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


def _not_nullable_in_schema(schema: dict[str, Any], model: type) -> None:
    for name, prop in schema.get("properties", {}).items():
        if name in model.nullable or "anyOf" not in prop:
            continue
        options = [option for option in prop["anyOf"] if option != {"type": "null"}]
        if len(options) == 1:
            del prop["anyOf"]
            prop.update(options[0])
        else:
            prop["anyOf"] = options
        if prop.get("default", ...) is None:
            del prop["default"]


class PatchSchema(Schema):
    """A PATCH body: send only the fields that change. Only the fields in `nullable` take null (it clears
    them, e.g. a customer's backup manager); null for any other field answers 422 on it instead of reaching
    a NOT NULL column, and the published schema says so."""

    nullable: ClassVar[frozenset[str]] = frozenset()
    model_config = ConfigDict(json_schema_extra=_not_nullable_in_schema)

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable:
            raise PydanticCustomError("not_nullable", _("This field cannot be null: leave it out to keep it as it is."))
        return value


def with_parent_pk(queryset: QuerySet, steplen: int) -> QuerySet:
    """Annotate `parent_pk` on a treebeard (materialised path) queryset: the parent's path is the path
    minus its last step. One correlated lookup on the unique path index, so a page costs no extra query."""
    parent_path = Substr(OuterRef("path"), 1, Length(OuterRef("path")) - steplen)
    parents = queryset.model._base_manager.filter(path=parent_path).values("pk")[:1]
    return queryset.annotate(parent_pk=Subquery(parents))


def from_attr(attribute: str, default: Any = ..., **kwargs: Any) -> Any:
    """A schema field read from another attribute of the record, in place of a `resolve_<field>` method:
    `org_unit: int = from_attr("org_unit_id")` answers a foreign key as its id without loading the row, and
    `customer_name: str = from_attr("customer.name")` follows a relation the queryset selected (dotted, as
    ninja resolves it). Only the reading changes: the published name, type, default and description stay the
    field's own (a validation alias never reaches the serialised answer or the OpenAPI document)."""
    return Field(default, validation_alias=attribute, **kwargs)


def _two_places(value: Any) -> Any:
    return f"{value:.2f}" if isinstance(value, Decimal | int | float) and not isinstance(value, bool) else value


TwoPlaces = Annotated[str, BeforeValidator(_two_places)]
"""A decimal answered as text with two places (`"1280.00"`), as money and percentages are published: the
record's Decimal is formatted on the way out, so no `resolve_<field>` formats it by hand."""


Lookups = dict[str, tuple[QuerySet, str]]
"""For `resolve_ids`: a body field → (the scoped queryset its id is looked up in, the message when it is not)."""


def resolve_ids(
    data: dict[str, Any], lookups: Lookups, *, errors: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    """Swap the ids a request body names for the records the services take, in `data` itself (returned too).
    Each queryset is already scoped, so an id the caller may not see is answered like one that does not exist;
    every unknown id answers in the same 400, one field error each, with any `errors` the handler found in the
    rest of the body. A field left out or null stays as it is (a PATCH that clears a field keeps its null)."""
    errors = dict(errors or {})
    for name, (queryset, message) in lookups.items():
        if data.get(name) is None:
            continue
        obj = queryset.filter(pk=data[name]).first()
        if obj is None:
            errors[name] = [message]
        else:
            data[name] = obj
    if errors:
        raise ValidationError(errors)
    return data


def referenced(queryset: QuerySet, pk: Any, field: str, message: str):
    """The one record a request names by id, or a 400 on that field (`resolve_ids` for a single id that is
    not in a body dict). The queryset is already scoped: out of scope answers like missing."""
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise ValidationError({field: [message]})
    return obj


def csv_download(path: Any, filename: str) -> FileResponse:
    """A CSV file on disk (an import's error report) as a download; the file is closed once sent."""
    return FileResponse(open(path, "rb"), as_attachment=True, filename=filename, content_type="text/csv; charset=utf-8")


def filter_errors(filterset: Any) -> None:
    """A FilterSet's errors as the API's 400, one field error per invalid filter (`?grade=Z`)."""
    if filterset.errors:
        raise ValidationError({name: list(messages) for name, messages in filterset.errors.items()})


def filtered(
    query: Callable[[Any, dict[str, Any]], tuple[Any, QuerySet]], user: Any, filters: Schema | dict[str, Any]
) -> QuerySet:
    """An API list through the same query as its HTML page: `query(user, params)` is the app's
    `queries.<x>_list`, which scopes to the caller and returns (FilterSet, queryset); the filters sent
    (the `Query[...]` schema, unset ones left out, or params the handler prepared) are its params, and an
    invalid one answers 400 on that filter. The handler returns the queryset under `@paginate(Page)`,
    which pages it in the database."""
    params = filters if isinstance(filters, dict) else filters.model_dump(exclude_none=True)
    filterset, queryset = query(user, params)
    filter_errors(filterset)
    return queryset


def _loc_to_field(loc: list[Any]) -> str:
    # pydantic locations look like ("body", "payload", "mobile") or ("query", "limit").
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "form")]
    return ".".join(parts) or "__all__"


def validation_errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {("__all__" if k == "__all__" else k): list(v) for k, v in exc.message_dict.items()}
    return {"__all__": list(exc.messages)}


# --- text in bodies and query strings ------------------------------------------------------------------
def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _input_errors(value: Any, loc: tuple) -> list[dict[str, Any]]:
    if isinstance(value, str):
        error = text_error(value)
        return [] if error is None else [{"loc": loc, "msg": error.messages[0], "type": "text"}]
    if isinstance(value, int) and not isinstance(value, bool) and not -INT64_MAX <= value <= INT64_MAX:
        # No field takes a number past 64 bits; SQLite cannot even bind one (OverflowError).
        message = _("Ensure this value is between %(min)d and %(max)d.") % {"min": -INT64_MAX, "max": INT64_MAX}
        return [{"loc": loc, "msg": message, "type": "int_range"}]
    if isinstance(value, dict):
        errors = []
        for key, item in value.items():
            errors += _input_errors(key, (*loc, "<key>")) + _input_errors(item, (*loc, key))
        return errors
    if isinstance(value, list):
        return [error for index, item in enumerate(value) for error in _input_errors(item, (*loc, index))]
    return []


class TextParser(Parser):
    """JSON bodies and query strings, with the text rule applied to every string in them: control characters
    other than tab and line breaks (NUL included) and lone surrogates (JSON "\\ud800") answer 422 on the
    field, before any schema, service or database sees them. So does a JSON integer past 64 bits; NaN and
    Infinity are not JSON numbers."""

    def parse_body(self, request):
        data = json.loads(request.body, parse_constant=_refuse_constant)
        errors = _input_errors(data, ("body",))
        if errors:
            # Ninja turns any parse failure into HttpError(400) "from" it; `http_error` below unwraps this one.
            raise NinjaValidationError(errors)
        return data

    def parse_querydict(self, data, list_fields, request):
        errors = [
            error
            for key in data
            for value in data.getlist(key)
            for error in _input_errors(key, ("query", "<key>")) + _input_errors(value, ("query", key))
        ]
        if errors:
            raise NinjaValidationError(errors)
        return super().parse_querydict(data, list_fields, request)


# --- the published answers -------------------------------------------------------------------------------
ERROR_ANSWERS = {
    "400": "A business rule refused the input.",
    "401": "No valid bearer token (or session).",
    "404": "Not found, or not yours to see.",
    "412": "If-Match names a version the record no longer has: read it again (its ETag), then resend.",
    "413": "The body is larger than the server accepts.",
    "422": "The request does not match the schema (not JSON, a missing field, a wrong type, a value out of range).",
    "500": "Server error; logged.",
}


def document_errors(schema: dict) -> dict:
    """Add the error answers every operation can give to its OpenAPI entry, where the app did not list them:
    401 and 500 everywhere, 422 with any parameter or body, 400 and 413 with a body, 404 with a path id."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ErrorOut", ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}"))
    answer = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            parameters = operation.get("parameters", [])
            codes = {"401", "500"}
            if parameters or "requestBody" in operation:
                codes.add("422")
            if "requestBody" in operation:
                codes |= {"400", "413"}
            if any(parameter.get("in") == "path" for parameter in parameters):
                codes.add("404")
            if any(parameter.get("in") == "header" and parameter.get("name") == "If-Match" for parameter in parameters):
                codes.add("412")
            responses = operation.setdefault("responses", {})
            for code in sorted(codes - {str(code) for code in responses}):  # ninja's own keys are ints
                responses[code] = {"description": ERROR_ANSWERS[code], **answer}
    return schema
