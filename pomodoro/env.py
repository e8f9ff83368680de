"""Which settings module to load, chosen by DJANGO_ENV (development, test, production)."""

import os

SETTINGS_BY_ENV = {
    "development": "pomodoro.settings.base",
    "test": "pomodoro.settings.test",
    "production": "pomodoro.settings.production",
}


def use_settings_from_environment() -> None:
    """Point DJANGO_SETTINGS_MODULE at the settings for DJANGO_ENV unless it is set already."""
    environment = os.environ.get("DJANGO_ENV", "development")
    if environment not in SETTINGS_BY_ENV:
        raise SystemExit(
            f"DJANGO_ENV must be one of {', '.join(SETTINGS_BY_ENV)}, not {environment!r}"
        )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_BY_ENV[environment])
