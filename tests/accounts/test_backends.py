"""The guess limits live in the authentication backend, so every way of logging in is
covered: the API, the browsable API's login form, the admin's, and authenticate()."""

import pytest
from django.contrib.auth import authenticate
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from pomodoro.exceptions import LoginLockedOut
from tests.conftest import assert_problem
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

API_LOGIN = "/api/v1/auth/login/"
FORMS = {
    "admin": "/admin/login/?next=/admin/",
    "browsable API": "/api-auth/login/?next=/api/v1/me/",
}


def form_login(path: str, email: str, password: str, address: str = "198.51.100.1"):
    return Client(REMOTE_ADDR=address).post(path, {"username": email, "password": password})


def api_login(email: str, password: str, address: str = "198.51.100.1"):
    client = APIClient(REMOTE_ADDR=address)
    return client.post(API_LOGIN, {"email": email, "password": password}, format="json")


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.mark.parametrize("form", FORMS)
def test_a_login_form_is_limited_per_address(form, staff, rate_limits):
    rate_limits(login_ip="3/minute")
    for attempt in range(3):
        assert form_login(FORMS[form], f"guess{attempt}@example.com", "x").status_code == 200

    refused = form_login(FORMS[form], staff.email, PASSWORD)

    assert_problem(refused, 429, "throttled")
    assert int(refused["Retry-After"]) > 0
    assert "sessionid" not in refused.cookies
    # the same address is refused on the API too: one budget for every form
    assert_problem(api_login(staff.email, PASSWORD), 429, "throttled")


@pytest.mark.parametrize("form", FORMS)
def test_failures_through_a_form_lock_the_account_everywhere(form, staff, rate_limits):
    rate_limits(login_ip=None, login_account=None)
    for attempt in range(10):
        wrong = form_login(FORMS[form], staff.email, "wrong", f"198.51.100.{attempt}")
        assert wrong.status_code == 200

    right = form_login(FORMS[form], staff.email, PASSWORD, "203.0.113.9")

    body = assert_problem(right, 429, "throttled")
    assert body["detail"].startswith("Too many failed logins for this account.")
    assert "sessionid" not in right.cookies
    assert_problem(api_login(staff.email, PASSWORD, "203.0.113.10"), 429, "throttled")


def test_failures_on_the_api_lock_the_admin_form(staff, rate_limits):
    rate_limits(login_ip=None, login_account=None)
    for attempt in range(10):
        assert api_login(staff.email, "wrong", f"198.51.100.{attempt}").status_code == 401

    assert_problem(form_login(FORMS["admin"], staff.email, PASSWORD), 429, "throttled")


@pytest.mark.parametrize("form", FORMS)
def test_the_right_password_through_a_form_still_logs_in(form, staff, rate_limits):
    response = form_login(FORMS[form], staff.email, PASSWORD)

    assert response.status_code == 302
    assert "sessionid" in response.cookies


def test_authenticate_itself_counts_toward_the_lockout(user, rate_limits):
    rate_limits(login_ip=None)
    request = RequestFactory().post("/", REMOTE_ADDR="198.51.100.1")
    for _ in range(10):
        assert authenticate(request, email=user.email, password="wrong") is None

    with pytest.raises(LoginLockedOut):
        authenticate(request, email=user.email, password=PASSWORD)


def test_a_successful_login_through_a_form_forgets_the_failures(staff, rate_limits):
    rate_limits(login_ip=None, login_account=None)
    for _ in range(9):
        form_login(FORMS["admin"], staff.email, "wrong")
    assert form_login(FORMS["admin"], staff.email, PASSWORD).status_code == 302

    for _ in range(9):
        assert api_login(staff.email, "wrong").status_code == 401
    assert api_login(staff.email, PASSWORD).status_code == 200
