"""Register, login, refresh, logout, guest accounts and claiming them, token revocation."""

import datetime

import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import TimerSettings, User
from accounts.services import user_set_active, user_set_password
from accounts.tokens import token_pair_for
from events.models import Event
from tests.conftest import assert_problem, client_for
from tests.factories import PASSWORD, UserFactory
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
LOGIN = "/api/v1/auth/login/"
REFRESH = "/api/v1/auth/refresh/"
LOGOUT = "/api/v1/auth/logout/"
GUEST = "/api/v1/auth/guest/"
CLAIM = "/api/v1/auth/claim/"
ME = "/api/v1/me/"

NEW_PASSWORD = "correct horse battery staple 9"
TOO_SHORT = "This password is too short. It must contain at least 8 characters."
TOO_COMMON = "This password is too common."
ENTIRELY_NUMERIC = "This password is entirely numeric."
EMAIL_TAKEN = "An account with this email already exists."


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def jti_of(refresh: str) -> str:
    return RefreshToken(refresh, verify=False)["jti"]


def assert_access_works(access: str, user: User) -> None:
    response = bearer(access).get(ME)
    assert response.status_code == 200, response.content
    assert response.json()["id"] == user.pk


# --- register ----------------------------------------------------------------------


def test_register_creates_the_account_and_answers_user_and_token_pair(api_client):
    # given no account
    # when someone registers
    response = api_client.post(
        REGISTER,
        {
            "email": "ann@example.com",
            "password": NEW_PASSWORD,
            "display_name": "Ann",
            "timezone": "Europe/Paris",
        },
    )

    # then the account exists with its settings, and the answer carries a working pair
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"user", "access", "refresh"}
    user = User.objects.get()
    assert body["user"] == {
        "id": user.pk,
        "email": "ann@example.com",
        "display_name": "Ann",
        "timezone": "Europe/Paris",
        "day_starts_at": "00:00",
        "week_starts_on": 0,
        "is_guest": False,
        "leaderboard_opt_out": False,
    }
    assert user.check_password(NEW_PASSWORD)
    assert TimerSettings.objects.filter(user=user).count() == 1
    assert_access_works(body["access"], user)
    assert RefreshToken(body["refresh"])["user_id"] == str(user.pk)


def test_register_defaults_timezone_to_utc_and_display_name_to_blank(api_client):
    response = api_client.post(REGISTER, {"email": "ann@example.com", "password": NEW_PASSWORD})

    assert response.status_code == 201, response.content
    assert response.json()["user"]["timezone"] == "UTC"
    assert response.json()["user"]["display_name"] == ""


def test_register_stores_the_email_lower_cased(api_client):
    response = api_client.post(
        REGISTER, {"email": "  Ann.Lee@Example.COM ", "password": NEW_PASSWORD}
    )

    assert response.status_code == 201, response.content
    assert response.json()["user"]["email"] == "ann.lee@example.com"
    assert User.objects.get().email == "ann.lee@example.com"


def test_register_rejects_an_email_taken_in_another_case(api_client):
    # given an account
    UserFactory(email="ann@example.com")

    # when someone registers the same email in capitals
    response = api_client.post(REGISTER, {"email": "ANN@Example.com", "password": NEW_PASSWORD})

    # then it is refused and no second account exists
    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"email": [EMAIL_TAKEN]}
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("password", "messages"),
    [
        ("x7#kq", [TOO_SHORT]),
        ("password1", [TOO_COMMON]),
        ("40172958631", [ENTIRELY_NUMERIC]),
        ("1234", [TOO_SHORT, TOO_COMMON, ENTIRELY_NUMERIC]),
        ("ann.lee@example.com", ["The password is too similar to the email."]),
    ],
)
def test_register_applies_the_password_validators(api_client, password, messages):
    response = api_client.post(REGISTER, {"email": "ann.lee@example.com", "password": password})

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"password": messages}
    assert User.objects.count() == 0


def test_register_rejects_an_unknown_timezone(api_client):
    response = api_client.post(
        REGISTER,
        {"email": "ann@example.com", "password": NEW_PASSWORD, "timezone": "Mars/Olympus_Mons"},
    )

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {
        "timezone": ["'Mars/Olympus_Mons' is not an IANA time zone name, such as Europe/Paris."]
    }
    assert User.objects.count() == 0


def test_register_rejects_an_invalid_email(api_client):
    response = api_client.post(REGISTER, {"email": "not-an-email", "password": NEW_PASSWORD})

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"email": ["Enter a valid email address."]}
    assert User.objects.count() == 0


def test_register_requires_email_and_password(api_client):
    response = api_client.post(REGISTER, {})

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {
        "email": ["This field is required."],
        "password": ["This field is required."],
    }


# --- login -------------------------------------------------------------------------


def test_login_answers_a_working_token_pair(api_client, user):
    response = api_client.post(LOGIN, {"email": user.email, "password": PASSWORD})

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert_access_works(body["access"], user)
    assert OutstandingToken.objects.filter(user=user).count() == 1


def test_login_ignores_the_case_of_the_email(api_client):
    user = UserFactory(email="ann@example.com")

    response = api_client.post(LOGIN, {"email": "ANN@Example.Com", "password": PASSWORD})

    assert response.status_code == 200, response.content
    assert_access_works(response.json()["access"], user)


def test_login_with_a_wrong_password_is_401_not_authenticated(api_client, user):
    response = api_client.post(LOGIN, {"email": user.email, "password": "not the password 1"})

    body = assert_problem(response, 401, "not_authenticated")
    assert body["detail"] == "The email or password is wrong."
    assert OutstandingToken.objects.count() == 0


def test_login_with_an_unknown_email_is_401_not_authenticated(api_client, user):
    response = api_client.post(LOGIN, {"email": "nobody@example.com", "password": PASSWORD})

    assert_problem(response, 401, "not_authenticated")


def test_login_of_a_disabled_user_is_401_not_authenticated(api_client, user):
    user_set_active(user=user, is_active=False)

    response = api_client.post(LOGIN, {"email": user.email, "password": PASSWORD})

    assert_problem(response, 401, "not_authenticated")
    assert OutstandingToken.objects.count() == 0


def test_login_ignores_a_stale_authorization_header(user):
    # given a client still sending a forged access token
    client = bearer("forged.token.value")

    # when it logs in
    response = client.post(LOGIN, {"email": user.email, "password": PASSWORD})

    # then the header does not get in the way
    assert response.status_code == 200, response.content


# --- refresh -----------------------------------------------------------------------


def test_refresh_answers_a_new_working_pair(api_client, user):
    old = token_pair_for(user)

    response = api_client.post(REFRESH, {"refresh": old["refresh"]})

    assert response.status_code == 200, response.content
    new = response.json()
    assert set(new) == {"access", "refresh"}
    assert new["refresh"] != old["refresh"]
    assert_access_works(new["access"], user)
    assert api_client.post(REFRESH, {"refresh": new["refresh"]}).status_code == 200


def test_refresh_consumes_the_old_refresh_token(api_client, user):
    # given a refresh token that was used once
    old = token_pair_for(user)["refresh"]
    assert api_client.post(REFRESH, {"refresh": old}).status_code == 200

    # when it is used again
    response = api_client.post(REFRESH, {"refresh": old})

    # then it is refused
    assert_problem(response, 401, "token_not_valid")
    assert BlacklistedToken.objects.filter(token__jti=jti_of(old)).count() == 1


def test_refresh_with_a_garbage_token_is_401_token_not_valid(api_client, db):
    response = api_client.post(REFRESH, {"refresh": "not-a-jwt"})

    assert_problem(response, 401, "token_not_valid")


def test_refresh_with_an_access_token_is_401_token_not_valid(api_client, user):
    access = token_pair_for(user)["access"]

    response = api_client.post(REFRESH, {"refresh": access})

    assert_problem(response, 401, "token_not_valid")
    assert BlacklistedToken.objects.count() == 0


def test_refresh_with_a_token_signed_with_another_key_is_401_token_not_valid(api_client, user):
    forged = RefreshToken.for_user(user)
    forged_text = forged.token_backend.__class__(
        algorithm="HS256", signing_key="someone else's signing key, long enough for HS256"
    ).encode(forged.payload)

    response = api_client.post(REFRESH, {"refresh": forged_text})

    assert_problem(response, 401, "token_not_valid")


def test_refresh_of_a_disabled_user_is_401_and_consumes_nothing(api_client, user):
    refresh = token_pair_for(user)["refresh"]
    user_set_active(user=user, is_active=False)

    response = api_client.post(REFRESH, {"refresh": refresh})

    assert_problem(response, 401, "token_not_valid")
    assert BlacklistedToken.objects.count() == 0
    assert OutstandingToken.objects.filter(user=user).count() == 1


def test_refresh_without_a_token_is_400_invalid(api_client, db):
    response = api_client.post(REFRESH, {})

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"refresh": ["This field is required."]}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_with_one_token_let_exactly_one_win():
    # given one refresh token, sent by 8 clients at the same instant
    user = UserFactory()
    refresh = token_pair_for(user)["refresh"]
    clients = 8

    def refresh_once(_index: int) -> tuple[int, str | None]:
        response = APIClient().post(REFRESH, {"refresh": refresh}, format="json")
        code = response.json().get("code") if response.status_code != 200 else None
        return response.status_code, code

    # when they all refresh
    answers = run_in_threads(clients, refresh_once, timeout=30)

    # then exactly one gets a new pair and the others are refused
    assert sorted(answers, key=lambda answer: answer[0]) == [(200, None)] + [
        (401, "token_not_valid")
    ] * (clients - 1)
    assert BlacklistedToken.objects.filter(token__jti=jti_of(refresh)).count() == 1
    assert OutstandingToken.objects.filter(user=user).count() == 2


# --- logout ------------------------------------------------------------------------


def test_logout_answers_204_and_the_refresh_token_stops_working(api_client, user):
    pair = token_pair_for(user)

    response = api_client.post(LOGOUT, {"refresh": pair["refresh"]})

    assert response.status_code == 204, response.content
    assert response.content == b""
    assert_problem(api_client.post(REFRESH, {"refresh": pair["refresh"]}), 401, "token_not_valid")


def test_logout_twice_with_one_token_is_401_token_not_valid(api_client, user):
    refresh = token_pair_for(user)["refresh"]
    assert api_client.post(LOGOUT, {"refresh": refresh}).status_code == 204

    response = api_client.post(LOGOUT, {"refresh": refresh})

    assert_problem(response, 401, "token_not_valid")


def test_logout_leaves_other_refresh_tokens_of_the_user_working(api_client, user):
    phone, laptop = token_pair_for(user), token_pair_for(user)

    assert api_client.post(LOGOUT, {"refresh": phone["refresh"]}).status_code == 204

    assert api_client.post(REFRESH, {"refresh": laptop["refresh"]}).status_code == 200


def test_logout_with_a_garbage_token_is_401_token_not_valid(api_client, db):
    response = api_client.post(LOGOUT, {"refresh": "garbage"})

    assert_problem(response, 401, "token_not_valid")


# --- guests ------------------------------------------------------------------------


def test_guest_creates_an_account_without_email(api_client, db):
    response = api_client.post(GUEST)

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"user", "access", "refresh"}
    guest = User.objects.get()
    assert body["user"] == {
        "id": guest.pk,
        "email": None,
        "display_name": guest.display_name,
        "timezone": "UTC",
        "day_starts_at": "00:00",
        "week_starts_on": 0,
        "is_guest": True,
        "leaderboard_opt_out": False,
    }
    assert guest.display_name.startswith("Guest ")
    assert guest.is_guest is True
    assert guest.has_usable_password() is False
    assert TimerSettings.objects.filter(user=guest).count() == 1
    assert_access_works(body["access"], guest)


def test_two_guests_are_two_accounts(api_client, db):
    first = api_client.post(GUEST).json()["user"]["id"]
    second = api_client.post(GUEST).json()["user"]["id"]

    assert first != second
    assert User.objects.filter(is_guest=True, email__isnull=True).count() == 2


def guest_client() -> tuple[APIClient, User]:
    body = APIClient().post(GUEST).json()
    return bearer(body["access"]), User.objects.get(pk=body["user"]["id"])


def test_claim_turns_the_guest_into_a_normal_account_keeping_its_data(api_client):
    # given a guest that tracked a project, a task and a running session
    client, guest = guest_client()
    project = client.post("/api/v1/projects/", {"name": "Thesis"}).json()
    task = client.post("/api/v1/tasks/", {"title": "Chapter 1", "project": project["id"]}).json()
    session = client.post("/api/v1/sessions/", {"task": task["id"]})
    assert session.status_code == 201, session.content

    # when it claims its account
    response = client.post(CLAIM, {"email": "Guest.Now@Example.com", "password": NEW_PASSWORD})

    # then it is the same account, now a normal one, with all its data
    assert response.status_code == 200, response.content
    assert response.json() == {
        "user": {
            "id": guest.pk,
            "email": "guest.now@example.com",
            "display_name": guest.display_name,
            "timezone": "UTC",
            "day_starts_at": "00:00",
            "week_starts_on": 0,
            "is_guest": False,
            "leaderboard_opt_out": False,
        }
    }
    assert User.objects.count() == 1
    assert client.get("/api/v1/projects/").json()["results"] == [project]
    assert [t["id"] for t in client.get("/api/v1/tasks/").json()["results"]] == [task["id"]]
    active = client.get("/api/v1/sessions/active/")
    assert active.status_code == 200
    assert (active.json()["id"], active.json()["task"]) == (session.json()["id"], task["id"])


def test_claim_records_a_profile_updated_event(django_capture_on_commit_callbacks):
    client, guest = guest_client()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(CLAIM, {"email": "ann@example.com", "password": NEW_PASSWORD})

    assert response.status_code == 200, response.content
    event = Event.objects.get(user=guest)
    assert (event.seq, event.type) == (1, "profile.updated")
    assert event.data == {"profile": response.json()["user"]}
    assert len(callbacks) == 1


def test_a_claimed_account_logs_in_with_its_new_email(api_client):
    client, guest = guest_client()
    assert (
        client.post(CLAIM, {"email": "ann@example.com", "password": NEW_PASSWORD}).status_code
        == 200
    )

    response = api_client.post(LOGIN, {"email": "ANN@example.com", "password": NEW_PASSWORD})

    assert response.status_code == 200, response.content
    assert_access_works(response.json()["access"], guest)


def test_claim_keeps_the_guest_tokens_working(api_client):
    # setting the first password is not a password change: nothing is revoked
    body = api_client.post(GUEST).json()
    client = bearer(body["access"])

    assert (
        client.post(CLAIM, {"email": "ann@example.com", "password": NEW_PASSWORD}).status_code
        == 200
    )

    assert client.get(ME).status_code == 200
    assert api_client.post(REFRESH, {"refresh": body["refresh"]}).status_code == 200


def test_claim_with_a_taken_email_is_400_and_changes_nothing():
    UserFactory(email="taken@example.com")
    client, guest = guest_client()

    response = client.post(CLAIM, {"email": "Taken@Example.com", "password": NEW_PASSWORD})

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"email": [EMAIL_TAKEN]}
    guest.refresh_from_db()
    assert (guest.is_guest, guest.email, guest.has_usable_password()) == (True, None, False)
    assert Event.objects.filter(user=guest).count() == 0


def test_claim_by_a_normal_account_is_400(client, user):
    response = client.post(CLAIM, {"email": "other@example.com", "password": NEW_PASSWORD})

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"non_field_errors": ["This account is not a guest account."]}
    user.refresh_from_db()
    assert user.email != "other@example.com"
    assert user.check_password(PASSWORD)


def test_claim_with_a_weak_password_is_400_and_changes_nothing():
    client, guest = guest_client()

    response = client.post(CLAIM, {"email": "ann@example.com", "password": "password"})

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"password": [TOO_COMMON]}
    guest.refresh_from_db()
    assert (guest.is_guest, guest.email) == (True, None)
    assert Event.objects.filter(user=guest).count() == 0


def test_claim_with_an_invalid_email_is_400(db):
    client, _ = guest_client()

    response = client.post(CLAIM, {"email": "nope", "password": NEW_PASSWORD})

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"email": ["Enter a valid email address."]}


def test_claim_unauthenticated_is_401_not_authenticated(api_client, db):
    response = api_client.post(CLAIM, {"email": "ann@example.com", "password": NEW_PASSWORD})

    assert_problem(response, 401, "not_authenticated")
    assert User.objects.count() == 0


# --- revocation --------------------------------------------------------------------


def test_a_disabled_users_access_token_is_401_token_not_valid(user):
    client = client_for(user)
    user_set_active(user=user, is_active=False)

    response = client.get(ME)

    assert_problem(response, 401, "token_not_valid")


def test_a_password_change_revokes_every_earlier_token(api_client, user):
    # given two devices logged in
    first, second = token_pair_for(user), token_pair_for(user)

    # when the password changes
    user_set_password(user=user, password=NEW_PASSWORD)

    # then no earlier token works any more
    for pair in (first, second):
        assert_problem(bearer(pair["access"]).get(ME), 401, "token_not_valid")
        assert_problem(
            api_client.post(REFRESH, {"refresh": pair["refresh"]}), 401, "token_not_valid"
        )


def test_after_a_password_change_the_new_password_logs_in(api_client, user):
    user_set_password(user=user, password=NEW_PASSWORD)

    old = api_client.post(LOGIN, {"email": user.email, "password": PASSWORD})
    new = api_client.post(LOGIN, {"email": user.email, "password": NEW_PASSWORD})

    assert_problem(old, 401, "not_authenticated")
    assert new.status_code == 200, new.content
    assert_access_works(new.json()["access"], user)
    assert api_client.post(REFRESH, {"refresh": new.json()["refresh"]}).status_code == 200


def test_user_set_password_applies_the_password_validators(user):
    from rest_framework.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        user_set_password(user=user, password="password")

    assert raised.value.detail == {"password": [TOO_COMMON]}
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert user.token_generation == 0


# --- token settings ----------------------------------------------------------------


def test_access_tokens_live_five_minutes_and_refresh_tokens_days():
    assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] == datetime.timedelta(minutes=5)
    assert settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] == datetime.timedelta(days=14)


def test_issued_tokens_carry_those_lifetimes(user):
    pair = token_pair_for(user)

    access, refresh = AccessToken(pair["access"]), RefreshToken(pair["refresh"])

    assert access["exp"] - access["iat"] == 5 * 60
    assert refresh["exp"] - refresh["iat"] == 14 * 24 * 60 * 60


def test_tokens_are_signed_with_a_key_of_their_own():
    assert settings.SIMPLE_JWT["SIGNING_KEY"]
    assert settings.SIMPLE_JWT["SIGNING_KEY"] != settings.SECRET_KEY
