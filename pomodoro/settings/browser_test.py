"""The browser tests' server (tests/web/): the test settings, with the static files
collected under hashed names (STATIC_ROOT), as in production."""

from pomodoro.settings.base import STORAGES as COLLECTED_STORAGES
from pomodoro.settings.test import *  # noqa: F403

STORAGES = COLLECTED_STORAGES
WHITENOISE_USE_FINDERS = False
# Pages link the hashed names only with DEBUG off, as in production.
DEBUG = False
# Each browser test empties the database after it, but the server's cache outlives
# that: a board cached by one test would show its users to the next.
LEADERBOARD_CACHE_SECONDS = 0
