"""The timer worker (`manage.py run_timer_worker`): sessions that reach their planned
length are completed at exactly target_end_at, once, with no client connected, however
many workers run."""

import datetime
import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from events.models import Event
from sessions_app.models import Session, SessionSegment
from sessions_app.services import sessions_complete_due
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.sessions_app.timer_helpers import iso, make_due, move_into_past

pytestmark = pytest.mark.django_db(transaction=True)

PROJECT_DIR = Path(__file__).resolve().parents[2]
SESSIONS = "/api/v1/sessions/"


def worker_database_url() -> str:
    """DATABASE_URL of the test database this test runs against."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """One `run_timer_worker` process; ready once it has logged that it started."""

    def __init__(self, env: dict[str, str]):
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "run_timer_worker", "--interval", "0.1"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log: list[str] = []
        self.started = threading.Event()
        self.reader = threading.Thread(target=self._read_log, daemon=True)
        self.reader.start()

    def _read_log(self) -> None:
        for line in self.process.stderr:
            self.log.append(line)
            if "timer worker started" in line:
                self.started.set()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.reader.join(timeout=5)
        self.process.stderr.close()


def start_workers(count: int) -> list[Worker]:
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "DJANGO_SETTINGS_MODULE": "pomodoro.settings.test",
        "DATABASE_POOL": "false",
        "LOG_LEVEL": "INFO",
    }
    return [Worker(env) for _ in range(count)]


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def events_of(user) -> list[tuple[int, str, int | str, str]]:
    """(seq, type, session id, session state) of every session event of the user, and
    (seq, type, badge code, earned_at) of every badge it earned."""
    rows = []
    for event in Event.objects.filter(user=user).order_by("seq"):
        if event.type == "badge.earned":
            badge = event.data["badge"]
            rows.append((event.seq, event.type, badge["code"], badge["earned_at"]))
        else:
            session = event.data["session"]
            rows.append((event.seq, event.type, session["id"], session["state"]))
    return rows


def test_two_workers_complete_each_session_once_at_its_target():
    users = [UserFactory() for _ in range(4)]
    clients = [client_for(user) for user in users]
    workers = start_workers(2)
    try:
        assert all(worker.started.wait(timeout=15) for worker in workers), [
            "".join(worker.log) for worker in workers
        ]
        created = []
        for client in clients:
            response = client.post(SESSIONS, {"planned_seconds": 1}, format="json")
            assert response.status_code == 201
            created.append(Session.objects.get(pk=response.json()["id"]))
        ids = [session.pk for session in created]

        # Only the database is read from here on: a read through the API would complete
        # the sessions itself, and this test is about the workers.
        assert wait_until(
            lambda: (
                set(Session.objects.filter(pk__in=ids).values_list("state", flat=True))
                == {"completed"}
            ),
            timeout=3,
        ), ["".join(worker.log) for worker in workers]
        time.sleep(0.3)  # time for a second worker to (wrongly) complete one again

        for user, before in zip(users, created, strict=True):
            session = Session.objects.get(pk=before.pk)
            assert session.ended_at == before.target_end_at
            assert session.closed_running_time == datetime.timedelta(seconds=1)
            assert (session.version, session.running_since, session.target_end_at) == (
                2,
                None,
                None,
            )
            assert list(
                SessionSegment.objects.filter(session=session).values_list("started_at", "ended_at")
            ) == [(before.started_at, before.target_end_at)]
            assert events_of(user) == [
                (1, "session.started", session.pk, "running"),
                (2, "session.completed", session.pk, "completed"),
                (3, "badge.earned", "first_pomodoro", iso(before.target_end_at)),
            ]
            # Completed within a second of its target, with no client asking.
            completed_at = Event.objects.get(user=user, seq=2).at
            assert datetime.timedelta(0) <= completed_at - before.target_end_at
            assert completed_at - before.target_end_at < datetime.timedelta(seconds=1)
        assert all(worker.process.poll() is None for worker in workers)
    finally:
        for worker in workers:
            worker.stop()
    # SIGTERM stops a worker cleanly.
    assert [worker.process.returncode for worker in workers] == [0, 0], [
        "".join(worker.log) for worker in workers
    ]


def test_a_session_another_worker_holds_is_skipped_not_awaited():
    user = UserFactory()
    response = client_for(user).post(SESSIONS, {"planned_seconds": 300}, format="json")
    session = make_due(response.json()["id"], seconds_ago=5)
    held, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        try:
            with transaction.atomic():
                Session.objects.select_for_update(no_key=True).get(pk=session.pk)
                held.set()
                release.wait(timeout=5)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert held.wait(timeout=5)
        started = time.monotonic()
        call_command("run_timer_worker", "--once", stdout=(while_held := io.StringIO()))
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join(timeout=10)

    assert while_held.getvalue() == "completed 0 session(s)\n"
    assert waited < 2
    call_command("run_timer_worker", "--once", stdout=(after := io.StringIO()))
    assert after.getvalue() == "completed 1 session(s)\n"
    assert Session.objects.get(pk=session.pk).ended_at == session.target_end_at


def test_once_completes_due_sessions_and_nothing_twice():
    due_users = [UserFactory() for _ in range(3)]
    not_due_user = UserFactory()
    due_ids = []
    for user in due_users:
        response = client_for(user).post(SESSIONS, {"planned_seconds": 300}, format="json")
        due_ids.append(make_due(response.json()["id"], seconds_ago=5).pk)
    not_due_id = client_for(not_due_user).post(SESSIONS, {}, format="json").json()["id"]
    targets = dict(Session.objects.filter(pk__in=due_ids).values_list("pk", "target_end_at"))

    call_command("run_timer_worker", "--once", stdout=(first := io.StringIO()))
    call_command("run_timer_worker", "--once", stdout=(second := io.StringIO()))

    assert first.getvalue() == "completed 3 session(s)\n"
    assert second.getvalue() == "completed 0 session(s)\n"
    for user, session_id in zip(due_users, due_ids, strict=True):
        session = Session.objects.get(pk=session_id)
        assert (session.state, session.ended_at) == ("completed", targets[session_id])
        assert events_of(user) == [
            (1, "session.started", session_id, "running"),
            (2, "session.completed", session_id, "completed"),
            (3, "badge.earned", "first_pomodoro", iso(targets[session_id])),
        ]
    assert Session.objects.get(pk=not_due_id).state == "running"
    assert events_of(not_due_user) == [(1, "session.started", not_due_id, "running")]


def test_once_auto_starts_the_break_when_the_settings_say_so():
    user = UserFactory()
    user.timer_settings.auto_start_breaks = True
    user.timer_settings.short_break_minutes = 7
    user.timer_settings.save()
    response = client_for(user).post(SESSIONS, {"planned_seconds": 300}, format="json")
    focus = make_due(response.json()["id"], seconds_ago=5)
    target = focus.target_end_at

    call_command("run_timer_worker", "--once", stdout=io.StringIO())

    focus.refresh_from_db()
    follower = Session.objects.get(user=user, state="running")
    assert (focus.state, focus.ended_at) == ("completed", target)
    assert (follower.kind, follower.planned_seconds, follower.task_id) == ("short_break", 420, None)
    # The break starts where the focus ended: no second of the cycle goes missing.
    assert follower.started_at == follower.running_since == focus.ended_at
    assert follower.target_end_at == focus.ended_at + datetime.timedelta(minutes=7)
    assert list(
        SessionSegment.objects.filter(session=follower).values_list("started_at", "ended_at")
    ) == [(focus.ended_at, None)]
    assert events_of(user) == [
        (1, "session.started", focus.pk, "running"),
        (2, "session.completed", focus.pk, "completed"),
        (3, "badge.earned", "first_pomodoro", iso(target)),
        (4, "session.started", follower.pk, "running"),
    ]


def test_once_does_not_auto_start_when_the_settings_say_not_to():
    user = UserFactory()
    response = client_for(user).post(SESSIONS, {"planned_seconds": 300}, format="json")
    focus = make_due(response.json()["id"], seconds_ago=5)

    call_command("run_timer_worker", "--once", stdout=io.StringIO())

    assert list(Session.objects.filter(user=user).values_list("pk", "state")) == [
        (focus.pk, "completed")
    ]
    assert [event[1] for event in events_of(user)] == [
        "session.started",
        "session.completed",
        "badge.earned",
    ]


def test_once_auto_starts_focus_after_a_break():
    user = UserFactory()
    user.timer_settings.auto_start_focus = True
    user.timer_settings.save()
    client = client_for(user)
    response = client.post(SESSIONS, {"kind": "short_break", "planned_seconds": 60}, format="json")
    short_break = make_due(response.json()["id"], seconds_ago=2)

    call_command("run_timer_worker", "--once", stdout=io.StringIO())

    follower = Session.objects.get(user=user, state="running")
    assert (follower.kind, follower.planned_seconds) == ("focus", 25 * 60)
    assert follower.started_at == short_break.target_end_at


def test_once_does_not_auto_start_after_a_long_outage():
    """A completion noticed long after the fact (the worker was down) starts nothing."""
    user = UserFactory()
    user.timer_settings.auto_start_breaks = True
    user.timer_settings.save()
    response = client_for(user).post(SESSIONS, {"planned_seconds": 300}, format="json")
    focus = make_due(response.json()["id"], seconds_ago=600)

    call_command("run_timer_worker", "--once", stdout=io.StringIO())

    assert list(Session.objects.filter(user=user).values_list("pk", "state")) == [
        (focus.pk, "completed")
    ]


def test_the_heartbeat_file_is_touched_after_a_batch(tmp_path):
    """The compose health check reads the file's age: a batch that reached the database
    renews it."""
    heartbeat = tmp_path / "heartbeat"
    user = UserFactory()
    response = client_for(user).post(SESSIONS, {"planned_seconds": 300}, format="json")
    focus = make_due(response.json()["id"], seconds_ago=1)
    before = time.time()

    call_command(
        "run_timer_worker", "--once", "--heartbeat-file", str(heartbeat), stdout=io.StringIO()
    )

    assert Session.objects.get(pk=focus.pk).state == "completed"
    assert heartbeat.stat().st_mtime >= before - 1


REFUSE_COMPLETION_OF = """
CREATE FUNCTION refuse_completion() RETURNS trigger AS $$
BEGIN
    IF NEW.id = {session_id} AND NEW.state = 'completed' THEN
        RAISE EXCEPTION 'session % cannot be completed', NEW.id;
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER refuse_completion BEFORE UPDATE ON sessions_app_session
    FOR EACH ROW EXECUTE FUNCTION refuse_completion();
"""


def test_a_session_that_fails_to_complete_is_skipped_and_the_batch_commits():
    """One session whose completion fails (here the database refuses it) is rolled back
    alone, in its savepoint: the others in the batch complete, and it is named as
    failed so that the worker leaves it out for a while."""
    due = []
    for _ in range(3):
        user = UserFactory()
        response = client_for(user).post(SESSIONS, {"planned_seconds": 60}, format="json")
        due.append(make_due(response.json()["id"], seconds_ago=2))
    failing = due[1]
    with connection.cursor() as cursor:
        cursor.execute(REFUSE_COMPLETION_OF.format(session_id=failing.pk))
    try:
        completed, failed = sessions_complete_due(limit=10)
        again = sessions_complete_due(limit=10, skip_ids=frozenset(failed))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER refuse_completion ON sessions_app_session")
            cursor.execute("DROP FUNCTION refuse_completion()")

    assert (completed, failed) == (2, [failing.pk])
    assert again == (0, [])
    states = dict(Session.objects.values_list("pk", "state"))
    assert states == {due[0].pk: "completed", failing.pk: "running", due[2].pk: "completed"}
    assert list(Event.objects.filter(user=failing.user).values_list("type", flat=True)) == [
        "session.started"
    ]
    assert sessions_complete_due(limit=10) == (1, [])
    assert Session.objects.get(pk=failing.pk).state == "completed"


def test_once_stops_a_forgotten_stopwatch_at_exactly_its_limit():
    user = UserFactory()
    user.timer_settings.stopwatch_max_minutes = 1
    user.timer_settings.save()
    other = UserFactory()  # the default limit, 600 minutes: not reached
    response = client_for(user).post(SESSIONS, {"kind": "stopwatch"}, format="json")
    stopwatch = Session.objects.get(pk=response.json()["id"])
    assert stopwatch.target_end_at == stopwatch.started_at + datetime.timedelta(minutes=1)
    move_into_past(stopwatch.pk, 65)
    limit_at = stopwatch.started_at - datetime.timedelta(seconds=65) + datetime.timedelta(minutes=1)
    running_id = client_for(other).post(SESSIONS, {"kind": "stopwatch"}, format="json").json()["id"]
    move_into_past(running_id, 3600)

    call_command("run_timer_worker", "--once", stdout=(first := io.StringIO()))
    call_command("run_timer_worker", "--once", stdout=(second := io.StringIO()))

    assert (first.getvalue(), second.getvalue()) == (
        "completed 1 session(s)\n",
        "completed 0 session(s)\n",
    )
    stored = Session.objects.get(pk=stopwatch.pk)
    assert (stored.state, stored.ended_at, stored.closed_running_time) == (
        "completed",
        limit_at,
        datetime.timedelta(minutes=1),
    )
    assert (stored.running_since, stored.target_end_at, stored.version) == (None, None, 2)
    assert list(
        SessionSegment.objects.filter(session=stored).values_list("started_at", "ended_at")
    ) == [(limit_at - datetime.timedelta(minutes=1), limit_at)]
    assert events_of(user) == [
        (1, "session.started", stopwatch.pk, "running"),
        (2, "session.stopped", stopwatch.pk, "completed"),
    ]
    stopped = Event.objects.get(user=user, seq=2)
    assert stopped.data["reason"] == "max_duration"
    assert stopped.data["session"]["elapsed_seconds"] == 60
    assert stopped.data["session"]["ended_at"] == iso(limit_at)
    # Nothing follows a stopwatch, whatever auto-start says; the other one runs on.
    assert Session.objects.filter(user=user).count() == 1
    assert Session.objects.get(pk=running_id).state == "running"
