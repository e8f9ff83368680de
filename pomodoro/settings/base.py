"""Every setting, read from the environment, with defaults that run embedded.

With no variables set the service runs on the embedded PostgreSQL that ./scripts/run
starts in data/postgres (pomodoro/embedded_db.py), an in-memory channel layer and a
local-memory cache. DATABASE_URL names another PostgreSQL server and REDIS_URL a Redis
for the channel layer and the cache.
production.py only tightens these; test.py only speeds them up.
"""

import base64
import hashlib
import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured

from pomodoro import embedded_db

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "data"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def csp_hash(source: str) -> str:
    """The Content-Security-Policy source that allows exactly this inline script."""
    digest = base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-never-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Browser origins allowed to open the WebSocket; native clients send no Origin and are accepted.
WEBSOCKET_ALLOWED_ORIGINS = env_list(
    "WEBSOCKET_ALLOWED_ORIGINS", ["http://localhost:8000", "http://127.0.0.1:8000"]
)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # ArrayField, GIN and trigram indexes (sessions' tags and text search); its ready()
    # lets an index expression carry an operator class (OpClass).
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "channels",
    # Layered, lowest first (pyproject.toml, [tool.importlinter]): the ground (pomodoro,
    # the event log), accounts, sessions, then analytics and teams, then integrations.
    "pomodoro",
    "events",
    "accounts",
    "sessions_app",
    "analytics",
    "teams",
    "integrations",
    # The web app at / (templates and ES modules), on the public API alone: the top.
    "web",
]

MIDDLEWARE = [
    # Outermost, so every response (errors and 404s too) carries X-Request-ID and every
    # log line of the request its id; then the metrics, which time the rest.
    "pomodoro.request_log.RequestIdMiddleware",
    "pomodoro.metrics.RequestMetricsMiddleware",
    # Before anything that answers, so the answers it makes (a 413 too) carry CORS headers.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Above WhiteNoise, so static files get the policy too.
    "pomodoro.csp.CSPMiddleware",
    # Above WhiteNoise too: static files answer from it, before any middleware below.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Before the CSRF check and the session login, which read form bodies.
    "pomodoro.body_limit.RequestBodyLimitMiddleware",
    # Serves the docs' and the admin's static files from the app itself: the docs
    # must work offline and behind any proxy.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "pomodoro.throttling.RateLimitHeadersMiddleware",
    "pomodoro.errors.ApiProblemMiddleware",
]

ROOT_URLCONF = "pomodoro.urls"
WSGI_APPLICATION = "pomodoro.wsgi.application"
ASGI_APPLICATION = "pomodoro.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "pomodoro" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# Unset, the embedded server running on DATA_DIR (./scripts/run exports its URL; this
# finds it for a manage.py command run beside it in another shell).
DATABASE_URL = os.environ.get("DATABASE_URL", "") or embedded_db.running_url(DATA_DIR / "postgres")
if DATABASE_URL:
    # Health checks: with the pool, a connection is tested (an empty query) as it is
    # taken, so the broken ones a PostgreSQL restart leaves behind are replaced rather
    # than failing one request each (docs/drills.md, PostgreSQL restart).
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)
    }
    if env_bool("DATABASE_POOL", True):
        # Under an ASGI server every request runs in its own thread, so persistent
        # connections would pile up; psycopg's pool is what the Django docs advise.
        # Added to the options DATABASE_URL gave (sslmode=...), not in their place.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2),
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", 20),
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 10),
        }
else:
    # No database: commands that need none (check, collectstatic) still run; any query
    # fails with Django's ImproperlyConfigured.
    DATABASES = {"default": {"ENGINE": "django.db.backends.dummy"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Redis: channel layer and cache ----------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "pomodoro")
# "pubsub" (Redis PUBLISH to subscribed processes) or "core" (a list per channel,
# with capacity and expiry). PubSub measured about twice as fast at the p50 and
# four times at the p99 over 1,000 sockets, losing nothing; the consumer fills
# any gap from the event log, so core's delivery bookkeeping buys nothing here.
# See docs/design.md#channel-layer-settings.
CHANNEL_LAYER = os.environ.get("CHANNEL_LAYER", "pubsub")
# Scaling out (docs/scaling.md, step 5): the channel layer may be sharded over several
# Redis hosts (channels-redis hashes each channel and group name to one of them; every
# process must list the same hosts in the same order), and the cache may live on a
# Redis of its own (one with maxmemory and eviction, which pub/sub does not want).
CHANNEL_LAYER_REDIS_URLS = env_list("CHANNEL_LAYER_REDIS_URLS", [REDIS_URL] if REDIS_URL else [])
CACHE_REDIS_URL = os.environ.get("CACHE_REDIS_URL", "") or REDIS_URL
if REDIS_URL:
    redis_hosts = [
        {
            "address": address,
            # redis-py's pool raises (it does not wait) past max_connections, and
            # every socket's group_add/discard borrows a connection: size it for
            # bursts of connects (see docs/benchmarks.md).
            "max_connections": env_int("CHANNEL_LAYER_MAX_CONNECTIONS", 1000),
            # redis-py 8 reads with a 5 s timeout by default, the same as
            # channels-redis's blocking pop, so an idle socket's receive
            # could time out and crash its consumer: read longer than that.
            "socket_timeout": 15,
        }
        for address in CHANNEL_LAYER_REDIS_URLS
    ]
    if CHANNEL_LAYER == "pubsub":
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": redis_hosts, "prefix": f"{REDIS_KEY_PREFIX}:asgi"},
            }
        }
    else:
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": redis_hosts,
                    "prefix": f"{REDIS_KEY_PREFIX}:asgi",
                    "capacity": env_int("CHANNEL_LAYER_CAPACITY", 1000),
                    "expiry": env_int("CHANNEL_LAYER_EXPIRY", 60),
                    "group_expiry": env_int("CHANNEL_LAYER_GROUP_EXPIRY", 86400),
                },
            }
        }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication -------------------------------------------------------
AUTHENTICATION_BACKENDS = ["accounts.backends.EmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

DEVELOPMENT_JWT_SIGNING_KEY = "development-jwt-signing-key-not-the-secret-key"
SIMPLE_JWT = {
    # Access tokens cannot be revoked by the blacklist, so they live briefly.
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_TOKEN_MINUTES", 5)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_TOKEN_DAYS", 14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": os.environ.get("JWT_SIGNING_KEY", DEVELOPMENT_JWT_SIGNING_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

# A password reset link works once, for this long (Django's PasswordResetTokenGenerator).
PASSWORD_RESET_TIMEOUT = 3600
# Guest accounts with no activity for this many days are deleted by the timer worker,
# once a day (manage.py delete_inactive_guests; docs/operations.md).
GUEST_INACTIVE_DAYS = env_int("GUEST_INACTIVE_DAYS", 30)

# --- Email ------------------------------------------------------------------
# Where the password-reset link points: the web app's origin, the service's own one
# (the origin of the request that asked for the email) when empty.
WEB_APP_URL = os.environ.get("WEB_APP_URL", "").rstrip("/")


def email_settings(environ) -> dict:
    """Django's email settings from the environment: SMTP when EMAIL_HOST is set, else
    one file per email in EMAIL_FILE_PATH when that is set, else the standard output."""
    settings = {
        "DEFAULT_FROM_EMAIL": environ.get("DEFAULT_FROM_EMAIL", "Pomodoro <noreply@localhost>"),
        "EMAIL_TIMEOUT": int(environ.get("EMAIL_TIMEOUT") or 10),
    }
    if environ.get("EMAIL_HOST"):
        use_ssl = environ.get("EMAIL_USE_SSL", "").strip().lower() in {"1", "true", "yes", "on"}
        use_tls = environ.get("EMAIL_USE_TLS", "true").strip().lower() in {"1", "true", "yes", "on"}
        return {
            **settings,
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": environ["EMAIL_HOST"],
            "EMAIL_PORT": int(environ.get("EMAIL_PORT") or (465 if use_ssl else 587)),
            "EMAIL_HOST_USER": environ.get("EMAIL_HOST_USER", ""),
            "EMAIL_HOST_PASSWORD": environ.get("EMAIL_HOST_PASSWORD", ""),
            "EMAIL_USE_SSL": use_ssl,
            "EMAIL_USE_TLS": use_tls and not use_ssl,
        }
    if environ.get("EMAIL_FILE_PATH"):
        return {
            **settings,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": environ["EMAIL_FILE_PATH"],
        }
    return {**settings, "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}


globals().update(email_settings(os.environ))

# --- Rate limits ------------------------------------------------------------
# Requests per scope and window ("N/second|minute|hour|day"), each from RATE_LIMIT_<SCOPE>;
# "off" turns one limit off, RATE_LIMITS_ENABLED=false all of them (a fuzz or load run).
RATE_LIMIT_DEFAULTS = {
    "login_ip": "30/minute",
    "login_account": "10/minute",
    "register_ip": "20/hour",
    "guest_ip": "20/hour",
    "refresh_ip": "60/minute",
    "refresh_account": "10/minute",
    "ticket_ip": "120/minute",
    "ticket_user": "30/minute",
    "join_ip": "30/minute",
    "join_user": "10/minute",
    "writes_user": "120/minute",
    "password_reset_ip": "10/hour",
    "password_reset_email": "3/hour",
}
RATE_LIMIT_FORMAT = re.compile(r"^[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)$")


def env_rate(scope: str) -> str | None:
    name = f"RATE_LIMIT_{scope.upper()}"
    value = os.environ.get(name, RATE_LIMIT_DEFAULTS[scope]).strip().lower()
    if value in {"off", "none", ""}:
        return None
    if not RATE_LIMIT_FORMAT.match(value):
        raise ImproperlyConfigured(f"{name} must look like 10/minute or be off, not {value!r}")
    return value


RATE_LIMITS_ENABLED = env_bool("RATE_LIMITS_ENABLED", True)
RATE_LIMITS = {
    scope: env_rate(scope) if RATE_LIMITS_ENABLED else None for scope in RATE_LIMIT_DEFAULTS
}
# Failed logins for one account within a window that starts at the first of them lock it
# until that window ends (0 failures: no lockout). See docs/api.md#failed-login-lockout.
LOGIN_LOCKOUT_FAILURES = env_int("LOGIN_LOCKOUT_FAILURES", 10) if RATE_LIMITS_ENABLED else 0
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900)
if LOGIN_LOCKOUT_SECONDS <= 0:
    # A window of 0 seconds would never expire in Redis (and refuse the SET outright).
    raise ImproperlyConfigured(
        f"LOGIN_LOCKOUT_SECONDS must be a positive number of seconds, not {LOGIN_LOCKOUT_SECONDS}"
    )

# --- REST framework and OpenAPI -------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Before the JWT class, which would refuse a Bearer token that is no JWT.
        "accounts.authentication.PersonalAccessTokenAuthentication",
        "accounts.authentication.AccessTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["pomodoro.parsers.StrictJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "pomodoro.errors.problem_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "pomodoro.pagination.StableCursorPagination",
    "PAGE_SIZE": 50,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Rate limits (pomodoro/throttling.py, docs/api.md#rate-limits): every write of a
    # signed-in user by default; the auth, ticket and join views list their own.
    "DEFAULT_THROTTLE_CLASSES": ["pomodoro.throttling.WriteUserThrottle"],
    "DEFAULT_THROTTLE_RATES": RATE_LIMITS,
    # Proxies in front of the app whose X-Forwarded-For is trusted for the client address;
    # 0 uses REMOTE_ADDR alone (a client could write any X-Forwarded-For it likes).
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Pomodoro API",
    "DESCRIPTION": (
        "Focus timers and time tracking for web and mobile clients. "
        "Errors are application/problem+json (RFC 9457)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # pomodoro.converters' <id:...>: an integer, as <int:...> is documented.
    "PATH_CONVERTER_OVERRIDES": {"id": int},
    "ENUM_NAME_OVERRIDES": {
        "MemberStateEnum": "teams.serializers.MEMBER_STATES",
        "SessionStateEnum": "sessions_app.models.Session.State",
    },
    # Every error is problem+json, and the framework's own errors are documented for every
    # operation in one place (pomodoro/schema.py), not view by view.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "pomodoro.schema.document_problem_responses",
    ],
}

# --- Browser-facing security (docs/security.md) ----------------------------------
# SecurityMiddleware and XFrameOptionsMiddleware send these on every response;
# production.py adds HSTS and secure cookies.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp). Every page served here (the web app, Swagger UI,
# Redoc, the admin, the browsable API) loads its scripts as files from this origin, never
# inline, so scripts are 'self' alone. Styles allow 'unsafe-inline' because Redoc and
# Swagger UI write <style> elements at run time; Redoc runs its search in a Worker made
# from a blob: URL. connect-src 'self' also covers ws:/wss: to this host (CSP Level 3),
# for the web app's WebSocket. One inline event handler is allowed, by its hash: the "Log out"
# link of the browsable API (rest_framework's optional_logout tag). drills/browser_csp.py
# opens every page in a browser under this policy.
BROWSABLE_API_LOGOUT_ONCLICK = 'document.getElementById("logoutForm").submit()'
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "script-src-attr": ["'unsafe-hashes'", csp_hash(BROWSABLE_API_LOGOUT_ONCLICK)],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# CORS (django-cors-headers): browser apps served from these origins may call /api/.
# None by default: native clients and same-origin pages need no CORS. Tokens travel in the
# Authorization header, never in cookies, so credentials stay off.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = (*cors_default_headers, "idempotency-key", "if-match", "x-request-id")
# Response headers a browser app may read (the rest of the contract's headers).
CORS_EXPOSE_HEADERS = [
    "Content-Disposition",
    "ETag",
    "Idempotent-Replayed",
    "Location",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Retry-After",
    "WWW-Authenticate",
    "X-Request-ID",
]

# The largest request body accepted; a larger one is a 413 `payload_too_large`, refused
# from its Content-Length before it is read (pomodoro/body_limit.py). The largest valid
# body, a session with a 2,000-character description, is under 13 KB even fully escaped.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("REQUEST_BODY_MAX_BYTES", 64 * 1024)
# The largest CSV file `sessions/import/` takes (as a multipart field or as the body), and
# the larger body limit of that one path: the file plus room for a multipart envelope.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 5 * 1024 * 1024)
REQUEST_BODY_LIMITS = {"/api/v1/sessions/import/": IMPORT_MAX_BYTES + 64 * 1024}

# --- Internationalisation, static files -------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
# Without collectstatic (a source checkout), WhiteNoise finds files in the apps.
WHITENOISE_USE_FINDERS = True
# collectstatic writes each file under a name with its content's hash (the web app's
# ES modules' imports rewritten to match) and compressed copies; WhiteNoise serves
# those hashed names with a year-long immutable Cache-Control (docs/web.md). With DEBUG
# on (./scripts/run) pages link the plain names, so an edit shows on reload.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "pomodoro.static_storage.HashedStaticFilesStorage"},
}

# --- Product limits -------------------------------------------------------
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)
# An in-progress idempotency claim older than this is taken to belong to a
# request that died mid-way (the process was killed), and may be taken over.
IDEMPOTENCY_STALE_AFTER = timedelta(seconds=env_int("IDEMPOTENCY_STALE_SECONDS", 60))
EVENTS_PAGE_SIZE = 500

# Webhooks (integrations/targets.py, docs/security.md#webhooks): endpoints must be https
# and resolve to public addresses, checked at every connection. true lifts both rules,
# for development and tests whose receiver is on 127.0.0.1; never in production.
WEBHOOK_ALLOW_PRIVATE_TARGETS = env_bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", False)
# How long the global leaderboard is served from the cache: a short TTL chosen, not yet
# measured against invalidation on writes (docs/design.md, Analytics).
LEADERBOARD_CACHE_SECONDS = env_int("LEADERBOARD_CACHE_SECONDS", 30)
# Teams: members of one team, and teams one user may belong to (docs/api.md, Teams).
TEAM_MAX_MEMBERS = env_int("TEAM_MAX_MEMBERS", 200)
TEAMS_PER_USER = env_int("TEAMS_PER_USER", 20)

# --- Logging and metrics ---------------------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOG_FORMATS = ("plain", "json")


def logging_config(*, log_format: str, level: str) -> dict:
    """Everything to standard error, one line per record: "json" (one object per line,
    for a log pipeline) or "plain" (for a terminal). Fields: docs/operations.md#logs."""
    if log_format not in LOG_FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {log_format!r}.")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "pomodoro.request_log.RequestIdFilter"}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
            "json": {"()": "pomodoro.request_log.JsonLogFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # Django logs every 4xx answer at WARNING, after the middleware is done and so
            # without the request id; the access line (pomodoro.access) already has each
            # answer with its status and id. Server errors are still logged here.
            "django.request": {"level": "ERROR"},
        },
    }


# plain by default; production.py makes json the default there.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
# When set, GET /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`. Keep
# /metrics off the public internet either way (docs/operations.md#metrics). Production
# settings refuse to start without it unless METRICS_INTERNAL_ONLY=true says the
# operator serves /metrics only inside their network.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_INTERNAL_ONLY = env_bool("METRICS_INTERNAL_ONLY", False)
