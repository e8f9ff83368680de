"""Request ids, the access log and JSON logs (pomodoro/request_log.py, settings LOGGING)."""

import json
import logging
import os
import re
import subprocess
import sys

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import override_settings
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient
from rest_framework.views import APIView

from events import tickets
from pomodoro.asgi import application
from pomodoro.request_log import JsonLogFormatter, RequestIdFilter
from pomodoro.settings import base as base_settings
from tests.conftest import assert_problem
from tests.events.socket_helpers import (
    DISCONNECT_TIMEOUT,
    RECEIVE_TIMEOUT,
    db,
    run_async,
    the_test_database_url,
    ws_path,
)

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


class FailingView(APIView):
    """A view with a bug, to see what a 500 looks like."""

    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("a bug")


urlpatterns = [path("api/v1/failing/", FailingView.as_view())]


@pytest.fixture
def log_records(caplog):
    """Records as the console handler sees them: through the same RequestIdFilter."""
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RequestIdFilter())
    return caplog


def records_of(caplog, logger: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == logger]


# --- X-Request-ID --------------------------------------------------------------------


def test_a_request_without_an_id_gets_a_new_one_in_the_response_header(api_client, db):
    first = api_client.get("/healthz")
    second = api_client.get("/healthz")

    assert GENERATED_ID.fullmatch(first["X-Request-ID"])
    assert GENERATED_ID.fullmatch(second["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_safe_incoming_id_is_echoed(api_client, db):
    incoming = "edge-7f3a.42:retry_1"

    response = api_client.get("/healthz", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "incoming",
    ["a" * 129, "two words", 'x"><script>', "line\nbreak", "", "ünïcode"],
    ids=["too-long", "space", "markup", "newline", "empty", "non-ascii"],
)
def test_an_unsafe_incoming_id_is_replaced(api_client, db, incoming):
    response = api_client.get("/healthz", HTTP_X_REQUEST_ID=incoming)

    assert GENERATED_ID.fullmatch(response["X-Request-ID"])


def test_the_longest_safe_id_is_kept(api_client, db):
    incoming = "a" * 128

    response = api_client.get("/healthz", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/api/v1/me/", 401),
        ("get", "/api/v1/no-such-endpoint/", 404),
        ("get", "/no-such-page/", 404),
        ("post", "/healthz", 405),
    ],
)
def test_error_responses_carry_the_request_id_too(api_client, db, method, url, status):
    response = getattr(api_client, method)(url, HTTP_X_REQUEST_ID="err-check-1")

    assert response.status_code == status
    assert response["X-Request-ID"] == "err-check-1"


@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_names_its_request_id_in_the_body_and_in_the_log(api_client, log_records):
    response = api_client.get("/api/v1/failing/", HTTP_X_REQUEST_ID="support-1234")

    body = assert_problem(response, 500, "server_error")
    assert body["request_id"] == "support-1234"
    assert response["X-Request-ID"] == "support-1234"
    [error] = records_of(log_records, "pomodoro.errors")
    assert error.levelname == "ERROR"
    assert error.request_id == "support-1234"
    assert error.exc_info[0] is RuntimeError


# --- The access log ------------------------------------------------------------------


def test_every_request_writes_one_access_line_with_route_status_and_duration(
    client, user, log_records
):
    session_id = client.post("/api/v1/sessions/", {"kind": "focus"}, format="json").json()["id"]
    log_records.clear()

    response = client.post(f"/api/v1/sessions/{session_id}/pause/", HTTP_X_REQUEST_ID="acc-1")

    assert response.status_code == 200
    [line] = records_of(log_records, "pomodoro.access")
    assert line.getMessage() == f"POST /api/v1/sessions/{session_id}/pause/ 200 127.0.0.1"
    assert (
        line.method,
        line.route,
        line.path,
        line.status,
        line.user_id,
        line.client,
        line.request_id,
    ) == (
        "POST",
        "api/v1/sessions/<pk>/pause/",
        f"/api/v1/sessions/{session_id}/pause/",
        200,
        user.pk,
        "127.0.0.1",
        "acc-1",
    )
    assert isinstance(line.duration_ms, float)
    assert 0 <= line.duration_ms < 10_000


def test_the_access_line_names_the_client_as_the_rate_limits_see_it(db, log_records, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    behind_a_proxy = APIClient(REMOTE_ADDR="10.0.0.1")

    behind_a_proxy.get("/healthz", HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.7:51234")
    behind_a_proxy.get("/healthz", HTTP_X_FORWARDED_FOR="[2001:db8::7]:443")
    behind_a_proxy.get("/healthz", HTTP_X_FORWARDED_FOR="unknown")

    lines = records_of(log_records, "pomodoro.access")
    assert [line.client for line in lines] == ["198.51.100.7", "2001:db8::7", "10.0.0.1"]
    assert lines[0].getMessage() == "GET /healthz 200 198.51.100.7"


def test_a_control_character_in_the_path_cannot_split_a_plain_log_line(api_client, log_records):
    response = api_client.get("/api/%0aFAKE%0d%1b[31m/")

    assert_problem(response, 404, "not_found")
    [line] = records_of(log_records, "pomodoro.access")
    assert line.path == "/api/\nFAKE\r\x1b[31m/"
    plain = logging.Formatter(base_settings.LOGGING["formatters"]["plain"]["format"])
    formatted = plain.format(line)
    assert "\n" not in formatted
    assert "\r" not in formatted
    assert formatted.endswith(
        f"INFO pomodoro.access [{line.request_id}] GET /api/\\nFAKE\\r\\x1b[31m/ 404 127.0.0.1"
    )


def test_an_anonymous_request_logs_no_user(api_client, log_records):
    api_client.get("/api/v1/me/")

    [line] = records_of(log_records, "pomodoro.access")
    assert (line.status, line.user_id, line.route) == (401, None, "api/v1/me/")


def test_every_record_written_during_a_request_carries_its_id(client, user, log_records):
    # A session action logs nothing of its own; a failed readiness check does.
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",
            }
        }
    ):
        response = client.get("/readyz", HTTP_X_REQUEST_ID="ready-9")

    assert response.status_code == 503
    request_records = [r for r in log_records.records if r.name.startswith("pomodoro.")]
    assert {r.name for r in request_records} >= {"pomodoro.health", "pomodoro.access"}
    assert {r.request_id for r in request_records} == {"ready-9"}


def test_a_record_outside_any_request_has_a_dash_for_its_id(log_records):
    logging.getLogger("pomodoro.worker").info("outside")

    [record] = records_of(log_records, "pomodoro.worker")
    assert record.request_id == "-"


# --- JSON ---------------------------------------------------------------------------


def test_the_json_formatter_writes_one_object_with_the_request_fields(client, user, log_records):
    client.get("/api/v1/me/", HTTP_X_REQUEST_ID="json-1")
    [line] = records_of(log_records, "pomodoro.access")

    formatted = JsonLogFormatter().format(line)

    assert "\n" not in formatted
    entry = json.loads(formatted)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00", entry.pop("time"))
    assert isinstance(entry.pop("duration_ms"), float)
    assert entry == {
        "level": "INFO",
        "logger": "pomodoro.access",
        "message": "GET /api/v1/me/ 200 127.0.0.1",
        "request_id": "json-1",
        "method": "GET",
        "route": "api/v1/me/",
        "path": "/api/v1/me/",
        "status": 200,
        "user_id": user.pk,
        "client": "127.0.0.1",
    }


def test_the_json_formatter_keeps_a_traceback_in_one_line(log_records):
    try:
        raise ValueError("broken")
    except ValueError:
        logging.getLogger("pomodoro.errors").exception("unhandled exception")
    [record] = records_of(log_records, "pomodoro.errors")

    entry = json.loads(JsonLogFormatter().format(record))

    assert entry["message"] == "unhandled exception"
    assert entry["exc_info"].startswith("Traceback (most recent call last):")
    assert entry["exc_info"].endswith("ValueError: broken")


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "pomodoro.settings.test",
            "DATABASE_URL": the_test_database_url(),
            "DATABASE_POOL": "false",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_log_format_json_makes_every_line_of_a_process_a_json_object():
    result = run_manage("run_timer_worker", "--once", LOG_FORMAT="json")

    assert result.returncode == 0, result.stderr
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    started = [entry for entry in entries if entry["message"] == "timer worker started"]
    assert len(started) == 1
    assert started[0]["logger"] == "pomodoro.worker"
    assert started[0]["level"] == "INFO"
    assert started[0]["request_id"] == "-"
    assert started[0]["batch"] == 50


def test_an_unknown_log_format_stops_the_process_naming_the_variable():
    result = run_manage("check", LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "LOG_FORMAT must be plain or json, not 'xml'." in result.stderr


# --- Sockets -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@run_async
async def test_a_socket_logs_its_connect_and_disconnect_with_user_and_request_id(user, log_records):
    ticket, _ = await db(tickets.realtime_ticket_create)(user=user)
    socket_ = WebsocketCommunicator(
        application, ws_path(ticket=ticket), headers=[(b"x-request-id", b"sock-42")]
    )
    try:
        connected, _ = await socket_.connect()
        assert connected
        assert (await socket_.receive_json_from(RECEIVE_TIMEOUT))["type"] == "hello"
    finally:
        await socket_.disconnect(code=1000, timeout=DISCONNECT_TIMEOUT)

    lines = records_of(log_records, "pomodoro.realtime")
    assert [line.getMessage() for line in lines] == ["socket connected", "socket disconnected"]
    assert [(line.user_id, line.request_id) for line in lines] == [
        (user.pk, "sock-42"),
        (user.pk, "sock-42"),
    ]
    assert lines[1].code == 1000
