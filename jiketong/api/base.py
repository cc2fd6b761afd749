"""API plumbing: bearer-token auth, the {count, items} page, and field-level error bodies.

Every error answers JSON of one shape, `{"detail": "...", "errors": {"field": ["why", ...]}}`, whether it
came from the request schema (pydantic), from a service (Django ValidationError) or from a filter.
Out-of-scope objects answer 404, exactly like missing ones.
"""

from importlib import import_module
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Length, Substr
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import LimitOffsetPagination
from ninja.security import HttpBearer, django_auth

from jiketong.org.services import token_authenticate

MAX_PAGE = 200


class BearerToken(HttpBearer):
    def authenticate(self, request, token: str):
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class Page(LimitOffsetPagination):
    """`limit` (≤ 200) and `offset`; answers `{"count": N, "items": [...]}`, counted in the database."""

    class Input(Schema):
        limit: int = 50
        offset: int = 0

    def paginate_queryset(self, queryset, pagination: Input, **params):
        limit = max(0, min(pagination.limit, MAX_PAGE))
        offset = max(0, pagination.offset)
        return {"items": queryset[offset : offset + limit], "count": self._items_count(queryset)}


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


def with_parent_pk(queryset: QuerySet, steplen: int) -> QuerySet:
    """Annotate `parent_pk` on a treebeard (materialised path) queryset: the parent's path is the path
    minus its last step. One correlated lookup on the unique path index, so a page costs no extra query."""
    parent_path = Substr(OuterRef("path"), 1, Length(OuterRef("path")) - steplen)
    parents = queryset.model._base_manager.filter(path=parent_path).values("pk")[:1]
    return queryset.annotate(parent_pk=Subquery(parents))


def referenced(queryset: QuerySet, pk: Any, field: str, message: str):
    """The record a request body names by id, or a 400 on that field. The queryset is already scoped, so
    an id the caller may not see is answered like one that does not exist."""
    obj = queryset.filter(pk=pk).first()
    if obj is None:
        raise ValidationError({field: [message]})
    return obj


def _loc_to_field(loc: list[Any]) -> str:
    # pydantic locations look like ("body", "payload", "mobile") or ("query", "limit").
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "form")]
    return ".".join(parts) or "__all__"


def validation_errors(exc: ValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {("__all__" if k == "__all__" else k): list(v) for k, v in exc.message_dict.items()}
    return {"__all__": list(exc.messages)}


def build_api() -> NinjaAPI:
    api = NinjaAPI(
        title="集客通 Jiketong API",
        version="1",
        description=_(
            "Group-customer archive, org, catalog and subscriptions. Authenticate with "
            "`Authorization: Bearer <token>` (`python -m jiketong token USERNAME`)."
        ),
        auth=[BearerToken(), django_auth],
        openapi_url="/openapi.json",
        docs_url="/docs",
        urls_namespace="api",
    )

    @api.exception_handler(NinjaValidationError)
    def schema_error(request, exc):
        errors: dict[str, list[str]] = {}
        for error in exc.errors:
            errors.setdefault(_loc_to_field(error.get("loc", [])), []).append(error.get("msg", ""))
        return api.create_response(request, {"detail": _("Invalid input."), "errors": errors}, status=422)

    @api.exception_handler(ValidationError)
    def service_error(request, exc):
        return api.create_response(
            request, {"detail": _("Invalid input."), "errors": validation_errors(exc)}, status=400
        )

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return api.create_response(request, {"detail": str(exc) or _("Permission denied."), "errors": {}}, status=403)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return api.create_response(request, {"detail": _("Not found."), "errors": {}}, status=404)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return api.create_response(
            request, {"detail": _("Authentication required: send a valid bearer token."), "errors": {}}, status=401
        )

    from jiketong.catalog.api import router as catalog_router
    from jiketong.customers.api import router as customers_router
    from jiketong.org.api import router as org_router

    api.add_router("", org_router)
    api.add_router("", customers_router)
    api.add_router("", catalog_router)
    # The apps built on the archive; each owns its router and paths.
    for app in ("sales", "deals", "work", "service", "billing", "analytics", "churn", "webhooks"):
        api.add_router("", import_module(f"jiketong.{app}.api").router)
    return api
