"""The kernel's own pages: the health check. (The workbench is work.views.home; the audit log
customers.audit_views.)"""

from django.http import HttpRequest, HttpResponse


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
