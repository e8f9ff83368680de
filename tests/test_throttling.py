"""Rate limits and the failed-login lockout (pomodoro/throttling.py), against real Redis.

Test settings turn the limits off; the `rate_limits` fixture turns them on at their
production defaults on an empty cache, and lowers the ones a test names. Time passes by
shortening a counter's expiry in the cache, or with a lockout window of two seconds."""

import datetime
import runpy
import time

import jwt
import pytest
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tokens import token_pair_for
from pomodoro.settings import base as base_settings
from pomodoro.throttling import email_identity, window_peek
from tests.conftest import assert_problem, client_for
from tests.factories import PASSWORD, UserFactory
from tests.threads import run_in_threads

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

API = "/api/v1/"
REGISTER = API + "auth/register/"
LOGIN = API + "auth/login/"
REFRESH = API + "auth/refresh/"
LOGOUT = API + "auth/logout/"
GUEST = API + "auth/guest/"
TICKET = API + "realtime/ticket/"
JOIN = API + "teams/join/"
ME = API + "me/"

NEW_PASSWORD = "correct horse battery staple 9"
WRONG_PASSWORD = "not the passphrase at all"
LOCKED_OUT = "Too many failed logins for this account."


def from_address(address: str, **headers: str) -> APIClient:
    return APIClient(REMOTE_ADDR=address, **headers)


def user_at(user, address: str) -> APIClient:
    client = client_for(user)
    client.defaults["REMOTE_ADDR"] = address
    return client


def register(client: APIClient, email: str):
    return client.post(REGISTER, {"email": email, "password": NEW_PASSWORD})


def login(client: APIClient, email: str, password: str = PASSWORD):
    return client.post(LOGIN, {"email": email, "password": password})


def limit_headers(response) -> tuple[int, int, int]:
    return (
        int(response["RateLimit-Limit"]),
        int(response["RateLimit-Remaining"]),
        int(response["RateLimit-Reset"]),
    )


def assert_throttled(response, *, limit: int, window: int, detail: str | None = None) -> int:
    """A 429 in the contract's shape, with Retry-After and the RateLimit headers agreeing
    on when the window ends; returns Retry-After."""
    body = assert_problem(response, 429, "throttled")
    retry_after = int(response["Retry-After"])
    if detail is not None:
        assert body["detail"] == f"{detail} Expected available in {retry_after} seconds."
    assert 1 <= retry_after <= window
    assert limit_headers(response) == (limit, 0, retry_after)
    return retry_after


def sleep_past(seconds: float) -> None:
    time.sleep(seconds + 0.05)


# --- Headers, and a throttled request changing nothing ---------------------------------------


def test_register_counts_down_then_answers_429_and_creates_no_account(rate_limits):
    rate_limits(register_ip="2/hour")
    client = from_address("198.51.100.7")

    first = register(client, "ann@example.com")
    second = register(client, "bob@example.com")
    third = register(client, "cid@example.com")

    assert (first.status_code, second.status_code) == (201, 201)
    assert limit_headers(first)[:2] == (2, 1)
    assert limit_headers(second)[:2] == (2, 0)
    assert 3590 <= limit_headers(first)[2] <= 3600
    assert_throttled(third, limit=2, window=3600)
    assert sorted(User.objects.values_list("email", flat=True)) == [
        "ann@example.com",
        "bob@example.com",
    ]


def test_register_is_limited_per_address(rate_limits):
    rate_limits(register_ip="1/hour")
    assert register(from_address("198.51.100.7"), "ann@example.com").status_code == 201
    assert register(from_address("198.51.100.7"), "bob@example.com").status_code == 429

    response = register(from_address("198.51.100.8"), "bob@example.com")

    assert response.status_code == 201, response.content
    assert User.objects.count() == 2


def test_guest_accounts_are_limited_per_address(rate_limits):
    rate_limits(guest_ip="1/hour")
    assert from_address("198.51.100.7").post(GUEST).status_code == 201

    refused = from_address("198.51.100.7").post(GUEST)
    elsewhere = from_address("203.0.113.9").post(GUEST)

    assert_throttled(refused, limit=1, window=3600)
    assert elsewhere.status_code == 201
    assert User.objects.filter(is_guest=True).count() == 2


def end_window_soon(key: str) -> None:
    """Time passing: the window's counter now expires in a second, as at its end."""
    assert cache.touch(key, 1)
    sleep_past(1)


def test_a_window_ends_on_its_own(rate_limits):
    rate_limits(guest_ip="1/hour")
    client = from_address("198.51.100.7")
    assert client.post(GUEST).status_code == 201
    assert_throttled(client.post(GUEST), limit=1, window=3600)

    end_window_soon("throttle:guest_ip:198.51.100.7")

    again = client.post(GUEST)
    assert again.status_code == 201
    assert limit_headers(again)[:2] == (1, 0)
    assert 3590 <= limit_headers(again)[2] <= 3600


def test_unlimited_requests_carry_no_rate_limit_headers(rate_limits, user, client):
    response = client.get(ME)

    assert response.status_code == 200
    assert "RateLimit-Limit" not in response
    assert "Retry-After" not in response


# --- Login: per address, per account ------------------------------------------------------------


def test_login_is_limited_per_address_whatever_the_account(rate_limits):
    rate_limits(login_ip="3/minute")
    ann, bob = UserFactory(), UserFactory()
    attacker = from_address("198.51.100.7")
    for attempt in range(3):
        assert login(attacker, f"guess{attempt}@example.com").status_code == 401

    refused = login(attacker, ann.email)  # the right password, but from that address
    elsewhere = login(from_address("203.0.113.9"), bob.email)

    assert_throttled(refused, limit=3, window=60)
    assert elsewhere.status_code == 200


def test_login_is_limited_per_account_whatever_the_address(rate_limits):
    rate_limits(login_account="3/minute")
    ann, bob = UserFactory(), UserFactory()
    # Any spelling of the address is the same account.
    for attempt, spelling in enumerate([ann.email, ann.email.upper(), f"  {ann.email} "]):
        assert login(from_address(f"198.51.100.{attempt}"), spelling, "wrong").status_code == 401

    refused = login(from_address("198.51.100.99"), ann.email)
    other_account = login(from_address("198.51.100.0"), bob.email)

    assert_throttled(refused, limit=3, window=60)
    assert other_account.status_code == 200


def test_x_forwarded_for_is_ignored_unless_proxies_are_configured(rate_limits):
    rate_limits(login_ip="1/minute")
    assert (
        login(from_address("10.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1"), "a@x.io").status_code == 401
    )

    response = login(from_address("10.0.0.1", HTTP_X_FORWARDED_FOR="2.2.2.2"), "b@x.io")

    assert_throttled(response, limit=1, window=60)


def test_behind_one_proxy_the_forwarded_address_is_the_client(rate_limits, settings):
    rate_limits(login_ip="1/minute")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.1"
    assert login(from_address(proxy, HTTP_X_FORWARDED_FOR="1.1.1.1"), "a@x.io").status_code == 401

    other_client = login(from_address(proxy, HTTP_X_FORWARDED_FOR="2.2.2.2"), "b@x.io")
    # A client's own X-Forwarded-For is to the left of what the proxy appends.
    same_client = login(from_address(proxy, HTTP_X_FORWARDED_FOR="9.9.9.9, 1.1.1.1"), "c@x.io")

    assert other_client.status_code == 401
    assert_throttled(same_client, limit=1, window=60)


def test_a_forwarded_address_counts_without_its_port_and_junk_counts_as_the_proxy(
    rate_limits, settings
):
    rate_limits(guest_ip="1/hour")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.1"

    def guest(forwarded_for: str):
        return from_address(proxy, HTTP_X_FORWARDED_FOR=forwarded_for).post(GUEST)

    assert guest("198.51.100.7").status_code == 201
    assert_throttled(guest("198.51.100.7:51234"), limit=1, window=3600)
    assert guest("[2001:db8:1:2::1]:443").status_code == 201
    assert_throttled(guest("2001:db8:1:2::9"), limit=1, window=3600)
    assert guest("unknown").status_code == 201  # no address: the proxy's own
    assert_throttled(guest("1.2.3.4:port"), limit=1, window=3600)
    assert_throttled(from_address(proxy).post(GUEST), limit=1, window=3600)
    assert User.objects.filter(is_guest=True).count() == 3


def test_ipv6_clients_count_by_their_64_bit_prefix(rate_limits):
    rate_limits(guest_ip="1/hour")
    assert from_address("2001:db8:1:2::1").post(GUEST).status_code == 201

    same_prefix = from_address("2001:db8:1:2:ffff::9").post(GUEST)
    next_prefix = from_address("2001:db8:1:3::1").post(GUEST)

    assert_throttled(same_prefix, limit=1, window=3600)
    assert next_prefix.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_parallel_attempts_are_each_counted(rate_limits, settings):
    # DRF's own throttle reads and writes back a list, so parallel requests all pass.
    rate_limits(login_account="5/minute")
    settings.LOGIN_LOCKOUT_FAILURES = 0

    statuses = run_in_threads(
        20,
        lambda index: login(from_address(f"198.51.100.{index}"), "ann@example.com").status_code,
    )

    assert sorted(statuses) == [401] * 5 + [429] * 15


# --- Failed-login lockout ---------------------------------------------------------------------


def test_failed_logins_lock_the_account_even_for_the_right_password(rate_limits):
    rate_limits(login_account="20/minute")  # by default the 11th attempt in a minute is 429 anyway
    ann = UserFactory()
    for attempt in range(10):
        assert login(from_address(f"198.51.100.{attempt}"), ann.email, "wrong").status_code == 401

    response = login(from_address("203.0.113.9"), ann.email)

    retry_after = assert_throttled(response, limit=10, window=900, detail=LOCKED_OUT)
    assert retry_after >= 890
    assert "access" not in response.json()


def lockout_ends_at(email: str) -> float:
    """When the account's window of login attempts ends, on the time.monotonic() clock."""
    return time.monotonic() + window_peek(f"login-attempts:{email_identity(email)}").reset_seconds


def test_attempts_during_a_lockout_do_not_extend_it(rate_limits, settings):
    settings.LOGIN_LOCKOUT_FAILURES = 3
    settings.LOGIN_LOCKOUT_SECONDS = 2
    ann = UserFactory()
    attacker = from_address("198.51.100.7")
    first_failure_at = time.monotonic()
    for _ in range(3):
        assert login(attacker, ann.email, "wrong").status_code == 401

    locked_until = lockout_ends_at(ann.email)

    # the attacker keeps trying while the account is locked
    while time.monotonic() - first_failure_at < 1:
        assert_throttled(login(attacker, ann.email, "wrong"), limit=3, window=2)
        time.sleep(0.2)
    assert lockout_ends_at(ann.email) <= locked_until + 0.1  # give or take a round trip

    # and the lockout still ends a window after the first failure
    sleep_past(2 - (time.monotonic() - first_failure_at))
    assert login(from_address("203.0.113.9"), ann.email).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_get_only_the_lockouts_guesses(rate_limits, settings):
    # Counting each attempt before its password is checked is what holds here: checking
    # the count first and counting failures after lets parallel attempts all pass the check.
    rate_limits(login_account="100/minute")
    settings.LOGIN_LOCKOUT_FAILURES = 5
    ann = UserFactory()
    password_checks = []

    def count_check(sender, credentials, request=None, **kwargs):
        password_checks.append(credentials["email"])

    user_login_failed.connect(count_check)
    try:
        statuses = run_in_threads(
            20,
            lambda index: (
                login(from_address(f"198.51.100.{index}"), ann.email, WRONG_PASSWORD).status_code
            ),
        )
    finally:
        user_login_failed.disconnect(count_check)

    assert sorted(statuses) == [401] * 5 + [429] * 15
    assert password_checks == [ann.email] * 5
    assert login(from_address("203.0.113.9"), ann.email).status_code == 429


def test_the_lockout_warning_names_the_account_and_the_client(rate_limits, settings, caplog):
    settings.LOGIN_LOCKOUT_FAILURES = 3
    ann = UserFactory()
    for attempt in range(3):
        assert login(from_address(f"198.51.100.{attempt}"), ann.email, "wrong").status_code == 401
    assert login(from_address("198.51.100.9"), ann.email, "wrong").status_code == 429

    [warning] = [record for record in caplog.records if record.name == "pomodoro.throttling"]
    account = email_identity(ann.email)
    assert warning.levelname == "WARNING"
    assert (warning.account, warning.client) == (account, "198.51.100.2")
    assert warning.getMessage() == (
        f"login locked out for 900 s after 3 failed attempts "
        f"(account {account}, client 198.51.100.2)"
    )


def test_a_successful_login_forgets_the_failures_before_it(rate_limits, settings):
    settings.LOGIN_LOCKOUT_FAILURES = 3
    ann = UserFactory()
    client = from_address("198.51.100.7")
    for _ in range(2):
        assert login(client, ann.email, "wrong").status_code == 401
    assert login(client, ann.email).status_code == 200

    for _ in range(2):
        assert login(client, ann.email, "wrong").status_code == 401

    assert login(client, ann.email).status_code == 200


def test_a_lockout_holds_one_account_only(rate_limits, settings):
    settings.LOGIN_LOCKOUT_FAILURES = 3
    ann, bob = UserFactory(), UserFactory()
    client = from_address("198.51.100.7")
    for _ in range(3):
        assert login(client, ann.email, "wrong").status_code == 401
    assert login(client, ann.email).status_code == 429

    assert login(client, bob.email).status_code == 200


def test_unknown_accounts_lock_like_real_ones(rate_limits, settings):
    # Otherwise the lockout would tell which addresses have accounts.
    settings.LOGIN_LOCKOUT_FAILURES = 3
    client = from_address("198.51.100.7")
    for _ in range(3):
        assert login(client, "nobody@example.com", "wrong").status_code == 401

    assert_throttled(login(client, "nobody@example.com"), limit=3, window=900, detail=LOCKED_OUT)


# --- Refresh and logout ------------------------------------------------------------------------


def test_refresh_is_limited_per_account_and_spends_no_token_when_refused(rate_limits):
    rate_limits(refresh_account="2/minute")
    ann, bob = UserFactory(), UserFactory()
    tokens = [token_pair_for(ann)["refresh"] for _ in range(3)]
    for index, token in enumerate(tokens[:2]):
        response = from_address(f"198.51.100.{index}").post(REFRESH, {"refresh": token})
        assert response.status_code == 200

    refused = from_address("198.51.100.9").post(REFRESH, {"refresh": tokens[2]})
    other_account = from_address("198.51.100.9").post(
        REFRESH, {"refresh": token_pair_for(bob)["refresh"]}
    )

    assert_throttled(refused, limit=2, window=60)
    assert not BlacklistedToken.objects.filter(
        token__jti=RefreshToken(tokens[2], verify=False)["jti"]
    ).exists()
    assert other_account.status_code == 200


def test_forged_tokens_do_not_spend_the_named_users_quota(rate_limits, settings):
    rate_limits(refresh_account="1/minute")
    ann = UserFactory()
    forged = jwt.encode(
        {
            "token_type": "refresh",
            "user_id": ann.pk,
            "jti": "forged",
            "exp": datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=1),
        },
        "not-our-signing-key-but-long-enough-for-hs256",
        algorithm="HS256",
    )
    for index in range(3):
        response = from_address(f"198.51.100.{index}").post(REFRESH, {"refresh": forged})
        assert_problem(response, 401, "token_not_valid")

    response = from_address("203.0.113.9").post(
        REFRESH, {"refresh": token_pair_for(ann)["refresh"]}
    )

    assert response.status_code == 200, response.content


def test_refresh_is_limited_per_address(rate_limits):
    rate_limits(refresh_ip="2/minute")
    client = from_address("198.51.100.7")
    for _ in range(2):
        assert client.post(REFRESH, {"refresh": "garbage"}).status_code == 401

    refused = client.post(REFRESH, {"refresh": "garbage"})
    elsewhere = from_address("203.0.113.9").post(REFRESH, {"refresh": "garbage"})

    assert_throttled(refused, limit=2, window=60)
    assert elsewhere.status_code == 401


def test_logout_counts_toward_the_refresh_limits(rate_limits):
    rate_limits(refresh_ip="1/minute")
    ann = UserFactory()
    client = from_address("198.51.100.7")
    assert client.post(LOGOUT, {"refresh": token_pair_for(ann)["refresh"]}).status_code == 204

    response = client.post(REFRESH, {"refresh": token_pair_for(ann)["refresh"]})

    assert_throttled(response, limit=1, window=60)


# --- Tickets, joins, writes -----------------------------------------------------------------------


def test_tickets_are_limited_per_user(rate_limits):
    rate_limits(ticket_user="2/minute")
    ann, bob = UserFactory(), UserFactory()
    for _ in range(2):
        assert user_at(ann, "198.51.100.7").post(TICKET).status_code == 201

    refused = user_at(ann, "203.0.113.9").post(TICKET)
    other_user = user_at(bob, "198.51.100.7").post(TICKET)

    assert_throttled(refused, limit=2, window=60)
    assert other_user.status_code == 201


def test_tickets_are_limited_per_address(rate_limits):
    rate_limits(ticket_ip="2/minute")
    for _ in range(2):
        assert user_at(UserFactory(), "198.51.100.7").post(TICKET).status_code == 201

    refused = user_at(UserFactory(), "198.51.100.7").post(TICKET)
    elsewhere = user_at(UserFactory(), "203.0.113.9").post(TICKET)

    assert_throttled(refused, limit=2, window=60)
    assert elsewhere.status_code == 201


def test_invite_joins_are_limited_per_address(rate_limits):
    rate_limits(join_ip="2/minute")
    for attempt in range(2):
        response = user_at(UserFactory(), "198.51.100.7").post(JOIN, {"code": f"guess-{attempt}"})
        assert response.status_code == 400

    refused = user_at(UserFactory(), "198.51.100.7").post(JOIN, {"code": "guess-2"})
    elsewhere = user_at(UserFactory(), "203.0.113.9").post(JOIN, {"code": "guess-3"})

    assert_throttled(refused, limit=2, window=60)
    assert elsewhere.status_code == 400


def test_writes_are_limited_per_user_and_a_refused_write_changes_nothing(rate_limits):
    rate_limits(writes_user="3/minute")
    ann, bob = UserFactory(display_name="Ann"), UserFactory()
    remaining = []
    for index in range(3):
        response = user_at(ann, "198.51.100.7").patch(ME, {"display_name": f"Ann {index}"})
        assert response.status_code == 200
        remaining.append(limit_headers(response)[1])

    refused = user_at(ann, "198.51.100.7").patch(ME, {"display_name": "Mallory"})
    read = user_at(ann, "198.51.100.7").get(ME)
    other_user = user_at(bob, "198.51.100.7").patch(ME, {"display_name": "Bob"})

    assert remaining == [2, 1, 0]
    assert_throttled(refused, limit=3, window=60)
    ann.refresh_from_db()
    assert ann.display_name == "Ann 2"
    assert read.status_code == 200  # reads are not limited
    assert other_user.status_code == 200


def test_a_ticket_counts_toward_the_write_limit_too(rate_limits):
    rate_limits(writes_user="1/minute")
    ann = UserFactory()
    assert user_at(ann, "198.51.100.7").patch(ME, {"display_name": "A"}).status_code == 200

    response = user_at(ann, "198.51.100.7").post(TICKET)

    assert_throttled(response, limit=1, window=60)


def test_the_tightest_limit_is_the_one_in_the_headers(rate_limits):
    rate_limits(ticket_user="2/minute")  # writes_user stays at 120/minute
    ann = UserFactory()

    response = user_at(ann, "198.51.100.7").post(TICKET)

    assert response.status_code == 201
    assert limit_headers(response)[:2] == (2, 1)


def test_the_schema_documents_429_for_every_write(api_client):
    paths = api_client.get("/api/schema/?format=json").json()["paths"]

    throttled = paths["/api/v1/auth/login/"]["post"]["responses"]["429"]
    assert throttled["content"]["application/problem+json"]["schema"] == {
        "$ref": "#/components/schemas/ThrottledProblem"
    }
    assert set(throttled["headers"]) == {
        "Retry-After",
        "RateLimit-Limit",
        "RateLimit-Remaining",
        "RateLimit-Reset",
    }
    assert all(header["required"] for header in throttled["headers"].values())
    assert "429" in paths["/api/v1/me/"]["patch"]["responses"]
    assert "429" in paths["/api/v1/teams/join/"]["post"]["responses"]
    assert "429" not in paths["/api/v1/me/"]["get"]["responses"]


# --- Embedded (local-memory cache) ------------------------------------------------------------


def test_embedded_the_limits_count_in_the_local_memory_cache(rate_limits, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    rate_limits(guest_ip="1/hour")
    client = from_address("198.51.100.7")
    assert client.post(GUEST).status_code == 201
    assert_throttled(client.post(GUEST), limit=1, window=3600)

    end_window_soon("throttle:guest_ip:198.51.100.7")

    assert client.post(GUEST).status_code == 201


UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
    }
}


def test_with_redis_unreachable_logins_and_writes_go_on_unlimited(rate_limits, settings, caplog):
    rate_limits(guest_ip="1/hour")
    settings.LOGIN_LOCKOUT_FAILURES = 1
    ann = UserFactory()
    client = from_address("198.51.100.7")

    with override_settings(CACHES=UNREACHABLE_REDIS):
        guests = [client.post(GUEST) for _ in range(2)]
        logins = [login(client, ann.email, "wrong"), login(client, ann.email)]

    assert [guest.status_code for guest in guests] == [201, 201]
    assert "RateLimit-Limit" not in guests[1]
    assert [response.status_code for response in logins] == [401, 200]
    assert "login attempt not counted: Redis unavailable" in caplog.messages
    assert "failed logins not cleared: Redis unavailable" in caplog.messages


# --- Configuration -------------------------------------------------------------------------------


def base_settings_with(monkeypatch, **variables: str) -> dict:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(base_settings.__file__)


def test_rates_come_from_the_environment(monkeypatch):
    configured = base_settings_with(
        monkeypatch, RATE_LIMIT_LOGIN_IP="5/second", RATE_LIMIT_WRITES_USER="off", NUM_PROXIES="1"
    )

    rest_framework = configured["REST_FRAMEWORK"]
    assert rest_framework["DEFAULT_THROTTLE_RATES"]["login_ip"] == "5/second"
    assert rest_framework["DEFAULT_THROTTLE_RATES"]["writes_user"] is None
    assert rest_framework["DEFAULT_THROTTLE_RATES"]["join_user"] == "10/minute"
    assert rest_framework["NUM_PROXIES"] == 1
    assert configured["LOGIN_LOCKOUT_FAILURES"] == 10


def test_all_limits_can_be_turned_off_at_once(monkeypatch):
    configured = base_settings_with(monkeypatch, RATE_LIMITS_ENABLED="false")

    rates = configured["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"]
    assert set(rates.values()) == {None}
    assert configured["LOGIN_LOCKOUT_FAILURES"] == 0


def test_a_malformed_rate_stops_the_process_at_start(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="RATE_LIMIT_LOGIN_IP"):
        base_settings_with(monkeypatch, RATE_LIMIT_LOGIN_IP="10 per minute")


@pytest.mark.parametrize("seconds", ["0", "-5"])
def test_a_lockout_window_that_is_not_positive_stops_the_process_at_start(monkeypatch, seconds):
    with pytest.raises(ImproperlyConfigured, match="LOGIN_LOCKOUT_SECONDS must be a positive"):
        base_settings_with(monkeypatch, LOGIN_LOCKOUT_SECONDS=seconds)
