"""The web app's session sign-in (accounts/session_api.py): a session cookie, never a
token in the page; the CSRF token is required for every one of them."""

import pytest
from django.test import Client

from accounts.models import User
from events.models import Event
from tests.conftest import assert_problem
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def browser() -> tuple[Client, str]:
    """A client that enforces CSRF as a browser meets it, and the token of its page."""
    client = Client(enforce_csrf_checks=True)
    page = client.get("/")
    assert page.status_code == 200
    token = page.cookies["csrftoken"].value
    return client, token


def post(client: Client, path: str, body: dict | None = None, token: str | None = None):
    headers = {"X-CSRFToken": token} if token else {}
    return client.post(path, body or {}, content_type="application/json", headers=headers)


def test_the_page_carries_the_csrf_token_and_whether_someone_is_signed_in():
    client = Client()
    response = client.get("/")

    assert response.status_code == 200
    assert b'data-signed-in="false"' in response.content
    assert b'data-csrf="' in response.content
    assert response["Cache-Control"].startswith("max-age=0")
    assert b"<script>" not in response.content  # modules only, as the policy wants


def test_the_reset_link_of_the_email_opens_the_app():
    response = Client().get("/reset-password/?token=abc")

    assert response.status_code == 200
    assert b'type="module"' in response.content


def test_sign_in_sets_an_httponly_session_cookie_and_answers_the_profile():
    user = UserFactory(email="ada@example.com")
    client, token = browser()

    response = post(
        client, "/session/signin/", {"email": "ada@example.com", "password": PASSWORD}, token
    )

    assert response.status_code == 200
    body = response.json()
    assert body["user"]["id"] == user.pk
    assert body["csrf_token"]
    assert "access" not in body and "refresh" not in body
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    me = client.get("/api/v1/me/")
    assert me.status_code == 200 and me.json()["id"] == user.pk


def test_sign_in_with_a_wrong_password_is_401_and_signs_nobody_in():
    UserFactory(email="ada@example.com")
    client, token = browser()

    response = post(
        client, "/session/signin/", {"email": "ada@example.com", "password": "nope"}, token
    )

    assert_problem(response, 401, "not_authenticated")
    assert "sessionid" not in response.cookies
    assert client.get("/api/v1/me/").status_code in (401, 403)


def test_every_session_endpoint_refuses_a_request_without_the_csrf_token():
    UserFactory(email="ada@example.com")
    client, _ = browser()
    users = User.objects.count()

    for path, body in [
        ("/session/signin/", {"email": "ada@example.com", "password": PASSWORD}),
        ("/session/signup/", {"email": "new@example.com", "password": PASSWORD}),
        ("/session/guest/", {}),
        ("/session/signout/", {}),
    ]:
        assert_problem(post(client, path, body), 403, "permission_denied")

    assert User.objects.count() == users
    assert "sessionid" not in client.cookies


def test_sign_up_creates_the_account_and_signs_it_in():
    client, token = browser()

    response = post(
        client,
        "/session/signup/",
        {"email": "new@example.com", "password": PASSWORD, "timezone": "Europe/Paris"},
        token,
    )

    assert response.status_code == 201
    user = User.objects.get(email="new@example.com")
    assert user.timezone == "Europe/Paris"
    assert client.get("/api/v1/me/").json()["email"] == "new@example.com"


def test_sign_up_with_a_taken_email_is_400_and_changes_nothing():
    UserFactory(email="ada@example.com")
    client, token = browser()

    response = post(
        client, "/session/signup/", {"email": "ada@example.com", "password": PASSWORD}, token
    )

    assert_problem(response, 400, "invalid")
    assert User.objects.filter(email="ada@example.com").count() == 1


def test_a_guest_session_then_sign_out():
    client, token = browser()

    guest = post(client, "/session/guest/", token=token)
    assert guest.status_code == 201 and guest.json()["user"]["is_guest"] is True
    token = guest.json()["csrf_token"]
    # the session writes through the API with the page's token, as the app does
    started = client.post(
        "/api/v1/sessions/", {}, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert started.status_code == 201
    assert Event.objects.filter(user_id=guest.json()["user"]["id"]).count() == 1

    out = post(client, "/session/signout/", token=token)

    assert out.status_code == 200
    assert client.get("/api/v1/me/").status_code in (401, 403)
