"""Faults of the backing services (docs/drills.md): with Redis down the REST API keeps
working, what needs Redis answers 503 service_unavailable, a database that did not
answer is a 503 too while one that refused a statement (a deadlock, a timeout) is a
500, a socket catches up on events whose broadcast was lost without waiting for a new
one, and a timer worker killed mid-batch completes every due session exactly once
after a restart."""

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time

import psycopg
import psycopg_pool
import pytest
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.test import override_settings
from django.utils import timezone
from psycopg import errors as pg_errors

from drills.invariants import violations
from events import consumers
from events.models import Event, EventStream
from pomodoro.models import IdempotencyRecord
from sessions_app.models import Session
from tests.conftest import assert_problem
from tests.events.socket_helpers import db, open_socket, receive_many, run_async
from tests.factories import PASSWORD
from tests.urls_failing import SECRET_TEXT

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
REDIS_DOWN = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": UNREACHABLE_REDIS,
    }
}
API = "/api/v1/"


# --- Redis down -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_timer_action_with_redis_down_succeeds_and_is_not_rate_limited(client, user, rate_limits):
    with override_settings(CACHES=REDIS_DOWN):
        response = client.post(API + "sessions/", {"planned_seconds": 600})

    assert response.status_code == 201, response.content
    assert Session.objects.get(user=user).state == Session.State.RUNNING
    assert list(Event.objects.filter(user=user).values_list("seq", "type")) == [
        (1, "session.started")
    ]


@pytest.mark.django_db
def test_the_leaderboard_with_redis_down_is_computed_instead_of_cached(client, settings):
    settings.LEADERBOARD_CACHE_SECONDS = 30

    with override_settings(CACHES=REDIS_DOWN):
        response = client.get(API + "leaderboard/?period=today")

    assert response.status_code == 200, response.content
    assert response.json() == {"results": []}


@pytest.mark.django_db
def test_a_realtime_ticket_with_redis_down_is_503_service_unavailable(client):
    with override_settings(CACHES=REDIS_DOWN):
        response = client.post(API + "realtime/ticket/")

    assert_problem(response, 503, "service_unavailable")
    assert response["Retry-After"] == "2"


@pytest.mark.django_db
def test_a_login_with_redis_down_succeeds(api_client, user, rate_limits):
    with override_settings(CACHES=REDIS_DOWN):
        response = api_client.post(
            API + "auth/login/", {"email": user.email, "password": PASSWORD}, format="json"
        )

    assert response.status_code == 200, response.content
    assert set(response.json()) == {"access", "refresh"}


# --- PostgreSQL down --------------------------------------------------------------------


def _database_gone(execute, sql, params, many, context):
    # What psycopg raises when PostgreSQL restarts under an open connection, as Django
    # wraps it.
    raise OperationalError("terminating connection due to administrator command")


@pytest.mark.django_db
def test_a_database_error_is_503_service_unavailable_not_500(client, user):
    with connection.execute_wrapper(_database_gone):
        response = client.post(
            API + "sessions/", {"planned_seconds": 600}, HTTP_IDEMPOTENCY_KEY="key-1"
        )

    body = assert_problem(response, 503, "service_unavailable")
    assert body["detail"] == "The service is briefly unavailable. Retry in a few seconds."
    assert response["Retry-After"] == "2"
    assert not Session.objects.filter(user=user).exists()
    assert not Event.objects.filter(user=user).exists()
    assert not IdempotencyRecord.objects.filter(user=user).exists()


def _raising(cause: Exception):
    def execute(execute, sql, params, many, context):
        # As Django raises a driver's error: as its own class, the driver's as the cause.
        raise OperationalError(str(cause)) from cause

    return execute


@pytest.mark.parametrize(
    "cause, status",
    [
        (pg_errors.AdminShutdown("terminating connection due to administrator command"), 503),
        (pg_errors.CrashShutdown("terminating connection because of crash"), 503),
        (pg_errors.CannotConnectNow("the database system is starting up"), 503),
        (pg_errors.ConnectionFailure("server conn crashed?"), 503),
        (psycopg.OperationalError("the connection is closed"), 503),
        (psycopg_pool.PoolTimeout("couldn't get a connection after 10.00 sec"), 503),
        (pg_errors.DeadlockDetected("deadlock detected"), 500),
        (pg_errors.SerializationFailure("could not serialize access"), 500),
        (pg_errors.QueryCanceled("canceling statement due to statement timeout"), 500),
        (pg_errors.LockNotAvailable("could not obtain lock on row"), 500),
        (sqlite3.OperationalError("database is locked"), 500),
    ],
    ids=[
        "57P01 admin shutdown", "57P02 crash shutdown", "57P03 cannot connect now",
        "08006 connection failure", "connection closed", "pool timeout", "40P01 deadlock",
        "40001 serialization failure", "57014 statement timeout", "55P03 lock not available",
        "sqlite database is locked",
    ],
)  # fmt: skip
@pytest.mark.django_db
def test_only_a_database_that_did_not_answer_is_503_other_operational_errors_are_500(
    client, user, cause, status, caplog
):
    with connection.execute_wrapper(_raising(cause)):
        response = client.post(API + "sessions/", {"planned_seconds": 600})

    if status == 503:
        assert_problem(response, 503, "service_unavailable")
        assert response["Retry-After"] == "2"
        level = logging.WARNING
    else:
        body = assert_problem(response, 500, "server_error")
        assert body["detail"] == "Something went wrong on our side."
        assert "Retry-After" not in response
        assert str(cause) not in response.content.decode()
        level = logging.ERROR
    assert [r.levelno for r in caplog.records if r.name == "pomodoro.errors"] == [level]
    assert not Session.objects.filter(user=user).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_statement_timeout_is_a_500_server_error_with_no_sql_in_it(api_client, settings, caplog):
    settings.ROOT_URLCONF = "tests.urls_failing"

    response = api_client.get(API + "test-only/statement-timeout/")

    body = assert_problem(response, 500, "server_error")
    assert body["detail"] == "Something went wrong on our side."
    assert "Retry-After" not in response
    text = response.content.decode()
    for leak in (SECRET_TEXT, "SELECT", "pg_sleep", "statement timeout", "canceling"):
        assert leak not in text, leak
    [logged] = [record for record in caplog.records if record.name == "pomodoro.errors"]
    assert logged.levelno == logging.ERROR
    assert isinstance(logged.exc_info[1].__cause__, pg_errors.QueryCanceled)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_postgresql_terminated_is_503_service_unavailable(api_client, settings):
    settings.ROOT_URLCONF = "tests.urls_failing"

    try:
        response = api_client.get(API + "test-only/connection-terminated/")
    finally:
        connection.close()  # the test client keeps the dead connection open

    assert_problem(response, 503, "service_unavailable")
    assert response["Retry-After"] == "2"


# --- Lost broadcasts --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@run_async
async def test_a_socket_catches_up_on_unbroadcast_events_without_a_new_event(user, monkeypatch):
    monkeypatch.setattr(consumers, "CREDENTIALS_CHECK_SECONDS", 0.2)

    async with open_socket(user) as (socket_, hello):
        assert hello["last_seq"] == 0

        # Written while Redis was down: in the log, never published.
        await db(_log_without_broadcast)(user, [1, 2, 3])

        received = await receive_many(socket_, 3)
        assert [event["seq"] for event in received] == [1, 2, 3]
        assert await socket_.receive_nothing(0.5)


def _log_without_broadcast(user, seqs: list[int]) -> None:
    with transaction.atomic():
        for seq in seqs:
            Event.objects.create(
                user=user, seq=seq, type="project.updated", at=timezone.now(), data={"n": seq}
            )
        EventStream.objects.update_or_create(user=user, defaults={"last_seq": seqs[-1]})


# --- The timer worker killed mid-batch ------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_completes_every_due_session_exactly_once_after_restart():
    from drills.worker_kill import seed_due_sessions

    batch = 50
    session_ids = seed_due_sessions(300, now=timezone.now())
    targets = dict(Session.objects.filter(pk__in=session_ids).values_list("pk", "target_end_at"))
    worker = _worker_process(batch)
    try:
        _wait_for_completed(session_ids, at_least=batch, timeout=60)
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait(10)
    time.sleep(0.3)  # PostgreSQL rolls back the killed worker's open batch
    after_kill = _completed(session_ids)
    assert after_kill % batch == 0, "only whole batches were committed"
    assert after_kill < len(session_ids), "the worker finished before it was killed"

    restarted = _worker_process(batch)
    try:
        _wait_for_completed(session_ids, at_least=len(session_ids), timeout=60)
    finally:
        restarted.send_signal(signal.SIGTERM)
        assert restarted.wait(10) == 0

    sessions = Session.objects.filter(pk__in=session_ids)
    assert {session.pk: session.ended_at for session in sessions} == targets
    assert {session.state for session in sessions} == {Session.State.COMPLETED}
    completions = Event.objects.filter(type="session.completed")
    assert sorted(completions.values_list("data__session__id", flat=True)) == sorted(session_ids)
    with connection.cursor() as cursor:
        assert violations(cursor) == {}


def _worker_process(batch: int) -> subprocess.Popen:
    test_database = settings.DATABASES["default"]
    url = (
        f"postgres://{test_database['USER']}:{test_database['PASSWORD'] or ''}"
        f"@{test_database['HOST']}:{test_database['PORT'] or 5432}/{test_database['NAME']}"
    )
    command = [sys.executable, "manage.py", "run_timer_worker", "--batch", str(batch)]
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_ENV": "test"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.Popen(
        command,
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def _completed(session_ids: list[int]) -> int:
    return Session.objects.filter(pk__in=session_ids, state=Session.State.COMPLETED).count()


def _wait_for_completed(session_ids: list[int], *, at_least: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _completed(session_ids) < at_least:
        assert time.monotonic() < deadline, f"fewer than {at_least} completed in time"
        time.sleep(0.01)
