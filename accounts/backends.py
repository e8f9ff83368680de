from django.contrib.auth.backends import ModelBackend

from pomodoro.emails import normalize_email


class EmailBackend(ModelBackend):
    """Log in by email, case-insensitively (emails are stored lower-cased)."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        return super().authenticate(
            request, username=normalize_email(email or username or ""), password=password, **kwargs
        )
