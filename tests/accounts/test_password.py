"""Password change and password reset by email (docs/api.md#password-reset)."""

import re
from email import message_from_bytes
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from rest_framework.test import APIClient, APIRequestFactory

from accounts import api
from accounts.models import User
from accounts.services import password_reset_token
from accounts.tokens import token_pair_for
from events.models import Event
from pomodoro.settings.base import email_settings
from tests.conftest import assert_problem
from tests.events.socket_helpers import assert_closed_with, db, open_socket, run_async
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

CHANGE = "/api/v1/auth/password/change/"
RESET = "/api/v1/auth/password/reset/"
CONFIRM = "/api/v1/auth/password/reset/confirm/"
LOGIN = "/api/v1/auth/login/"
REFRESH = "/api/v1/auth/refresh/"
ME = "/api/v1/me/"
NEW_PASSWORD = "correct horse battery staple 9"
WRONG_CURRENT = "This is not your current password."
INVALID_TOKEN = "This reset link is unknown, used or expired. Ask for a new one."


def login(email: str, password: str):
    return APIClient().post(LOGIN, {"email": email, "password": password}, format="json")


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def password_state(user: User) -> tuple[str, int]:
    user.refresh_from_db()
    return user.password, user.token_generation


# --- change ---------------------------------------------------------------------------


def test_a_password_change_answers_a_fresh_pair_and_revokes_every_other_token(user):
    # given two devices signed in
    this_device = token_pair_for(user)
    other_device = token_pair_for(user)

    # when one changes the password
    response = bearer(this_device["access"]).post(
        CHANGE, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )

    # then it gets a fresh pair that works; every earlier token stops working
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"access", "refresh"}
    assert bearer(response.json()["access"]).get(ME).status_code == 200
    assert APIClient().post(REFRESH, {"refresh": response.json()["refresh"]}).status_code == 200
    for device in (this_device, other_device):
        assert_problem(bearer(device["access"]).get(ME), 401, "token_not_valid")
        assert_problem(
            APIClient().post(REFRESH, {"refresh": device["refresh"]}, format="json"),
            401,
            "token_not_valid",
        )
    assert login(user.email, NEW_PASSWORD).status_code == 200
    assert login(user.email, PASSWORD).status_code == 401


def test_a_wrong_current_password_is_400_and_changes_nothing(client, user):
    before = password_state(user)

    response = client.post(
        CHANGE, {"current_password": "not it", "new_password": NEW_PASSWORD}, format="json"
    )

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"current_password": [WRONG_CURRENT]}
    assert password_state(user) == before
    assert client.get(ME).status_code == 200


def test_a_new_password_the_validators_refuse_is_400_and_changes_nothing(client, user):
    before = password_state(user)

    response = client.post(
        CHANGE, {"current_password": PASSWORD, "new_password": "1234"}, format="json"
    )

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {
        "new_password": [
            "This password is too short. It must contain at least 8 characters.",
            "This password is too common.",
            "This password is entirely numeric.",
        ]
    }
    assert password_state(user) == before


def test_a_guest_has_no_current_password_to_change(api_client):
    guest = api_client.post("/api/v1/auth/guest/").json()

    response = bearer(guest["access"]).post(
        CHANGE, {"current_password": "", "new_password": NEW_PASSWORD}, format="json"
    )

    assert_problem(response, 400, "invalid")


def test_password_change_needs_authentication(api_client):
    response = api_client.post(
        CHANGE, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )

    assert_problem(response, 401, "not_authenticated")


def test_password_change_attempts_count_as_guesses_for_the_address(client, user, rate_limits):
    rate_limits(login_ip="2/minute")
    for _ in range(2):
        wrong = {"current_password": "guess", "new_password": NEW_PASSWORD}
        assert client.post(CHANGE, wrong, format="json").status_code == 400

    right = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    response = client.post(CHANGE, right, format="json")

    assert_problem(response, 429, "throttled")
    assert login(user.email, PASSWORD).status_code == 429  # the same address, any form


def test_password_change_attempts_count_toward_the_account_lockout(client, user, rate_limits):
    rate_limits(login_ip=None, login_account=None)
    for _ in range(10):
        wrong = {"current_password": "guess", "new_password": NEW_PASSWORD}
        assert client.post(CHANGE, wrong, format="json").status_code == 400

    response = login(user.email, PASSWORD)

    assert_problem(response, 429, "throttled")


@pytest.mark.django_db(transaction=True)
@run_async
async def test_a_password_change_closes_the_users_sockets_with_4401(user):
    pair = await db(token_pair_for)(user)
    async with open_socket(user) as (socket_, _):
        response = await db(bearer(pair["access"]).post)(
            CHANGE, {"current_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json"
        )
        assert response.status_code == 200

        await assert_closed_with(socket_, 4401)


# --- reset: the request -------------------------------------------------------------------


@pytest.fixture
def mailbox(settings, tmp_path) -> Path:
    """Emails go to files in a folder, as with EMAIL_FILE_PATH set."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    settings.WEB_APP_URL = ""
    return tmp_path


def emails_in(folder: Path) -> list:
    return [message_from_bytes(path.read_bytes()) for path in sorted(folder.iterdir())]


def link_in(message) -> str:
    (link,) = re.findall(r"https?://\S+", message.get_payload())
    return link


def test_a_reset_request_answers_202_and_emails_a_link_to_the_web_app(user, mailbox):
    response = APIClient().post(RESET, {"email": user.email.upper()}, format="json")

    assert response.status_code == 202
    assert response.content == b""
    (message,) = emails_in(mailbox)
    assert message["To"] == user.email
    assert message["Subject"] == "Reset your Pomodoro password"
    assert message.get_content_type() == "text/plain"
    link = link_in(message)
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "testserver", "/reset-password/")
    assert link.endswith(f"token={parse_qs(parts.query)['token'][0]}")
    assert "within 1 hour" in message.get_payload()


def test_the_link_points_at_web_app_url_when_it_is_set(user, mailbox, settings):
    settings.WEB_APP_URL = "https://app.example.com"

    APIClient().post(RESET, {"email": user.email}, format="json")

    (message,) = emails_in(mailbox)
    assert link_in(message).startswith("https://app.example.com/reset-password/?token=")


@pytest.mark.parametrize("email", ["nobody@example.com", "guest@example.com"])
def test_a_reset_request_for_no_account_answers_the_same_and_sends_nothing(email, mailbox, user):
    known = APIClient().post(RESET, {"email": user.email}, format="json")
    for path in mailbox.iterdir():
        path.unlink()
    User.objects.filter(pk=user.pk).update(is_active=email == "guest@example.com")

    unknown = APIClient().post(RESET, {"email": email}, format="json")

    assert (unknown.status_code, unknown.content) == (known.status_code, known.content)
    assert sorted(unknown.headers) == sorted(known.headers)
    assert list(mailbox.iterdir()) == []


def test_the_email_is_sent_only_after_the_answer(user, settings):
    """The lookup and the sending run once the response is closed (sent), so the answer
    takes the same time whether or not the account exists."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    request = APIRequestFactory().post(RESET, {"email": user.email}, format="json")

    response = api.PasswordResetView.as_view()(request)

    assert response.status_code == 202
    assert mail.outbox == []
    response.close()
    assert [message.to for message in mail.outbox] == [[user.email]]


def test_a_reset_request_with_an_invalid_email_is_400(api_client, mailbox):
    response = api_client.post(RESET, {"email": "not an email"}, format="json")

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"email": ["Enter a valid email address."]}
    assert list(mailbox.iterdir()) == []


def test_reset_requests_are_limited_per_email_whatever_the_address(user, mailbox, rate_limits):
    rate_limits(password_reset_email="2/hour")
    for index in range(2):
        client = APIClient(REMOTE_ADDR=f"198.51.100.{index}")
        assert client.post(RESET, {"email": user.email}, format="json").status_code == 202

    response = APIClient(REMOTE_ADDR="198.51.100.9").post(RESET, {"email": user.email})

    assert_problem(response, 429, "throttled")
    assert len(emails_in(mailbox)) == 2


def test_reset_requests_are_limited_per_address_whatever_the_email(mailbox, rate_limits):
    rate_limits(password_reset_ip="2/hour")
    client = APIClient(REMOTE_ADDR="198.51.100.7")
    for index in range(2):
        assert client.post(RESET, {"email": f"a{index}@example.com"}).status_code == 202

    assert_problem(client.post(RESET, {"email": "b@example.com"}), 429, "throttled")


def test_a_failure_to_send_is_logged_and_the_answer_is_still_202(user, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 1

    response = APIClient().post(RESET, {"email": user.email}, format="json")

    assert response.status_code == 202
    assert "work after the response failed" in caplog.messages


# --- reset: the confirmation -----------------------------------------------------------------


def reset_token_from_email(user, mailbox) -> str:
    APIClient().post(RESET, {"email": user.email}, format="json")
    (message,) = emails_in(mailbox)
    return parse_qs(urlsplit(link_in(message)).query)["token"][0]


def test_following_the_emailed_link_sets_the_new_password_once(user, mailbox):
    device = token_pair_for(user)
    token = reset_token_from_email(user, mailbox)

    response = APIClient().post(
        CONFIRM, {"token": token, "new_password": NEW_PASSWORD}, format="json"
    )

    assert response.status_code == 204
    assert response.content == b""
    assert login(user.email, NEW_PASSWORD).status_code == 200
    assert login(user.email, PASSWORD).status_code == 401
    assert_problem(
        APIClient().post(REFRESH, {"refresh": device["refresh"]}, format="json"),
        401,
        "token_not_valid",
    )
    # the same link again
    before = password_state(user)
    again = APIClient().post(
        CONFIRM, {"token": token, "new_password": "yet another passphrase 3"}, format="json"
    )
    assert assert_problem(again, 400, "invalid")["errors"] == {"token": [INVALID_TOKEN]}
    assert password_state(user) == before


def expired_token(user) -> str:
    issued = default_token_generator._num_seconds(default_token_generator._now()) - 3601
    made = default_token_generator._make_token_with_timestamp(
        user, issued, default_token_generator.secret
    )
    return password_reset_token(user).rsplit("-", 2)[0] + "-" + made


def altered_token(user) -> str:
    # The last character changed, whatever it was: always "0" left a token that already
    # ended in "0" valid (one run in 36 failed).
    token = password_reset_token(user)
    return token[:-1] + ("1" if token.endswith("0") else "0")


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(expired_token, id="expired"),
        pytest.param(altered_token, id="altered"),
        pytest.param(lambda user: "MTIz-abc-def", id="another-user-id"),
        pytest.param(lambda user: "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ-c1-d2", id="id-past-bigint"),
        pytest.param(lambda user: "%%%-x-y", id="garbage"),
        pytest.param(lambda user: "nodashes", id="no-parts"),
    ],
)
def test_an_unknown_or_expired_token_is_400_and_changes_nothing(user, make_token):
    before = password_state(user)

    response = APIClient().post(
        CONFIRM, {"token": make_token(user), "new_password": NEW_PASSWORD}, format="json"
    )

    assert assert_problem(response, 400, "invalid")["errors"] == {"token": [INVALID_TOKEN]}
    assert password_state(user) == before


def test_a_token_stops_working_when_the_password_changes_otherwise(client, user):
    token = password_reset_token(user)
    client.post(CHANGE, {"current_password": PASSWORD, "new_password": NEW_PASSWORD})

    response = APIClient().post(CONFIRM, {"token": token, "new_password": "third one, 77 x"})

    assert_problem(response, 400, "invalid")
    assert login(user.email, NEW_PASSWORD).status_code == 200


def test_a_valid_token_with_a_refused_new_password_is_400_and_stays_usable(user):
    token = password_reset_token(user)
    before = password_state(user)

    refused = APIClient().post(CONFIRM, {"token": token, "new_password": "short"})

    body = assert_problem(refused, 400, "invalid")
    assert body["errors"] == {
        "new_password": ["This password is too short. It must contain at least 8 characters."]
    }
    assert password_state(user) == before
    accepted = APIClient().post(CONFIRM, {"token": token, "new_password": NEW_PASSWORD})
    assert accepted.status_code == 204


def test_reset_confirmations_count_as_guesses_for_the_address(user, rate_limits):
    rate_limits(login_ip="2/minute")
    client = APIClient(REMOTE_ADDR="198.51.100.5")
    for _ in range(2):
        bad = {"token": "MTIz-abc-def", "new_password": NEW_PASSWORD}
        assert client.post(CONFIRM, bad, format="json").status_code == 400

    good = {"token": password_reset_token(user), "new_password": NEW_PASSWORD}
    assert_problem(client.post(CONFIRM, good, format="json"), 429, "throttled")
    assert login(user.email, NEW_PASSWORD).status_code == 401


def test_reset_confirmations_count_toward_the_accounts_lockout(user, rate_limits):
    rate_limits(login_ip=None, login_account=None)
    wrong = altered_token(user)
    for index in range(10):
        client = APIClient(REMOTE_ADDR=f"198.51.100.{index}")
        assert (
            client.post(CONFIRM, {"token": wrong, "new_password": NEW_PASSWORD}).status_code == 400
        )

    response = APIClient().post(
        CONFIRM, {"token": password_reset_token(user), "new_password": NEW_PASSWORD}
    )

    assert_problem(response, 429, "throttled")


def test_a_reset_records_no_event(user):
    APIClient().post(CONFIRM, {"token": password_reset_token(user), "new_password": NEW_PASSWORD})

    assert Event.objects.filter(user=user).count() == 0


# --- email settings from the environment ---------------------------------------------------


def test_emails_go_to_standard_output_with_no_settings():
    assert email_settings({}) == {
        "DEFAULT_FROM_EMAIL": "Pomodoro <noreply@localhost>",
        "EMAIL_TIMEOUT": 10,
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    }


def test_emails_go_to_files_with_email_file_path():
    assert email_settings({"EMAIL_FILE_PATH": "/var/mail/pomodoro"}) == {
        "DEFAULT_FROM_EMAIL": "Pomodoro <noreply@localhost>",
        "EMAIL_TIMEOUT": 10,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": "/var/mail/pomodoro",
    }


def test_emails_go_over_smtp_with_email_host():
    environ = {
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "secret",
        "EMAIL_FILE_PATH": "/ignored",
        "DEFAULT_FROM_EMAIL": "Focus <focus@example.com>",
    }

    assert email_settings(environ) == {
        "DEFAULT_FROM_EMAIL": "Focus <focus@example.com>",
        "EMAIL_TIMEOUT": 10,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "secret",
        "EMAIL_USE_SSL": False,
        "EMAIL_USE_TLS": True,
    }
    implicit_tls = email_settings({"EMAIL_HOST": "smtp.example.com", "EMAIL_USE_SSL": "true"})
    assert (implicit_tls["EMAIL_PORT"], implicit_tls["EMAIL_USE_SSL"]) == (465, True)
    assert implicit_tls["EMAIL_USE_TLS"] is False
