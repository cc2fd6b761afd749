from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers

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
