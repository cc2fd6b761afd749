"""The one API: the kernel's error answers and parser (api/base.py) around each app's router. It imports the
apps' api.py modules, which import api/base.py, so it sits above them all (docs/developing.md)."""

import logging
from importlib import import_module

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import django_auth

from jiketong.catalog.api import router as catalog_router
from jiketong.core.concurrency import StaleEdit, etag
from jiketong.customers.api import router as customers_router
from jiketong.org.api import router as org_router

from .base import BearerToken, TextParser, _loc_to_field, document_errors, validation_errors

logger = logging.getLogger("jiketong.api")


class JiketongAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        return document_errors(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))


def build_api() -> NinjaAPI:
    api = JiketongAPI(
        title="集客通 Jiketong API",
        version="1",
        description=_(
            "Group-customer archive, org, catalog and subscriptions. Authenticate with "
            "`Authorization: Bearer <token>` (`python -m jiketong token USERNAME`)."
        ),
        auth=[BearerToken(), django_auth],
        parser=TextParser(),
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

    @api.exception_handler(StaleEdit)
    def stale(request, exc):
        detail = _(
            "The record has changed since you read it (you sent version %(expected)s, it is at %(current)s): "
            "read it again and send your change with its new ETag in If-Match."
        ) % {"expected": exc.expected, "current": exc.current}
        response = api.create_response(request, {"detail": detail, "errors": {}}, status=412)
        response["ETag"] = etag(exc.instance)
        return response

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

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        # Ninja answers a body it cannot parse with HttpError(400) raised "from" the parser's error.
        if isinstance(exc.__cause__, NinjaValidationError):
            return schema_error(request, exc.__cause__)
        if exc.status_code == 400 and exc.__cause__ is not None:
            # Not JSON at all is a body that does not match the schema: 422, so 400 stays the business rules'.
            detail = _("The request body is not valid JSON.")
            return api.create_response(request, {"detail": detail, "errors": {}}, status=422)
        return api.create_response(request, {"detail": str(exc), "errors": {}}, status=exc.status_code)

    @api.exception_handler(RequestDataTooBig)
    def too_large(request, exc):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        detail = _("The request body is larger than the %(size)d KB the server accepts.") % {"size": limit // 1024}
        return api.create_response(request, {"detail": detail, "errors": {}}, status=413)

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request, exc):
        return api.create_response(request, {"detail": _("The request is malformed."), "errors": {}}, status=400)

    @api.exception_handler(Exception)
    def server_error(request, exc):
        # Still a bug to fix: the traceback goes to the log, the client gets the documented shape.
        logger.error("API %s %s failed", request.method, request.path, exc_info=exc)
        detail = _("Server error: the request was not completed. It has been logged.")
        return api.create_response(request, {"detail": detail, "errors": {}}, status=500)

    api.add_router("", org_router)
    api.add_router("", customers_router)
    api.add_router("", catalog_router)
    # The apps built on the archive; each owns its router and paths.
    apps = (
        "sales",
        "deals",
        "work",
        "service",
        "billing",
        "analytics",
        "churn",
        "defence",
        "assessment",
        "campaigns",
        "webhooks",
        "federation",
    )
    for app in apps:
        api.add_router("", import_module(f"jiketong.{app}.api").router)
    return api
