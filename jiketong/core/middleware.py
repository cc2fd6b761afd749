from django.conf import settings
from django.contrib.auth.views import redirect_to_login

# The API authenticates with its own tokens and answers 401 itself; static files are public.
OPEN_PREFIXES = ("/accounts/login/", "/i18n/", "/api/", "/static/", "/healthz")


class LoginRequiredMiddleware:
    """Every page needs a logged-in, active user; nothing about customers is public."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.user.is_authenticated and not request.path.startswith(OPEN_PREFIXES):
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        return self.get_response(request)
