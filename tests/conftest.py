"""Shared fixtures. The suite runs on PostgreSQL, the embedded one `./scripts/test` starts
or the server DATABASE_URL names; on Redis when REDIS_URL is set (CI always sets it),
and embedded it skips what needs Redis and says so. Under CI=true a skipped test fails
the run."""

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.tokens import token_pair_for
from pomodoro.settings.base import RATE_LIMIT_DEFAULTS
from tests.factories import UserFactory

ON_CI = os.environ.get("CI", "").lower() == "true"


def on_redis() -> bool:
    return bool(settings.REDIS_URL)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("redis") and not on_redis():
            item.add_marker(pytest.mark.skip(reason="requires Redis: set REDIS_URL"))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = terminalreporter.stats.get("skipped", [])
    if ON_CI and skipped:
        terminalreporter.write_line(
            f"CI=true: {len(skipped)} skipped test(s) count as failures.", red=True
        )


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if ON_CI and reporter is not None and reporter.stats.get("skipped"):
        session.exitstatus = 1


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def rate_limits(settings):
    """Turns the rate limits and the login lockout on, at their production defaults, on an
    empty cache (test settings turn them off). Call it with scope=rate to change some:
    rate_limits(login_ip="2/minute")."""

    def configure(**rates: str | None) -> None:
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**RATE_LIMIT_DEFAULTS, **rates},
        }

    cache.clear()
    configure()
    settings.LOGIN_LOCKOUT_FAILURES = 10
    settings.LOGIN_LOCKOUT_SECONDS = 900
    yield configure
    cache.clear()


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_for(user)['access']}")
    return client


@pytest.fixture
def client(user) -> APIClient:
    """An API client authenticated as `user` with a Bearer access token."""
    return client_for(user)


@pytest.fixture
def other_client(other_user) -> APIClient:
    return client_for(other_user)


def assert_problem(response, status: int, code: str) -> dict:
    """Asserts an error answer in the contract's format and returns its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json", response["Content-Type"]
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"]
    assert isinstance(body["detail"], str)
    return body
