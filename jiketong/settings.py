"""Settings, all fed from the environment.

Safe defaults serve the embedded demo (SQLite under var/, DEBUG on, a generated secret kept in var/);
`JIKETONG_PRODUCTION=1` turns the defaults off and fails loudly on anything left unset.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("JIKETONG_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"Set the environment variable {name}.")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean, got {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    try:
        return default if raw is None else int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    return default if raw is None else [item.strip() for item in raw.split(",") if item.strip()]


def demo_secret_key() -> str:
    """A per-installation key for the embedded demo, kept so sessions survive a restart."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


PRODUCTION = env_bool("JIKETONG_PRODUCTION", False)
DEBUG = env_bool("DEBUG", not PRODUCTION)
SECRET_KEY = env_str("SECRET_KEY") if PRODUCTION else os.environ.get("SECRET_KEY") or demo_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS (comma-separated) in production.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "ninja",  # serves its bundled Swagger UI for /api/v1/docs (no CDN on an intranet)
    "django_htmx",
    "template_partials",
    "treebeard",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "jiketong.core",
    "jiketong.org",
    "jiketong.customers",
    "jiketong.catalog",
    "jiketong.sales",
    "jiketong.deals",
    "jiketong.work",
    "jiketong.service",
    "jiketong.billing",
    "jiketong.analytics",
    "jiketong.churn",
    "jiketong.campaigns",
    "jiketong.defence",
    "jiketong.assessment",
    "jiketong.webhooks",
    "jiketong.federation",
    "jiketong.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "jiketong.core.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "jiketong.core.middleware.LanguageMiddleware",  # 简体中文 unless the user picks another language
    "jiketong.api.middleware.ApiErrorShapeMiddleware",  # 404/405 under /api/ in the API's JSON shape
    "jiketong.core.middleware.RequestTooLargeMiddleware",  # a 10 MB note: 413 page in that language
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "jiketong.core.middleware.LoginRequiredMiddleware",
    # After sessions and auth: a request that wrote reads the primary from then on (core.dbrouter).
    "jiketong.core.dbrouter.ReplicaPinMiddleware",
    # Last: axes inspects the response of a failed login.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "jiketong.urls"
WSGI_APPLICATION = "jiketong.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "jiketong" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jiketong.org.context_processors.staff",
                "jiketong.core.context_processors.navigation",
            ],
        },
    }
]

# --- database -----------------------------------------------------------------------------------
DEFAULT_SQLITE = f"sqlite:///{VAR_DIR / 'jiketong.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL", DEFAULT_SQLITE), conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web process read while a job writes; IMMEDIATE avoids upgrade deadlocks.
        "transaction_mode": "IMMEDIATE",
        # Seconds a write waits for another's lock before "database is locked" (the task worker retries then).
        "timeout": env_int("SQLITE_BUSY_TIMEOUT_SECONDS", 20),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-64000;",
    }
else:
    # JIT compilation cost seconds on the indicator GROUP BYs and saves nothing on OLTP pages (decision 0601).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    # Persistent connections (CONN_MAX_AGE above): a request must not pay for a new one, and a connection the
    # server dropped is replaced instead of failing the request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A PostgreSQL streaming replica for the analytical reads (jiketong.core.dbrouter, docs/operations.md). Unset:
# every read on the primary. Tests use the primary for it (MIRROR), unless a test starts a real one.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(env_str("DATABASE_REPLICA_URL"), conn_max_age=60)
    DATABASES["replica"]["OPTIONS"] = {**DATABASES["replica"].get("OPTIONS", {}), "options": "-c jit=off"}
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["jiketong.core.dbrouter.ReplicaRouter"]
# After a write, the same browser reads the primary this long; a `fresh` reader waits this long for the replica.
DATABASE_REPLICA_PIN_SECONDS = env_int("DATABASE_REPLICA_PIN_SECONDS", 10)
DATABASE_REPLICA_WAIT_MS = env_int("DATABASE_REPLICA_WAIT_MS", 200)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth and sessions --------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",  # refuses inactive users, so disabling ends sessions
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle timeout: every request pushes the expiry forward, so the session dies after this much idleness.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# No inline or foreign scripts anywhere (jiketong/core/csp.py); data: for ECharts' exported images and icons.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Production is served over HTTPS only (docs/operations.md). Behind a TLS-terminating proxy, set
# SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto and make the proxy overwrite that header on every request.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
# On by default in production; an intranet whose other subdomains still speak plain HTTP turns them off.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + env_str("SECURE_PROXY_SSL_HEADER").upper().replace("-", "_"), "https")
# The health check answers plain HTTP for the load balancer's probe.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"

# Lockout keyed on username + IP together, so nobody can lock a colleague out from another machine.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 90)

# --- language and time --------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600  # the language switch is remembered, not only for the browser session
LOCALE_PATHS = [BASE_DIR / "jiketong" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static files -------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "jiketong" / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise scans it at start-up; collectstatic fills it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = VAR_DIR / "media"

# --- background tasks (decision 0002: django-tasks) -----------------------------------------------
# Queued in the database and run by `python -m jiketong worker` (make demo starts one); tests
# switch to the immediate backend.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Uploaded spreadsheets (core.spreadsheets, decision 0018): what one file may hold. Refused unread past these.
SPREADSHEET_MAX_ROWS = env_int("SPREADSHEET_MAX_ROWS", 1_000_000)
SPREADSHEET_MAX_COLUMNS = env_int("SPREADSHEET_MAX_COLUMNS", 200)
SPREADSHEET_MAX_CELLS = env_int("SPREADSHEET_MAX_CELLS", 20_000_000)
SPREADSHEET_MAX_FILE_MB = env_int("SPREADSHEET_MAX_FILE_MB", 200)
SPREADSHEET_MAX_UNCOMPRESSED_MB = env_int("SPREADSHEET_MAX_UNCOMPRESSED_MB", 1024)
SPREADSHEET_MAX_RATIO = env_int("SPREADSHEET_MAX_RATIO", 100)
# Exports (core.exports, decision 0019): up to this many rows stream in the request; more are written by the task
# worker to a file under var/exports that only the requester may download, for this many days. A file holds at
# most EXPORT_MAX_ROWS rows (0: no limit); when that cap applies the screen, the notification and the file say so.
EXPORT_INLINE_MAX_ROWS = env_int("EXPORT_INLINE_MAX_ROWS", 50_000)
EXPORT_KEEP_DAYS = env_int("EXPORT_KEEP_DAYS", 7)
EXPORT_MAX_ROWS = env_int("EXPORT_MAX_ROWS", 0)
# Lead and archive imports: files of up to this many rows are read in the request, larger ones by the task
# worker with a progress page; a run with no sign of life for this long lost its worker and is failed.
IMPORT_INLINE_ROWS = env_int("IMPORT_INLINE_ROWS", 2000)
IMPORT_HEARTBEAT_TIMEOUT_SECONDS = env_int("IMPORT_HEARTBEAT_TIMEOUT_SECONDS", 300)
# Events still pending this long after they happened are picked up by the frequent job (core.events).
EVENTS_IN_FLIGHT_GRACE_SECONDS = env_int("EVENTS_IN_FLIGHT_GRACE_SECONDS", 60)
# Billing imports (docs/billing-import.md): a running import whose worker gave no sign of life for this long is
# closed as failed by the frequent job; a good-rows import that would drop more than this fraction of a month's
# rows stops and asks the uploader to confirm (1 never asks).
BILLING_IMPORT_HEARTBEAT_TIMEOUT_SECONDS = env_int("BILLING_IMPORT_HEARTBEAT_TIMEOUT_SECONDS", 180)
try:
    BILLING_MAX_DROP = float(env_str("BILLING_MAX_DROP", "0.5"))
except ValueError:
    BILLING_MAX_DROP = -1.0
if not 0 <= BILLING_MAX_DROP <= 1:
    raise ImproperlyConfigured(
        f"BILLING_MAX_DROP must be a fraction from 0 to 1, got {os.environ['BILLING_MAX_DROP']!r}."
    )
# Webhooks (decision 0011): a POST waits this long for an answer; an endpoint with no successful delivery for
# this many hours is disabled (0: never), and so is one with this many failed attempts in a row (0, the default:
# never, because one import can emit thousands of events and a short outage would trip it).
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", 5)
WEBHOOKS_DISABLE_AFTER_HOURS = env_int("WEBHOOKS_DISABLE_AFTER_HOURS", 24)
WEBHOOKS_DISABLE_AFTER_FAILURES = env_int("WEBHOOKS_DISABLE_AFTER_FAILURES", 0)
WEBHOOKS_KEEP_DAYS = env_int("WEBHOOKS_KEEP_DAYS", 30)  # delivered messages are forgotten after this many days

# --- two-level system (decision 1101, docs/federation.md) -----------------------------------------
# `single` (the default) is one instance holding everything, as before; `province` runs one province's system
# and sends its national groups and indicators to HQ; `hq` receives them and sends national directives back.
JIKETONG_INSTANCE = env_str("JIKETONG_INSTANCE", "single").strip().lower()
if JIKETONG_INSTANCE not in {"single", "province", "hq"}:
    raise ImproperlyConfigured(f"JIKETONG_INSTANCE must be single, province or hq, got {JIKETONG_INSTANCE!r}.")
JIKETONG_PROVINCE = env_str("JIKETONG_PROVINCE", "")  # the province's GB/T 2260 code, e.g. 440000
if JIKETONG_INSTANCE == "province" and not (len(JIKETONG_PROVINCE) == 6 and JIKETONG_PROVINCE.endswith("0000")):
    raise ImproperlyConfigured("A province instance needs JIKETONG_PROVINCE, its 6-digit code (e.g. 440000).")
FEDERATION_HQ_URL = env_str("FEDERATION_HQ_URL", "").rstrip("/")  # e.g. https://hq.example/ (province only)
FEDERATION_HQ_TOKEN = env_str("FEDERATION_HQ_TOKEN", "")  # this province's token, from `federation province-add`
if JIKETONG_INSTANCE == "province" and PRODUCTION and not (FEDERATION_HQ_URL and FEDERATION_HQ_TOKEN):
    raise ImproperlyConfigured("A province instance in production needs FEDERATION_HQ_URL and FEDERATION_HQ_TOKEN.")
FEDERATION_BATCH_ROWS = env_int("FEDERATION_BATCH_ROWS", 500)  # rows per POST to HQ
FEDERATION_TIMEOUT_SECONDS = env_int("FEDERATION_TIMEOUT_SECONDS", 30)
FEDERATION_RETRY_SECONDS = env_int("FEDERATION_RETRY_SECONDS", 30)  # first pause after a failure; doubles to 1 h

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
