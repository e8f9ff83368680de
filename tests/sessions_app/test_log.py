"""Manual entries: POST sessions/log/ records past time as a finished session."""

import datetime

import pytest
from django.utils import timezone

from events.models import Event
from sessions_app.models import Session, SessionSegment
from tests.conftest import assert_problem
from tests.factories import FinishedSessionFactory, TaskFactory
from tests.sessions_app.timer_helpers import (
    API,
    event_types,
    events,
    iso,
    move_into_past,
    without_server_time,
)

pytestmark = pytest.mark.django_db

MINUTE = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)


def log(client, started_at: datetime.datetime, ended_at: datetime.datetime, **body):
    return client.post(
        API + "sessions/log/",
        {"started_at": iso(started_at), "ended_at": iso(ended_at), **body},
        format="json",
    )


def a_while_ago() -> datetime.datetime:
    return (timezone.now() - 5 * HOUR).replace(microsecond=0)


def test_log_records_a_completed_manual_session(client, user):
    task = TaskFactory(user=user)
    start = a_while_ago()

    response = log(
        client, start, start + 50 * MINUTE, task=task.pk, name="Reading", description="Ch. 4"
    )

    assert response.status_code == 201
    session = Session.objects.get()
    body = response.json()
    assert without_server_time(body) == {
        "id": session.pk,
        "kind": "focus",
        "state": "completed",
        "name": "Reading",
        "description": "Ch. 4",
        "task": task.pk,
        "planned_seconds": 3000,
        "elapsed_seconds": 3000,
        "remaining_seconds": 0,
        "started_at": iso(start),
        "ended_at": iso(start + 50 * MINUTE),
        "target_end_at": None,
        "version": 1,
        "source": "manual",
        "project": None,
        "tags": [],
    }
    assert response["ETag"] == '"1"'
    assert list(SessionSegment.objects.values_list("started_at", "ended_at")) == [
        (start, start + 50 * MINUTE)
    ]
    event, badge = events(user)
    assert (event.seq, event.type) == (1, "session.logged")
    assert without_server_time(event.data["session"]) == without_server_time(body)
    # The user's first completed focus session, in the same transaction.
    assert (badge.seq, badge.type) == (2, "badge.earned")
    assert badge.data["badge"]["code"] == "first_pomodoro"


@pytest.mark.parametrize(
    ("kind", "planned_seconds", "remaining_seconds"),
    [("short_break", 600, 0), ("stopwatch", None, None)],
)
def test_log_of_another_kind(client, kind, planned_seconds, remaining_seconds):
    start = a_while_ago()

    response = log(client, start, start + 10 * MINUTE, kind=kind)

    body = response.json()
    assert (body["kind"], body["state"], body["source"]) == (kind, "completed", "manual")
    assert body["elapsed_seconds"] == 600
    assert body["planned_seconds"] == planned_seconds
    assert body["remaining_seconds"] == remaining_seconds


def test_log_of_exactly_24_hours_is_accepted(client):
    start = a_while_ago() - 24 * HOUR

    response = log(client, start, start + 24 * HOUR)

    assert response.status_code == 201
    assert response.json()["elapsed_seconds"] == 24 * 3600


@pytest.mark.parametrize(
    ("started", "ended"),
    [
        pytest.param(-HOUR, MINUTE, id="ends in the future"),
        pytest.param(-HOUR, -2 * HOUR, id="ends before it starts"),
        pytest.param(-HOUR, -HOUR, id="ends as it starts"),
        pytest.param(-30 * HOUR, -6 * HOUR + datetime.timedelta(seconds=1), id="over 24 h"),
    ],
)
def test_log_refuses_impossible_times(client, user, started, ended):
    now = timezone.now()

    response = log(client, now + started, now + ended)

    body = assert_problem(response, 400, "invalid")
    assert list(body["errors"]) == ["ended_at"]
    assert Session.objects.count() == 0
    assert event_types(user) == []


@pytest.mark.parametrize(
    "payload",
    [{"started_at": "yesterday"}, {"kind": "nap"}, {"task": "home"}, {"name": "x" * 201}],
)
def test_log_refuses_invalid_fields(client, user, payload):
    start = a_while_ago()
    body = {"started_at": iso(start), "ended_at": iso(start + HOUR), **payload}

    response = client.post(API + "sessions/log/", body, format="json")

    problem = assert_problem(response, 400, "invalid")
    assert list(problem["errors"]) == list(payload)
    assert Session.objects.count() == 0
    assert event_types(user) == []


def test_log_with_a_task_of_another_user_is_invalid(client, user, other_user):
    start = a_while_ago()

    response = log(client, start, start + HOUR, task=TaskFactory(user=other_user).pk)

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"task": ["No such task of yours."]}
    assert Session.objects.count() == 0
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    ("started", "ended"),
    [
        pytest.param(-10 * MINUTE, 10 * MINUTE, id="over its start"),
        pytest.param(20 * MINUTE, 40 * MINUTE, id="over its end"),
        pytest.param(5 * MINUTE, 10 * MINUTE, id="inside it"),
        pytest.param(-MINUTE, 31 * MINUTE, id="around it"),
        pytest.param(0 * MINUTE, 25 * MINUTE, id="the same time"),
    ],
)
def test_log_overlapping_another_session_is_refused(client, user, started, ended):
    start = a_while_ago()
    existing = FinishedSessionFactory(user=user, started_at=start, planned_seconds=1800)

    response = log(client, start + started, start + ended)

    body = assert_problem(response, 409, "overlap")
    assert body["overlapping_session"] == existing.pk
    assert list(Session.objects.values_list("pk", flat=True)) == [existing.pk]
    assert event_types(user) == []


def test_log_overlapping_the_running_session_is_refused(client, user):
    session = client.post(API + "sessions/", {}, format="json").json()
    move_into_past(session["id"], 600)
    running_since = Session.objects.get().running_since

    response = log(client, running_since - HOUR, running_since + MINUTE)

    body = assert_problem(response, 409, "overlap")
    assert body["overlapping_session"] == session["id"]
    assert Session.objects.count() == 1
    assert event_types(user) == [(1, "session.started")]


def test_log_up_to_the_start_of_the_running_session_is_accepted(client, user):
    session = client.post(API + "sessions/", {}, format="json").json()
    move_into_past(session["id"], 600)
    running_since = Session.objects.get().running_since

    response = log(client, running_since - HOUR, running_since)

    assert response.status_code == 201
    assert Session.objects.get(pk=session["id"]).state == "running"


def test_log_may_fill_the_pause_of_another_session(client, user):
    """Only running time is taken: the time a session spent paused is free."""
    session = client.post(API + "sessions/", {}, format="json").json()
    move_into_past(session["id"], 600)
    client.post(f"{API}sessions/{session['id']}/pause/")
    move_into_past(session["id"], 3000)
    client.post(f"{API}sessions/{session['id']}/start/")
    first_run, second_run = SessionSegment.objects.order_by("started_at")

    overlapping = log(client, first_run.ended_at - MINUTE, second_run.started_at)
    inside_the_pause = log(client, first_run.ended_at, second_run.started_at)

    assert_problem(overlapping, 409, "overlap")
    assert inside_the_pause.status_code == 201
    assert [type for _, type in event_types(user)] == [
        "session.started",
        "session.paused",
        "session.started",
        "session.logged",
        "badge.earned",
    ]


def test_log_back_to_back_with_other_sessions_is_accepted(client, user):
    start = a_while_ago()
    FinishedSessionFactory(user=user, started_at=start, planned_seconds=1800)
    FinishedSessionFactory(user=user, started_at=start + HOUR, planned_seconds=1800)

    response = log(client, start + 30 * MINUTE, start + HOUR)

    assert response.status_code == 201
    assert Session.objects.count() == 3
    assert event_types(user) == [(1, "session.logged"), (2, "badge.earned")]


def test_log_over_a_deleted_session_is_accepted(client, user):
    start = a_while_ago()
    FinishedSessionFactory(
        user=user, started_at=start, planned_seconds=1800, deleted_at=timezone.now()
    )

    response = log(client, start, start + 30 * MINUTE)

    assert response.status_code == 201


def test_log_over_another_users_session_is_accepted(client, other_user):
    start = a_while_ago()
    FinishedSessionFactory(user=other_user, started_at=start, planned_seconds=1800)

    response = log(client, start, start + 30 * MINUTE)

    assert response.status_code == 201


def test_log_after_the_target_of_an_unnoticed_completion_is_accepted(client, user):
    """A running session past its target ended there, whether or not anyone noticed."""
    session = client.post(API + "sessions/", {}, format="json").json()
    move_into_past(session["id"], 2 * 3600)
    target_end_at = Session.objects.get().target_end_at

    response = log(client, target_end_at, target_end_at + 30 * MINUTE)

    assert response.status_code == 201
    completed = Session.objects.get(pk=session["id"])
    assert (completed.state, completed.ended_at) == ("completed", target_end_at)
    assert [type for _, type in event_types(user)] == [
        "session.started",
        "session.completed",
        "badge.earned",
        "session.logged",
    ]
