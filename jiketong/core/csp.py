"""The Content-Security-Policy header on every response (ASVS V14.4): scripts only from our own static files,
so an injected `<script>` or `onclick=` never runs. Pages keep no inline script or handler for it
(static/js/app.js gives templates their behaviours by data attributes). Inline *styles* stay allowed: Bootstrap's
utilities and ECharts set style attributes, and a style cannot run code."""

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = "; ".join(f"{name} {value}" for name, value in settings.CONTENT_SECURITY_POLICY.items())

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
