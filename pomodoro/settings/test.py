"""Test settings: base.py, only faster."""

from pomodoro.settings.base import *  # noqa: F403
from pomodoro.settings.base import (
    CHANNEL_LAYERS,
    DATABASES,
    REDIS_KEY_PREFIX,
    REDIS_URL,
    REST_FRAMEWORK,
)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Concurrency tests open connections from many threads and close them at once;
# plain connections make that simpler to reason about than a pool per test database.
DATABASES["default"].pop("OPTIONS", None)

if REDIS_URL:
    # Its own key space, so a test run never meets a running server's messages.
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"{REDIS_KEY_PREFIX}:test:asgi"

# Rate limits off: the suite sends hundreds of requests from one address, and user ids
# repeat from run to run. The tests of the limits turn them on (the `rate_limits` fixture).
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": dict.fromkeys(REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]),
}
LOGIN_LOCKOUT_FAILURES = 0

# The suite runs without collectstatic: pages link static files by their plain names.
# The browser tests' server (tests/web/) runs collectstatic and serves the hashed names
# as production does (pomodoro.settings.browser_test).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
