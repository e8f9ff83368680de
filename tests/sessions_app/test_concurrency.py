"""Real threads against PostgreSQL: the invariants of the timer engine hold under every
interleaving the database lets happen. Each thread has its own API client and its own
database connection, and closes that connection when it ends."""

import datetime
import itertools
import threading
from collections import Counter

import pytest
from django.db import connection, transaction
from django.utils import timezone

from events.models import Event
from pomodoro.models import IdempotencyRecord
from sessions_app import projects, services
from sessions_app.models import Project, Session, SessionSegment, Task
from tests.conftest import assert_problem, client_for
from tests.factories import UserFactory
from tests.threads import THREAD_TIMEOUT, run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)

SESSIONS = "/api/v1/sessions/"


def user_events(user) -> list[Event]:
    return list(Event.objects.filter(user=user).order_by("seq"))


def assert_gapless(events: list[Event]) -> None:
    assert [event.seq for event in events] == list(range(1, len(events) + 1))


def assert_session_consistent(session_id: int) -> Session:
    """Every invariant of a session's stored state, its segments and its events."""
    now = timezone.now()
    session = Session.objects.get(pk=session_id)
    segments = list(SessionSegment.objects.filter(session_id=session_id).order_by("started_at"))
    open_segments = [segment for segment in segments if segment.ended_at is None]
    closed_segments = [segment for segment in segments if segment.ended_at is not None]

    if session.state == Session.State.RUNNING:
        assert session.ended_at is None
        assert [segment.started_at for segment in open_segments] == [session.running_since]
        assert session.target_end_at == (
            session.running_since
            + datetime.timedelta(seconds=session.planned_seconds)
            - session.closed_running_time
        )
    elif session.state == Session.State.PAUSED:
        assert (session.ended_at, session.running_since, session.target_end_at) == (
            None,
            None,
            None,
        )
        assert open_segments == []
    else:
        assert session.state in Session.ENDED_STATES
        assert (session.running_since, session.target_end_at) == (None, None)
        assert open_segments == []
        assert session.ended_at >= segments[-1].ended_at

    # Segments follow one another without overlapping, from the session's start.
    assert segments[0].started_at == session.started_at
    for earlier, later in itertools.pairwise(segments):
        assert earlier.ended_at is not None
        assert earlier.ended_at <= later.started_at
    assert session.closed_running_time == sum(
        (segment.ended_at - segment.started_at for segment in closed_segments),
        datetime.timedelta(0),
    )
    assert session.elapsed(now) <= now - session.started_at

    # One event per change: seq 1..N, and the session's versions 1..version in seq order.
    events = user_events(session.user_id)
    assert_gapless(events)
    assert [event.data["session"]["version"] for event in events] == list(
        range(1, session.version + 1)
    )
    assert events[-1].data["session"]["state"] == session.state
    return session


def test_concurrent_creates_by_one_user_leave_exactly_one_active_session():
    user = UserFactory()
    clients = [client_for(user) for _ in range(10)]

    responses = run_in_threads(
        10, lambda i: clients[i].post(SESSIONS, {"planned_seconds": 600}, format="json")
    )

    assert sorted(response.status_code for response in responses) == [201] + [409] * 9
    created = next(response.json() for response in responses if response.status_code == 201)
    for response in responses:
        if response.status_code == 409:
            body = assert_problem(response, 409, "active_session_exists")
            assert body["active_session"]["id"] == created["id"]
    assert list(Session.objects.filter(user=user).values_list("pk", "state")) == [
        (created["id"], "running")
    ]
    assert [(event.seq, event.type) for event in user_events(user)] == [(1, "session.started")]


def test_concurrent_pause_start_stop_keep_one_session_consistent():
    """8 threads x 8 rounds of pause, start and stop on one session. Between rounds (all
    threads parked at the barrier) the whole stored state is checked."""
    user = UserFactory()
    session_id = services.session_create(user=user, planned_seconds=1500).pk
    threads, rounds = 8, 8
    clients = [client_for(user) for _ in range(threads)]
    check_failures: list[BaseException] = []

    def check_between_rounds() -> None:
        try:
            assert_session_consistent(session_id)
        except BaseException as error:
            check_failures.append(error)
            raise

    between_rounds = threading.Barrier(threads, action=check_between_rounds)

    def action_for(index: int, round_number: int) -> str:
        if round_number == rounds - 2 and index % 4 == 0:
            return "stop"  # two stops race with pauses and starts in the next-to-last round
        if round_number == rounds - 1:
            return ("pause", "start", "stop")[index % 3]
        return ("pause", "start")[(index + round_number) % 2]

    def work(index: int) -> list[tuple[int, str, object]]:
        answers = []
        for round_number in range(rounds):
            between_rounds.wait(timeout=THREAD_TIMEOUT)
            action = action_for(index, round_number)
            response = clients[index].post(f"{SESSIONS}{session_id}/{action}/")
            answers.append((round_number, action, response))
        between_rounds.wait(timeout=THREAD_TIMEOUT)
        return answers

    try:
        results = run_in_threads(threads, work)
    except threading.BrokenBarrierError:
        raise check_failures[0] if check_failures else AssertionError("barrier broken") from None

    session = assert_session_consistent(session_id)
    assert session.state == Session.State.INTERRUPTED
    events = {event.data["session"]["version"]: event for event in user_events(user)}
    stop_events = [event for event in events.values() if event.type == "session.stopped"]
    assert len(stop_events) == 1
    for answers in results:
        for round_number, action, response in answers:
            if round_number < rounds - 2 or action == "stop":
                assert response.status_code == 200, response.content
            elif round_number == rounds - 1:
                assert_problem(response, 409, "invalid_transition")
            elif response.status_code != 200:
                assert_problem(response, 409, "invalid_transition")  # came after the stop
            if response.status_code == 200:
                body = response.json()
                # Each answer shows a state the session really had: the one of its version.
                assert events[body["version"]].data["session"]["state"] == body["state"]
                assert (
                    body["elapsed_seconds"]
                    <= (
                        datetime.datetime.fromisoformat(body["server_time"])
                        - datetime.datetime.fromisoformat(body["started_at"])
                    ).total_seconds()
                )


def test_concurrent_overlapping_manual_entries_accept_exactly_one():
    user = UserFactory()
    clients = [client_for(user) for _ in range(6)]
    started_at = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=3)
    entry = {
        "started_at": started_at.isoformat(),
        "ended_at": (started_at + datetime.timedelta(minutes=30)).isoformat(),
    }

    responses = run_in_threads(
        6, lambda i: clients[i].post(f"{SESSIONS}log/", entry, format="json")
    )

    assert sorted(response.status_code for response in responses) == [201] + [409] * 5
    logged = next(response.json() for response in responses if response.status_code == 201)
    for response in responses:
        if response.status_code == 409:
            body = assert_problem(response, 409, "overlap")
            assert body["overlapping_session"] == logged["id"]
    assert list(Session.objects.filter(user=user).values_list("pk", "source")) == [
        (logged["id"], "manual")
    ]
    assert [(event.seq, event.type) for event in user_events(user)] == [
        (1, "session.logged"),
        (2, "badge.earned"),
    ]


def test_concurrent_back_to_back_manual_entries_are_all_accepted():
    """Intervals are half-open: entries that only touch do not overlap, even concurrently."""
    user = UserFactory()
    clients = [client_for(user) for _ in range(6)]
    first_start = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=3)

    def log(index: int):
        started_at = first_start + datetime.timedelta(minutes=10 * index)
        entry = {
            "started_at": started_at.isoformat(),
            "ended_at": (started_at + datetime.timedelta(minutes=10)).isoformat(),
        }
        return clients[index].post(f"{SESSIONS}log/", entry, format="json")

    responses = run_in_threads(6, log)

    assert [response.status_code for response in responses] == [201] * 6
    assert Session.objects.filter(user=user, source="manual").count() == 6
    events = user_events(user)
    assert_gapless(events)
    assert [event.type for event in events if event.type != "badge.earned"] == [
        "session.logged"
    ] * 6
    # Badges earned on the way (first_pomodoro; perfect_cycle when the six share a day),
    # each once.
    badges = [event.data["badge"]["code"] for event in events if event.type == "badge.earned"]
    assert badges[0] == "first_pomodoro"
    assert set(badges) <= {"first_pomodoro", "perfect_cycle"}
    assert len(badges) == len(set(badges))


def test_concurrent_retries_with_one_idempotency_key_create_one_session():
    user = UserFactory()
    clients = [client_for(user) for _ in range(10)]
    headers = {"Idempotency-Key": "create-7f3a"}

    responses = run_in_threads(
        10,
        lambda i: clients[i].post(
            SESSIONS, {"planned_seconds": 900}, format="json", headers=headers
        ),
    )

    created = [response for response in responses if response.status_code == 201]
    assert len(created) >= 1
    for response in responses:
        if response.status_code != 201:
            assert_problem(response, 409, "idempotency_in_progress")
    first = created[0].json()
    assert all(response.json() == first for response in created)
    assert list(Session.objects.filter(user=user).values_list("pk", flat=True)) == [first["id"]]
    assert [(event.seq, event.type) for event in user_events(user)] == [(1, "session.started")]
    record = IdempotencyRecord.objects.get(user=user, key="create-7f3a")
    assert (record.state, record.response_status) == ("done", 201)
    # Once the first answer is stored, every retry gets it.
    replay = clients[0].post(SESSIONS, {"planned_seconds": 900}, format="json", headers=headers)
    assert (replay.status_code, replay.json(), replay["Idempotent-Replayed"]) == (
        201,
        first,
        "true",
    )


def test_concurrent_changes_from_different_services_keep_seq_gapless():
    """Project updates, task creation, settings and profile changes and session actions of
    one user, all at once: every change gets its own seq, with no gap and no duplicate."""
    user = UserFactory()
    project = projects.project_create(user=user, name="Writing")
    session = services.session_create(user=user, planned_seconds=1500)
    threads, rounds = 8, 5
    clients = [client_for(user) for _ in range(threads)]

    def change(index: int, round_number: int):
        client = clients[index]
        if index in (0, 1):
            return client.patch(
                f"/api/v1/projects/{project.pk}/",
                {"name": f"Writing {index}.{round_number}"},
                format="json",
            )
        if index == 2:
            return client.post("/api/v1/tasks/", {"title": f"Task {round_number}"}, format="json")
        if index == 3:
            return client.patch(
                "/api/v1/me/settings/", {"focus_minutes": 30 + round_number}, format="json"
            )
        if index == 4:
            return client.patch(
                "/api/v1/me/", {"display_name": f"Name {round_number}"}, format="json"
            )
        action = ("pause", "start")[(index + round_number) % 2]
        return client.post(f"{SESSIONS}{session.pk}/{action}/")

    def work(index: int) -> list:
        return [change(index, round_number) for round_number in range(rounds)]

    results = run_in_threads(threads, work)

    for answers in results:
        for response in answers:
            assert response.status_code in (200, 201), response.content
    events = user_events(user)
    assert_gapless(events)
    session.refresh_from_db()
    other_changes = Counter(event.type for event in events if not event.type.startswith("session."))
    assert other_changes == {
        "project.created": 1,
        "project.updated": 2 * rounds,
        "task.created": rounds,
        "settings.updated": rounds,
        "profile.updated": rounds,
    }
    # The session's version counts its changes, and each change is exactly one event.
    session_events = [event for event in events if event.type.startswith("session.")]
    assert {event.type for event in session_events} == {"session.started", "session.paused"}
    session_versions = [event.data["session"]["version"] for event in session_events]
    assert session_versions == list(range(1, session.version + 1))
    assert Task.objects.filter(user=user).count() == rounds
    assert Project.objects.get(pk=project.pk).name in {f"Writing {i}.{rounds - 1}" for i in (0, 1)}


def test_concurrent_creates_resets_and_stops_never_leave_two_active_sessions():
    """Creates race with resets and stops of whatever session is active: every answer is a
    success or a contract error (never a 500), and at most one session is ever active."""
    user = UserFactory()
    services.session_create(user=user, planned_seconds=1500)
    threads, rounds = 8, 6
    clients = [client_for(user) for _ in range(threads)]

    def act(index: int, round_number: int):
        client = clients[index]
        if index < 4:
            return "create", client.post(SESSIONS, {"planned_seconds": 600}, format="json")
        active = client.get(f"{SESSIONS}active/")
        if active.status_code == 204:
            return "none", active
        action = "reset" if (index + round_number) % 2 else "stop"
        return action, client.post(f"{SESSIONS}{active.json()['id']}/{action}/")

    results = run_in_threads(
        threads, lambda index: [act(index, round_number) for round_number in range(rounds)]
    )

    allowed = {
        "create": {201, 409},
        "stop": {200},
        "reset": {201, 409},
        "none": {204},
    }
    for answers in results:
        for action, response in answers:
            assert response.status_code in allowed[action], (action, response.content)
            if response.status_code == 409:
                code = "active_session_exists" if action == "create" else "invalid_transition"
                assert_problem(response, 409, code)
    assert Session.objects.filter(user=user, state__in=Session.ACTIVE_STATES).count() <= 1
    events = user_events(user)
    assert_gapless(events)
    # Every version of every session is announced once, in order (a reset announces the
    # fresh session it opens as data.new_session).
    announced: dict[int, list[int]] = {}
    for event in events:
        for shown in (event.data["session"], event.data.get("new_session")):
            if shown is not None:
                announced.setdefault(shown["id"], []).append(shown["version"])
    assert announced == {
        session.pk: list(range(1, session.version + 1))
        for session in Session.objects.filter(user=user)
    }


def test_manual_entry_racing_a_resume_cannot_overlap_it():
    """A paused session is resumed (its transaction still open, its new segment not yet
    visible) while a manual entry up to now is logged: the entry waits and is refused."""
    user = UserFactory()
    session = services.session_create(user=user, planned_seconds=1500, start=False)
    resumed, release, logged = threading.Event(), threading.Event(), threading.Event()
    answers: dict[str, object] = {}

    def resume() -> None:
        try:
            with transaction.atomic():
                answers["segment_start"] = services.session_start(
                    user=user, session_id=session.pk
                ).running_since
                resumed.set()
                release.wait(timeout=THREAD_TIMEOUT)
        finally:
            connection.close()

    def log_until_now() -> None:
        try:
            ended_at = timezone.now()
            entry = {
                "started_at": (ended_at - datetime.timedelta(minutes=5)).isoformat(),
                "ended_at": ended_at.isoformat(),
            }
            answers["log"] = client_for(user).post(f"{SESSIONS}log/", entry, format="json")
        finally:
            logged.set()
            connection.close()

    resumer = threading.Thread(target=resume)
    resumer.start()
    assert resumed.wait(timeout=THREAD_TIMEOUT)
    logger = threading.Thread(target=log_until_now)
    logger.start()
    logged.wait(timeout=0.5)  # a log that does not wait for the resume is done by now
    release.set()
    resumer.join(THREAD_TIMEOUT)
    logger.join(THREAD_TIMEOUT)

    assert_problem(answers["log"], 409, "overlap")
    assert list(Session.objects.filter(user=user).values_list("pk", "state")) == [
        (session.pk, "running")
    ]
    assert [event.type for event in user_events(user)] == ["session.updated", "session.started"]


def test_a_start_correction_racing_a_stop_leaves_one_consistent_span():
    """PATCH started_at (earlier) and stop, at once, on a running session: whichever
    commits first, the other applies to what it left (a stopped session's corrected start
    gives it the one span from there to its end), and nothing is lost or counted twice."""
    for _ in range(4):
        user = UserFactory()
        client = client_for(user)
        session = services.session_create(user=user, planned_seconds=1500)
        Session.objects.filter(pk=session.pk).update(
            started_at=session.started_at - datetime.timedelta(minutes=10),
            running_since=session.running_since - datetime.timedelta(minutes=10),
            target_end_at=session.target_end_at - datetime.timedelta(minutes=10),
        )
        SessionSegment.objects.filter(session=session).update(
            started_at=session.started_at - datetime.timedelta(minutes=10)
        )
        new_start = session.started_at - datetime.timedelta(minutes=15)

        def act(index: int, session_id=session.pk, client=client, new_start=new_start):
            if index == 0:
                return client.patch(
                    f"{SESSIONS}{session_id}/",
                    {"started_at": new_start.isoformat()},
                    format="json",
                )
            return client.post(f"{SESSIONS}{session_id}/stop/")

        patched, stopped = run_in_threads(2, act)

        assert (patched.status_code, stopped.status_code) == (200, 200), patched.content
        stored = assert_session_consistent(session.pk)
        assert stored.state == Session.State.INTERRUPTED
        assert list(
            SessionSegment.objects.filter(session=stored).values_list("started_at", "ended_at")
        ) == [(new_start, stored.ended_at)]
        assert stored.closed_running_time == stored.ended_at - new_start
        assert sorted(event.type for event in user_events(user)) == [
            "session.started",
            "session.stopped",
            "session.updated",
        ]


def test_a_correction_racing_a_manual_entry_for_the_same_time_accepts_one():
    """An ended session's end is moved into a gap while a manual entry claims the same
    gap: both take the user's lock, so exactly one is accepted."""
    for _ in range(4):
        user = UserFactory()
        client = client_for(user)
        now = timezone.now().replace(microsecond=0)
        finished = services.session_log(
            user=user,
            started_at=now - datetime.timedelta(hours=3),
            ended_at=now - datetime.timedelta(hours=2),
        )
        gap_end = now - datetime.timedelta(hours=1)

        def act(index: int, client=client, finished=finished, gap_end=gap_end):
            if index == 0:
                return client.patch(
                    f"{SESSIONS}{finished.pk}/", {"ended_at": gap_end.isoformat()}, format="json"
                )
            entry = {
                "started_at": (gap_end - datetime.timedelta(minutes=30)).isoformat(),
                "ended_at": gap_end.isoformat(),
            }
            return client.post(f"{SESSIONS}log/", entry, format="json")

        answers = run_in_threads(2, act)

        # The correction won (the entry overlaps it), or the entry did.
        assert sorted(answer.status_code for answer in answers) in ([200, 409], [201, 409])
        segments = list(
            SessionSegment.objects.filter(user=user)
            .order_by("started_at")
            .values_list("started_at", "ended_at")
        )
        for earlier, later in itertools.pairwise(segments):
            assert earlier[1] <= later[0]
        assert_gapless(user_events(user))


def test_a_new_stopwatch_limit_racing_its_resume_sets_the_stop_from_the_new_limit():
    """PATCH me/settings/ (stopwatch_max_minutes) and resuming the paused stopwatch, at
    once: the settings hold their row, then the session's; the resume holds the session's
    and reads the settings unlocked. Whichever commits first, the running stopwatch ends
    up stopping at the new limit, and neither waits for the other forever."""
    for _ in range(4):
        user = UserFactory()
        client = client_for(user)
        session = services.session_create(user=user, kind=Session.Kind.STOPWATCH)
        services.session_pause(user=user, session_id=session.pk)

        def act(index: int, client=client, session_id=session.pk):
            if index == 0:
                return client.patch(
                    "/api/v1/me/settings/", {"stopwatch_max_minutes": 45}, format="json"
                )
            return client.post(f"{SESSIONS}{session_id}/start/")

        answers = run_in_threads(2, act)

        assert [answer.status_code for answer in answers] == [200, 200]
        stored = Session.objects.get(pk=session.pk)
        assert stored.state == Session.State.RUNNING
        assert stored.target_end_at == (
            stored.running_since + datetime.timedelta(minutes=45) - stored.closed_running_time
        )
        assert_gapless(user_events(user))


def test_a_new_stopwatch_limit_racing_a_stopwatchs_creation_sets_the_stop_from_it():
    """The same race with a stopwatch being created: both take the user row first."""
    for _ in range(4):
        user = UserFactory()
        client = client_for(user)

        def act(index: int, client=client):
            if index == 0:
                return client.patch(
                    "/api/v1/me/settings/", {"stopwatch_max_minutes": 45}, format="json"
                )
            return client.post(SESSIONS, {"kind": "stopwatch"}, format="json")

        answers = run_in_threads(2, act)

        assert [answer.status_code for answer in answers] == [200, 201]
        stored = Session.objects.get(user=user)
        assert stored.target_end_at == stored.running_since + datetime.timedelta(minutes=45)
        assert_gapless(user_events(user))
