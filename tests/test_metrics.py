"""/metrics: the series of docs/operations.md#metrics, their labels, and the values
they take after real requests, socket connections, broadcasts and worker batches."""

import contextlib
import http.client
import io
import json
import os
import re
import socket
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from events.models import Event
from events.publish import flush_broadcasts
from sessions_app.models import Session
from tests.conftest import assert_problem, client_for
from tests.events.socket_helpers import (
    free_port,
    open_socket,
    run_async,
    the_test_database_url,
)
from tests.factories import UserFactory
from tests.sessions_app.timer_helpers import make_due

SESSIONS = "/api/v1/sessions/"
UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


def scrape(client) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    return response.content.decode()


def metric_value(body: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", body, re.MULTILINE)
    assert match is not None, f"{name}{labels} not in /metrics"
    return float(match.group(1))


def value_or_zero(body: str, name: str, labels: str = "") -> float:
    return metric_value(body, name, labels) if f"{name}{labels} " in body else 0.0


# --- The exposition ------------------------------------------------------------------


def test_metrics_answer_every_documented_series_in_the_prometheus_text_format(api_client, db):
    response = api_client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    body = response.content.decode()
    for name, kind in (
        ("pomodoro_http_requests_total", "counter"),
        ("pomodoro_http_request_duration_seconds", "histogram"),
        ("pomodoro_active_sessions", "gauge"),
        ("pomodoro_oldest_overdue_session_seconds", "gauge"),
        ("pomodoro_websocket_connections", "gauge"),
        ("pomodoro_websocket_disconnects_total", "counter"),
        ("pomodoro_events_broadcast_total", "counter"),
        ("pomodoro_events_broadcast_failures_total", "counter"),
        ("pomodoro_timer_completion_lag_seconds", "histogram"),
        ("pomodoro_readiness_check_failures_total", "counter"),
    ):
        assert f"# TYPE {name} {kind}\n" in body, name
    # Creation timestamps would double the series for nothing Prometheus needs.
    assert "_created" not in body


def test_with_a_metrics_token_only_its_bearer_may_scrape(api_client, db):
    with override_settings(METRICS_TOKEN="scrape-secret"):
        missing = api_client.get("/metrics")
        wrong = api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer guess")
        right = api_client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret")

    assert_problem(missing, 401, "not_authenticated")
    assert missing["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert_problem(wrong, 401, "not_authenticated")
    assert right.status_code == 200
    assert "# TYPE pomodoro_http_requests_total counter" in right.content.decode()


# --- HTTP requests -------------------------------------------------------------------


def test_requests_are_counted_and_timed_by_route_pattern_not_by_raw_path(client, user):
    session_id = client.post(SESSIONS, {"kind": "focus"}, format="json").json()["id"]
    labels = '{method="POST",route="api/v1/sessions/<pk>/pause/",status="200"}'
    before = scrape(client)

    response = client.post(f"{SESSIONS}{session_id}/pause/")

    after = scrape(client)
    assert response.status_code == 200
    assert metric_value(after, "pomodoro_http_requests_total", labels) == (
        value_or_zero(before, "pomodoro_http_requests_total", labels) + 1
    )
    assert metric_value(after, "pomodoro_http_request_duration_seconds_count", labels) == (
        value_or_zero(before, "pomodoro_http_request_duration_seconds_count", labels) + 1
    )
    assert f"/{session_id}/" not in after


def test_unknown_paths_and_methods_do_not_make_new_series(api_client, db):
    unmatched = '{method="GET",route="unmatched",status="404"}'
    odd_method = '{method="other",route="healthz",status="405"}'
    before = scrape(api_client)

    api_client.get("/no-such-page-12345")
    api_client.generic("BREW", "/healthz")

    after = scrape(api_client)
    assert metric_value(after, "pomodoro_http_requests_total", unmatched) == (
        value_or_zero(before, "pomodoro_http_requests_total", unmatched) + 1
    )
    assert metric_value(after, "pomodoro_http_requests_total", odd_method) == (
        value_or_zero(before, "pomodoro_http_requests_total", odd_method) + 1
    )
    assert "no-such-page-12345" not in after
    assert "BREW" not in after


def test_a_failing_readiness_check_is_counted_by_check(api_client, db):
    labels = '{check="cache"}'
    before = scrape(api_client)

    with override_settings(CACHES=UNREACHABLE_CACHE):
        response = api_client.get("/readyz")

    assert response.status_code == 503
    after = scrape(api_client)
    assert metric_value(after, "pomodoro_readiness_check_failures_total", labels) == (
        value_or_zero(before, "pomodoro_readiness_check_failures_total", labels) + 1
    )


# --- State read from the database ----------------------------------------------------


def test_active_sessions_and_the_oldest_overdue_session_are_read_from_the_database(client, user):
    session_id = client.post(SESSIONS, {"kind": "focus"}, format="json").json()["id"]
    # The worker has not completed it 30 s after its target: that is the overdue age.
    make_due(session_id, seconds_ago=30)

    body = scrape(client)

    assert metric_value(body, "pomodoro_active_sessions", '{state="running"}') == 1
    assert metric_value(body, "pomodoro_active_sessions", '{state="paused"}') == 0
    assert 30 <= metric_value(body, "pomodoro_oldest_overdue_session_seconds") < 40


def test_nothing_overdue_reads_zero(client, user):
    client.post(SESSIONS, {"kind": "focus"}, format="json")

    body = scrape(client)

    assert metric_value(body, "pomodoro_active_sessions", '{state="running"}') == 1
    assert metric_value(body, "pomodoro_oldest_overdue_session_seconds") == 0


# --- Broadcasts, the worker, sockets -------------------------------------------------


def test_a_session_action_counts_its_broadcast(client, user, django_capture_on_commit_callbacks):
    before = scrape(client)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SESSIONS, {"kind": "focus"}, format="json")
    flush_broadcasts()

    after = scrape(client)
    assert response.status_code == 201
    assert list(Event.objects.filter(user=user).values_list("type", flat=True)) == [
        "session.started"
    ]
    assert metric_value(after, "pomodoro_events_broadcast_total") == (
        metric_value(before, "pomodoro_events_broadcast_total") + 1
    )
    assert metric_value(after, "pomodoro_events_broadcast_failures_total") == metric_value(
        before, "pomodoro_events_broadcast_failures_total"
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_worker_observes_how_late_it_completed_a_due_session():
    # transaction=True: the worker's loop closes old connections, as in production.
    client = client_for(UserFactory())
    session_id = client.post(SESSIONS, {"kind": "focus"}, format="json").json()["id"]
    make_due(session_id, seconds_ago=30)
    before = scrape(client)
    output = io.StringIO()

    call_command("run_timer_worker", "--once", stdout=output)

    after = scrape(client)
    assert output.getvalue().strip() == "completed 1 session(s)"
    assert Session.objects.get(pk=session_id).state == "completed"
    lag = "pomodoro_timer_completion_lag_seconds"
    assert metric_value(after, f"{lag}_count") == metric_value(before, f"{lag}_count") + 1
    observed = metric_value(after, f"{lag}_sum") - metric_value(before, f"{lag}_sum")
    assert 30 <= observed < 40
    # 30 s late falls in the 60 s bucket, not the 30 s one.
    assert metric_value(after, f"{lag}_bucket", '{le="60.0"}') == (
        metric_value(before, f"{lag}_bucket", '{le="60.0"}') + 1
    )
    assert metric_value(after, f"{lag}_bucket", '{le="30.0"}') == metric_value(
        before, f"{lag}_bucket", '{le="30.0"}'
    )
    assert metric_value(after, "pomodoro_oldest_overdue_session_seconds") == 0


@pytest.mark.django_db(transaction=True)
@run_async
async def test_the_socket_gauge_rises_on_connect_and_falls_on_disconnect(user):
    from prometheus_client import REGISTRY

    def sample(name: str, labels: dict | None = None) -> float:
        return REGISTRY.get_sample_value(name, labels or {}) or 0.0

    open_before = sample("pomodoro_websocket_connections")
    normal_before = sample("pomodoro_websocket_disconnects_total", {"reason": "normal"})

    async with open_socket(user):
        open_during = sample("pomodoro_websocket_connections")

    assert open_during == open_before + 1
    assert sample("pomodoro_websocket_connections") == open_before
    assert sample("pomodoro_websocket_disconnects_total", {"reason": "normal"}) == (
        normal_before + 1
    )


# --- Several processes: gunicorn in multiprocess mode -------------------------------


def http_get(port: int, path: str) -> tuple[int, str]:
    connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection_.request("GET", path)
        response = connection_.getresponse()
        return response.status, response.read().decode()
    finally:
        connection_.close()


@contextlib.contextmanager
def held_worker(port: int, request_id: str):
    """Keeps one sync worker busy reading a request that has not ended; the request is
    finished (and answered by that worker) on the way out."""
    held = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        held.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        time.sleep(0.3)  # accepted by a worker, which now waits for the rest
        yield
        held.sendall(f"X-Request-ID: {request_id}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := held.recv(65536):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    finally:
        held.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_under_gunicorn_each_scrape_adds_up_every_workers_counts(tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"a previous run's file")
    port = free_port()
    log = tmp_path / "gunicorn.log"
    environment = {
        **os.environ,
        # base, not test: the connection pool is on, as in production.
        "DJANGO_SETTINGS_MODULE": "pomodoro.settings.base",
        "DATABASE_URL": the_test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "LOG_FORMAT": "json",
    }
    command = [sys.executable, "-m", "gunicorn", "pomodoro.wsgi:application"]
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [*command, "-b", f"127.0.0.1:{port}", "-w", "2"],
            cwd=settings.BASE_DIR,  # where gunicorn finds gunicorn.conf.py
            env=environment,
            stdout=log_file,
            stderr=log_file,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if http_get(port, "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            # One worker answers the held request, the other the five below; then one
            # scrape while either is held, answered by a worker that saw 1 or 5 (+1).
            with held_worker(port, request_id="held-1"):
                for _ in range(5):
                    assert http_get(port, "/healthz")[0] == 200
            with held_worker(port, request_id="held-2"):
                status, body = http_get(port, "/metrics")
        finally:
            server.terminate()
            server.wait(10)

    assert status == 200, body
    healthz = '{method="GET",route="healthz",status="200"}'
    assert metric_value(body, "pomodoro_http_requests_total", healthz) == 7
    assert metric_value(body, "pomodoro_db_pool_max_connections") == 20
    assert metric_value(body, "pomodoro_db_pool_timeouts_total") == 0
    assert metric_value(body, "pomodoro_db_pool_requests_waiting") == 0
    assert not (metrics_dir / "counter_1.db").exists()
    access = [
        entry
        for entry in (json.loads(line) for line in log.read_text().splitlines() if line[:1] == "{")
        if entry.get("logger") == "pomodoro.access"
    ]
    held = [entry for entry in access if entry["request_id"] == "held-1"]
    assert [(entry["path"], entry["status"]) for entry in held] == [("/healthz", 200)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_running_worker_serves_its_completion_lag_on_its_metrics_port(tmp_path):
    client = client_for(UserFactory())
    session_id = client.post(SESSIONS, {"kind": "focus"}, format="json").json()["id"]
    make_due(session_id, seconds_ago=5)
    port = free_port()
    log = tmp_path / "worker.log"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "pomodoro.settings.test",
        "DATABASE_URL": the_test_database_url(),
        "DATABASE_POOL": "false",
        "TIMER_WORKER_METRICS_PORT": str(port),
    }
    with log.open("wb") as log_file:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "run_timer_worker", "--interval", "0.1"],
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=log_file,
            stderr=log_file,
        )
        try:
            # The lag is observed just after the batch commits: wait for the metric.
            deadline = time.monotonic() + 20
            while True:
                assert worker.poll() is None and time.monotonic() < deadline, log.read_text()
                try:
                    status, body = http_get(port, "/metrics")
                except OSError:
                    status, body = None, ""
                if "pomodoro_timer_completion_lag_seconds_count 1.0" in body:
                    break
                time.sleep(0.1)
        finally:
            worker.terminate()
            worker.wait(10)

    assert status == 200
    assert Session.objects.get(pk=session_id).state == "completed"
    assert metric_value(body, "pomodoro_timer_completion_lag_seconds_count") == 1
    assert 5 <= metric_value(body, "pomodoro_timer_completion_lag_seconds_sum") < 15
    # The deployment-wide gauges are the web process's to answer, not the worker's.
    assert "pomodoro_active_sessions" not in body
