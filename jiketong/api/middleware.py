"""The API's one error shape for the answers the API's own handlers never see."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

API_PREFIX = "/api/"


class ApiErrorShapeMiddleware:
    """Under /api/, a 404 or 405 given in HTML answers `{"detail": …, "errors": {}}` instead.

    Those come from outside the operations: Django's 404 page for a path no route matches (`/api/v1/nope`), and
    ninja's plain "Method not allowed" for a method a path does not take (PUT on `/api/v1/customers`). The
    status, and a 405's `Allow` header, stay as they were. A middleware rather than a catch-all route, so the
    URL resolver (and the scope matrix that walks it) sees only the real routes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code not in (404, 405)
            or not request.path.startswith(API_PREFIX)
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        if response.status_code == 404:
            detail = _("Not found.")
        else:
            detail = _("This path does not take %(method)s; it takes %(allowed)s.") % {
                "method": request.method,
                "allowed": response.get("Allow", ""),
            }
        shaped = JsonResponse({"detail": detail, "errors": {}}, status=response.status_code)
        if "Allow" in response:
            shaped["Allow"] = response["Allow"]
        return shaped
