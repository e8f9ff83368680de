from django.apps import AppConfig


class PomodoroConfig(AppConfig):
    """The ground layer as an app, for the one model it owns: idempotency records."""

    name = "pomodoro"
    verbose_name = "Service"
