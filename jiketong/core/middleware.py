from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

# The API authenticates with its own tokens and answers 401 itself; static files are public.
OPEN_PREFIXES = ("/accounts/login/", "/i18n/", "/api/", "/static/", "/healthz")
API_PREFIX = "/api/"


class LoginRequiredMiddleware:
    """Every page needs a logged-in, active user; nothing about customers is public."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not request.path.startswith(OPEN_PREFIXES):
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return self.get_response(request)


class LanguageMiddleware(LocaleMiddleware):
    """Pages speak 简体中文 unless the user picked another language with the switch (django's set_language
    cookie); the browser's Accept-Language is not asked, so an en-US browser still gets the Chinese UI the
    README promises. The API keeps Django's negotiation (cookie, then Accept-Language, then 简体中文), since
    docs/api.md tells integrators that messages follow Accept-Language."""

    def process_request(self, request):
        if request.path.startswith(API_PREFIX):
            return super().process_request(request)
        translation.activate(self.chosen_language(request))
        request.LANGUAGE_CODE = translation.get_language()

    @staticmethod
    def chosen_language(request) -> str:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen:
            try:
                return translation.get_supported_language_variant(chosen)
            except LookupError:
                pass
        return settings.LANGUAGE_CODE

    def process_response(self, request, response):
        if request.path.startswith(API_PREFIX):
            return super().process_response(request, response)
        # The answer depends on the language cookie, not on Accept-Language (the session cookie already
        # makes caches vary on Cookie).
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


class RequestTooLargeMiddleware:
    """A page's form body past DATA_UPLOAD_MAX_MEMORY_SIZE (a 10 MB note) answers 413 with a page in the
    user's language; Django would answer 400 with its English debug page. It reads the form here, before
    CSRF does; uploaded files are streamed to disk and do not count. The API answers its own JSON 413
    (api.base). Sits after LanguageMiddleware, so the page speaks the chosen language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and not request.path.startswith(API_PREFIX):
            try:
                request.POST  # noqa: B018 (parse now, where the refusal can still be answered kindly)
            except RequestDataTooBig:
                return too_large(request)
        return self.get_response(request)


def too_large(request) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    referer = request.META.get("HTTP_REFERER", "")
    back = referer if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}) else "/"
    html = render_to_string("core/too_large.html", {"limit": filesizeformat(limit), "back": back})
    response = HttpResponse(html, status=413)
    response.headers["Content-Language"] = translation.get_language()
    return response
