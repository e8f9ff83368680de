"""Production settings: base.py, tightened. Refuses to start without real secrets."""

import os

from django.core.exceptions import ImproperlyConfigured

from pomodoro.settings.base import *  # noqa: F403
from pomodoro.settings.base import (
    DEVELOPMENT_JWT_SIGNING_KEY,
    DEVELOPMENT_SECRET_KEY,
    METRICS_INTERNAL_ONLY,
    METRICS_TOKEN,
    SECRET_KEY,
    SIMPLE_JWT,
    env_bool,
    env_int,
    env_list,
    logging_config,
)

DEBUG = False

if not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("Set SECRET_KEY to a random string of at least 50 characters.")
if SIMPLE_JWT["SIGNING_KEY"] in ("", DEVELOPMENT_JWT_SIGNING_KEY, SECRET_KEY):
    raise ImproperlyConfigured("Set JWT_SIGNING_KEY to its own secret, not SECRET_KEY.")

if not METRICS_TOKEN and not METRICS_INTERNAL_ONLY:
    raise ImproperlyConfigured(
        "Set METRICS_TOKEN, or METRICS_INTERNAL_ONLY=true if /metrics is reachable only "
        "inside your network (docs/operations.md#metrics)."
    )

# Only the configured browser origins may open the WebSocket: base.py's defaults are the
# development server's.
WEBSOCKET_ALLOWED_ORIGINS = env_list("WEBSOCKET_ALLOWED_ORIGINS", [])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS to the host names this service answers to.")

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# No script reads the CSRF cookie: the browsable API and Swagger UI get the token in the page.
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# One JSON object per line for the log pipeline, unless LOG_FORMAT says otherwise.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)  # noqa: F405
