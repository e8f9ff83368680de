"""Every setting, read from the environment, with defaults that run embedded.

With no variables set the service runs on SQLite (a file under data/), an
in-memory channel layer and a local-memory cache. DATABASE_URL switches to
PostgreSQL and REDIS_URL to Redis for the channel layer and the cache.
production.py only tightens these; test.py only speeds them up.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

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
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "accounts",
    "sessions_app",
    "analytics",
    "teams",
]

MIDDLEWARE = [
    "pomodoro.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves the docs' and the admin's static files from the app itself: the docs
    # must work offline and behind any proxy.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
        "DATABASE_POOL", True
    ):
        # Under an ASGI server every request runs in its own thread, so persistent
        # connections would pile up; psycopg's pool is what the Django docs advise.
        DATABASES["default"]["OPTIONS"] = {
            "pool": {
                "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2),
                "max_size": env_int("DATABASE_POOL_MAX_SIZE", 20),
                "timeout": env_int("DATABASE_POOL_TIMEOUT", 10),
            }
        }
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }

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
if REDIS_URL:
    redis_host = {
        "address": REDIS_URL,
        # redis-py's pool raises (it does not wait) past max_connections, and
        # every socket's group_add/discard borrows a connection: size it for
        # bursts of connects (see docs/benchmarks.md).
        "max_connections": env_int("CHANNEL_LAYER_MAX_CONNECTIONS", 1000),
        # redis-py 8 reads with a 5 s timeout by default, the same as
        # channels-redis's blocking pop, so an idle socket's receive
        # could time out and crash its consumer: read longer than that.
        "socket_timeout": 15,
    }
    if CHANNEL_LAYER == "pubsub":
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [redis_host], "prefix": f"{REDIS_KEY_PREFIX}:asgi"},
            }
        }
    else:
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {
                    "hosts": [redis_host],
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
            "LOCATION": REDIS_URL,
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

# --- REST framework and OpenAPI -------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.AccessTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "pomodoro.errors.problem_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "pomodoro.pagination.StableCursorPagination",
    "PAGE_SIZE": 50,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Guessing invite codes: POST teams/join/ per user (teams.api.TeamJoinThrottle).
    "DEFAULT_THROTTLE_RATES": {"team_join": os.environ.get("TEAM_JOIN_RATE", "10/minute")},
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
    "ENUM_NAME_OVERRIDES": {
        "MemberStateEnum": "teams.serializers.MEMBER_STATES",
        "SessionStateEnum": "sessions_app.models.Session.State",
    },
}

# --- Internationalisation, static files -------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "pomodoro" / "static"]
# Without collectstatic (a source checkout), WhiteNoise finds files in the apps.
WHITENOISE_USE_FINDERS = True

# --- Product limits -------------------------------------------------------
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)
# An in-progress idempotency claim older than this is taken to belong to a
# request that died mid-way (the process was killed), and may be taken over.
IDEMPOTENCY_STALE_AFTER = timedelta(seconds=env_int("IDEMPOTENCY_STALE_SECONDS", 60))
EVENTS_PAGE_SIZE = 500
# How long the global leaderboard is served from the cache: a short TTL chosen, not yet
# measured against invalidation on writes (docs/design.md, Analytics).
LEADERBOARD_CACHE_SECONDS = env_int("LEADERBOARD_CACHE_SECONDS", 30)
# Teams: members of one team, and teams one user may belong to (docs/api.md, Teams).
TEAM_MAX_MEMBERS = env_int("TEAM_MAX_MEMBERS", 200)
TEAMS_PER_USER = env_int("TEAMS_PER_USER", 20)

# --- Logging ---------------------------------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
