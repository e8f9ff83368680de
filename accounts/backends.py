from django.contrib.auth.backends import ModelBackend

from pomodoro.client_address import client_address
from pomodoro.emails import normalize_email
from pomodoro.throttling import (
    login_attempt_admit,
    login_failure_note,
    login_failures_clear,
    login_ip_admit,
)


class EmailBackend(ModelBackend):
    """Log in by email, case-insensitively (emails are stored lower-cased).

    Every password check of the service passes here (the API's login and password
    change, the browsable API's and the admin's login forms, anything that calls
    authenticate()), so the limits on guessing live here: the per-address limit
    (`login_ip`, 429) and the per-account lockout (LoginLockedOut, 429), both counted
    before the password is checked. They propagate out of authenticate() as exceptions;
    pomodoro.errors.ApiProblemMiddleware answers them on the forms' pages too."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        email = normalize_email(email or username or "")
        if not email or password is None:
            return None
        login_ip_admit(request)
        attempts = login_attempt_admit(email=email)
        user = super().authenticate(request, username=email, password=password, **kwargs)
        if user is None:
            client = client_address(request) if request is not None else None
            login_failure_note(email=email, attempts=attempts, client=client)
            return None
        login_failures_clear(email=email)
        return user
