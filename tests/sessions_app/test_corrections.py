"""Correcting a session's times (PATCH sessions/{id}/ with started_at / ended_at), stopping
a forgotten timer at a past moment (stop with `at`), and the server stopping a forgotten
stopwatch at the user's stopwatch_max_minutes."""

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import TimerSettings
from analytics.models import Badge
from events.models import Event
from sessions_app import services
from sessions_app.models import Session, SessionSegment
from tests.analytics.helpers import add_session
from tests.conftest import assert_problem
from tests.sessions_app.timer_helpers import (
    API,
    event_types,
    iso,
    move_into_past,
    parse,
    session_row,
)

pytestmark = pytest.mark.django_db

SECOND = datetime.timedelta(seconds=1)
MINUTE = datetime.timedelta(minutes=1)
HOUR = datetime.timedelta(hours=1)


def earlier(delta: datetime.timedelta) -> datetime.datetime:
    return (timezone.now() - delta).replace(microsecond=0)


def patch(client, session_id: int, body: dict, **headers):
    return client.patch(f"{API}sessions/{session_id}/", body, format="json", **headers)


def stop(client, session_id: int, body: dict | None = None):
    return client.post(f"{API}sessions/{session_id}/stop/", body or {}, format="json")


def segments(session_id: int) -> list[tuple]:
    return list(
        SessionSegment.objects.filter(session_id=session_id)
        .order_by("started_at")
        .values_list("started_at", "ended_at")
    )


def paused_twice(user) -> Session:
    """An ended focus session (plan 25 min) of 10 + 10 minutes with a pause between,
    from 3 h ago: [-3h, -2h50) and [-2h40, -2h30), interrupted."""
    start = earlier(3 * HOUR)
    return add_session(
        user,
        (start, start + 10 * MINUTE),
        (start + 20 * MINUTE, start + 30 * MINUTE),
        state=Session.State.INTERRUPTED,
    )


def running(user, *, kind="focus", ran: datetime.timedelta = 10 * MINUTE, **body) -> Session:
    """A session created through the service and moved `ran` into the past."""
    session = services.session_create(user=user, kind=kind, **body)
    move_into_past(session.pk, ran.total_seconds())
    return Session.objects.get(pk=session.pk)


# --- Correcting an ended session ----------------------------------------------------


def test_correcting_both_times_replaces_the_running_time_by_one_span(client, user):
    session = paused_twice(user)
    start, end = earlier(5 * HOUR), earlier(5 * HOUR) + 30 * MINUTE

    response = patch(client, session.pk, {"started_at": iso(start), "ended_at": iso(end)})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["started_at"], body["ended_at"]) == (iso(start), iso(end))
    assert (body["state"], body["elapsed_seconds"], body["remaining_seconds"]) == (
        "completed",
        1800,
        0,
    )
    assert body["version"] == session.version + 1
    assert response["ETag"] == f'"{body["version"]}"'
    assert segments(session.pk) == [(start, end)]
    stored = Session.objects.get(pk=session.pk)
    assert stored.closed_running_time == 30 * MINUTE
    [event] = Event.objects.filter(user=user, type="session.updated")
    assert event.data["times_corrected"] is True
    assert event.data["session"]["elapsed_seconds"] == 1800
    assert [kind for _, kind in event_types(user)] == ["session.updated", "badge.earned"]


def test_correcting_only_the_end_keeps_the_start_and_drops_the_pauses(client, user):
    session = paused_twice(user)
    end = session.started_at + 15 * MINUTE

    response = patch(client, session.pk, {"ended_at": iso(end)})

    assert response.status_code == 200, response.content
    body = response.json()
    # add_session planned it as long as it ran: 1200 s.
    assert (body["state"], body["elapsed_seconds"], body["remaining_seconds"]) == (
        "interrupted",
        900,
        300,
    )
    assert segments(session.pk) == [(session.started_at, end)]


def test_correcting_only_the_start_of_a_completed_session_can_interrupt_it(client, user):
    start = earlier(2 * HOUR)
    session = add_session(user, (start, start + 25 * MINUTE))  # completed, plan 1500 s

    response = patch(client, session.pk, {"started_at": iso(start + 5 * MINUTE)})

    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["elapsed_seconds"]) == ("interrupted", 1200)
    assert segments(session.pk) == [(start + 5 * MINUTE, start + 25 * MINUTE)]


def test_a_corrected_stopwatch_is_always_completed(client, user):
    start = earlier(2 * HOUR)
    session = add_session(user, (start, start + MINUTE), kind="stopwatch")

    response = patch(client, session.pk, {"ended_at": iso(start + 40 * MINUTE)})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["elapsed_seconds"], body["planned_seconds"]) == (
        "completed",
        2400,
        None,
    )


def test_sending_the_times_a_session_has_changes_nothing(client, user):
    session = paused_twice(user)
    before = session_row(session.pk)

    response = patch(
        client,
        session.pk,
        {"started_at": iso(session.started_at), "ended_at": iso(session.ended_at)},
    )

    assert response.status_code == 200, response.content
    assert response.json()["version"] == session.version
    assert session_row(session.pk) == before  # the pauses stay
    assert event_types(user) == []


def test_times_and_other_fields_in_one_patch_record_one_event(client, user):
    session = paused_twice(user)

    response = patch(
        client, session.pk, {"name": "Deep work", "ended_at": iso(session.started_at + 25 * MINUTE)}
    )

    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["state"]) == ("Deep work", "completed")
    assert [kind for _, kind in event_types(user)].count("session.updated") == 1
    assert response.json()["version"] == session.version + 1


@pytest.mark.parametrize(
    ("shift", "body_of", "errors"),
    [
        (
            "future end",
            lambda s: {"ended_at": iso(timezone.now() + MINUTE)},
            {"ended_at": ["A session cannot end in the future."]},
        ),
        (
            "future start",
            lambda s: {
                "started_at": iso(timezone.now() + MINUTE),
                "ended_at": iso(timezone.now() + 2 * MINUTE),
            },
            {
                "started_at": ["Cannot be in the future."],
                "ended_at": ["A session cannot end in the future."],
            },
        ),
        (
            "end before start",
            lambda s: {"ended_at": iso(s.started_at - MINUTE)},
            {"ended_at": ["ended_at must be at least one second after started_at."]},
        ),
        (
            "start after end",
            lambda s: {"started_at": iso(s.ended_at + SECOND)},
            {"started_at": ["ended_at must be at least one second after started_at."]},
        ),
        (
            "over 24 hours",
            lambda s: {"started_at": iso(s.ended_at - 24 * HOUR - SECOND)},
            {"started_at": ["A session can last 24 hours at most."]},
        ),
    ],
)
def test_a_correction_breaking_the_log_rules_is_refused_and_changes_nothing(
    client, user, shift, body_of, errors
):
    session = paused_twice(user)
    before = session_row(session.pk)

    response = patch(client, session.pk, body_of(session))

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == errors
    assert session_row(session.pk) == before
    assert event_types(user) == []


def test_exactly_24_hours_is_accepted(client, user):
    session = paused_twice(user)

    response = patch(client, session.pk, {"started_at": iso(session.ended_at - 24 * HOUR)})

    assert response.status_code == 200, response.content
    assert response.json()["elapsed_seconds"] == 86400


def test_a_correction_overlapping_another_session_is_refused(client, user):
    session = paused_twice(user)
    other = add_session(user, (earlier(6 * HOUR), earlier(5 * HOUR)))
    before = session_row(session.pk)

    response = patch(client, session.pk, {"started_at": iso(earlier(5 * HOUR) - SECOND)})

    body = assert_problem(response, 409, "overlap")
    assert body["overlapping_session"] == other.pk
    assert session_row(session.pk) == before
    assert event_types(user) == []


def test_a_correction_may_touch_its_neighbour_and_cover_its_own_pauses(client, user):
    session = paused_twice(user)
    other = add_session(user, (earlier(6 * HOUR), earlier(5 * HOUR)))

    response = patch(client, session.pk, {"started_at": iso(other.ended_at)})

    assert response.status_code == 200, response.content
    assert segments(session.pk) == [(other.ended_at, session.ended_at)]


def test_a_correction_overlapping_the_running_session_is_refused(client, user):
    session = paused_twice(user)
    active = running(user, kind="stopwatch", ran=4 * HOUR)

    response = patch(client, session.pk, {"ended_at": iso(earlier(10 * MINUTE))})

    body = assert_problem(response, 409, "overlap")
    assert body["overlapping_session"] == active.pk


def test_a_correction_overlapping_a_deleted_session_is_accepted(client, user):
    session = paused_twice(user)
    add_session(user, (earlier(6 * HOUR), earlier(5 * HOUR)), deleted=True)

    response = patch(client, session.pk, {"started_at": iso(earlier(6 * HOUR))})

    assert response.status_code == 200, response.content


def test_a_correction_with_a_stale_if_match_is_refused(client, user):
    session = paused_twice(user)
    before = session_row(session.pk)

    response = patch(
        client,
        session.pk,
        {"ended_at": iso(session.ended_at - MINUTE)},
        HTTP_IF_MATCH=f'"{session.version + 1}"',
    )

    assert_problem(response, 412, "version_mismatch")
    assert session_row(session.pk) == before
    assert event_types(user) == []


def test_a_correction_with_the_current_if_match_applies(client, user):
    session = paused_twice(user)

    response = patch(
        client,
        session.pk,
        {"ended_at": iso(session.ended_at - MINUTE)},
        HTTP_IF_MATCH=f'"{session.version}"',
    )

    assert response.status_code == 200, response.content


def test_another_users_session_cannot_be_corrected(client, other_user):
    session = paused_twice(other_user)
    before = session_row(session.pk)

    response = patch(client, session.pk, {"ended_at": iso(session.ended_at - MINUTE)})

    assert_problem(response, 404, "not_found")
    assert session_row(session.pk) == before


# --- Correcting the start of an active session --------------------------------------


def test_an_earlier_start_moves_the_first_running_span_and_the_target(client, user):
    session = running(user, ran=10 * MINUTE)
    start = session.started_at - 5 * MINUTE

    response = patch(client, session.pk, {"started_at": iso(start)})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["started_at"]) == ("running", iso(start))
    assert body["target_end_at"] == iso(session.target_end_at - 5 * MINUTE)
    assert 900 <= body["elapsed_seconds"] <= 901
    stored = Session.objects.get(pk=session.pk)
    assert (stored.running_since, stored.target_end_at) == (
        start,
        session.target_end_at - 5 * MINUTE,
    )
    assert segments(session.pk) == [(start, None)]
    assert [kind for _, kind in event_types(user)] == ["session.started", "session.updated"]


def test_an_earlier_start_of_a_paused_session_adds_to_its_closed_time(client, user):
    session = running(user, ran=10 * MINUTE)
    services.session_pause(user=user, session_id=session.pk)
    start = session.started_at - 5 * MINUTE
    closed_before = Session.objects.get(pk=session.pk).closed_running_time

    response = patch(client, session.pk, {"started_at": iso(start)})

    assert response.status_code == 200, response.content
    stored = Session.objects.get(pk=session.pk)
    assert stored.closed_running_time == closed_before + 5 * MINUTE
    assert (stored.state, stored.target_end_at) == ("paused", None)
    assert segments(session.pk)[0][0] == start


def test_a_start_moved_past_the_plan_completes_the_session_at_its_target(client, user):
    session = running(user, ran=10 * MINUTE)  # 25 minutes planned
    start = session.started_at - 20 * MINUTE

    response = patch(client, session.pk, {"started_at": iso(start)})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["ended_at"], body["elapsed_seconds"]) == (
        "completed",
        iso(start + 25 * MINUTE),
        1500,
    )
    assert segments(session.pk) == [(start, start + 25 * MINUTE)]
    assert [kind for _, kind in event_types(user)] == [
        "session.started",
        "session.updated",
        "session.completed",
        "badge.earned",
    ]


@pytest.mark.parametrize(
    ("body_of", "errors"),
    [
        (
            lambda s: {"ended_at": iso(s.started_at + MINUTE)},
            {"ended_at": ["An active session has no end yet: stop it (with `at`) instead."]},
        ),
        (
            lambda s: {"started_at": iso(s.started_at + MINUTE)},
            {"started_at": ["An active session's start can only move earlier."]},
        ),
    ],
)
def test_an_active_session_refuses_an_end_or_a_later_start(client, user, body_of, errors):
    session = running(user)
    before = session_row(session.pk)

    response = patch(client, session.pk, body_of(session))

    assert assert_problem(response, 400, "invalid")["errors"] == errors
    assert session_row(session.pk) == before
    assert event_types(user) == [(1, "session.started")]


def test_an_earlier_start_overlapping_another_session_is_refused(client, user):
    previous = add_session(user, (earlier(HOUR), earlier(30 * MINUTE)))
    session = running(user, ran=10 * MINUTE)
    before = session_row(session.pk)

    response = patch(client, session.pk, {"started_at": iso(previous.ended_at - SECOND)})

    assert assert_problem(response, 409, "overlap")["overlapping_session"] == previous.pk
    assert session_row(session.pk) == before
    assert event_types(user) == [(1, "session.started")]


# --- Stop at a past moment ----------------------------------------------------------


def test_stop_at_a_past_moment_cuts_the_running_time_there(client, user):
    session = running(user, ran=20 * MINUTE)
    at = session.started_at + 12 * MINUTE

    response = stop(client, session.pk, {"at": iso(at)})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["ended_at"], body["elapsed_seconds"]) == (
        "interrupted",
        iso(at),
        720,
    )
    assert segments(session.pk) == [(session.started_at, at)]
    assert [kind for _, kind in event_types(user)] == ["session.started", "session.stopped"]


def test_a_stopwatch_stopped_at_a_past_moment_is_completed(client, user):
    session = running(user, kind="stopwatch", ran=20 * MINUTE)
    at = session.started_at + 5 * MINUTE

    response = stop(client, session.pk, {"at": iso(at)})

    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["elapsed_seconds"]) == ("completed", 300)


def test_a_paused_session_stops_at_a_moment_after_its_pause(client, user):
    session = running(user, ran=20 * MINUTE)
    services.session_pause(user=user, session_id=session.pk)
    paused_at = segments(session.pk)[0][1]
    move_into_past(session.pk, 600)  # paused 10 minutes ago
    at = paused_at - 5 * MINUTE

    response = stop(client, session.pk, {"at": iso(at)})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["ended_at"], body["elapsed_seconds"]) == (iso(at), 1200)


def test_stop_at_the_last_start_exactly_is_accepted(client, user):
    session = running(user, ran=20 * MINUTE)

    response = stop(client, session.pk, {"at": iso(session.running_since)})

    assert response.status_code == 200, response.content
    assert response.json()["elapsed_seconds"] == 0


@pytest.mark.parametrize(
    ("at_of", "message"),
    [
        (lambda s: timezone.now() + MINUTE, "Cannot be in the future."),
        (
            lambda s: s.running_since - SECOND,
            "Must not be before the session's last start or pause, {last}.",
        ),
    ],
)
def test_stop_at_the_future_or_before_the_last_start_is_refused(client, user, at_of, message):
    session = running(user, ran=20 * MINUTE)
    before = session_row(session.pk)

    response = stop(client, session.pk, {"at": iso(at_of(session))})

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"at": [message.format(last=iso(session.running_since))]}
    assert session_row(session.pk) == before
    assert event_types(user) == [(1, "session.started")]


def test_stop_at_before_the_last_pause_is_refused(client, user):
    session = running(user, ran=20 * MINUTE)
    services.session_pause(user=user, session_id=session.pk)
    paused_at = segments(session.pk)[0][1]
    before = session_row(session.pk)

    response = stop(client, session.pk, {"at": iso(paused_at - SECOND)})

    assert list(assert_problem(response, 400, "invalid")["errors"]) == ["at"]
    assert session_row(session.pk) == before


def test_stop_at_on_an_ended_session_changes_nothing(client, user):
    session = paused_twice(user)

    response = stop(client, session.pk, {"at": iso(session.ended_at - MINUTE)})

    assert response.status_code == 200, response.content
    assert response.json()["version"] == session.version
    assert event_types(user) == []


# --- Forgotten stopwatches ----------------------------------------------------------


def focus_of_the_last_days(client) -> int:
    """The user's focus seconds of the last three days (a run near now may straddle the
    user's day boundary)."""
    days = [(timezone.now() - datetime.timedelta(days=n)).date() for n in range(-1, 3)]
    return sum(
        client.get(API + "analytics/summary/", {"period": "day", "date": day.isoformat()}).json()[
            "focus_seconds"
        ]
        for day in days
    )


def set_stopwatch_max(client, minutes):
    response = client.patch(API + "me/settings/", {"stopwatch_max_minutes": minutes}, format="json")
    assert response.status_code == 200, response.content
    return response


def test_a_stopwatch_past_its_limit_reads_as_stopped_there(client, user):
    TimerSettings.objects.filter(user=user).update(stopwatch_max_minutes=30)
    session = running(user, kind="stopwatch", ran=45 * MINUTE)
    limit_at = session.started_at + 30 * MINUTE
    assert session.target_end_at == limit_at

    body = client.get(f"{API}sessions/{session.pk}/").json()

    assert (body["state"], body["ended_at"], body["elapsed_seconds"]) == (
        "completed",
        iso(limit_at),
        1800,
    )
    assert client.get(API + "sessions/active/").status_code == 204
    assert Session.objects.get(pk=session.pk).state == "running"  # a read wrote nothing


def test_the_next_write_stops_a_stopwatch_past_its_limit_with_max_duration(client, user):
    TimerSettings.objects.filter(user=user).update(stopwatch_max_minutes=30)
    session = running(user, kind="stopwatch", ran=45 * MINUTE)

    response = client.post(f"{API}sessions/{session.pk}/pause/")

    assert_problem(response, 409, "invalid_transition")
    # The write rolled back with its refusal; a stop records it.
    response = stop(client, session.pk)
    assert response.status_code == 200
    assert response.json()["ended_at"] == iso(session.started_at + 30 * MINUTE)
    stopped = Event.objects.get(user=user, type="session.stopped")
    assert stopped.data["reason"] == "max_duration"
    assert stopped.data["session"]["elapsed_seconds"] == 1800


def test_a_paused_stopwatch_resumes_with_the_limit_less_what_it_ran(client, user):
    TimerSettings.objects.filter(user=user).update(stopwatch_max_minutes=30)
    session = running(user, kind="stopwatch", ran=10 * MINUTE)
    services.session_pause(user=user, session_id=session.pk)
    assert Session.objects.get(pk=session.pk).target_end_at is None

    resumed = services.session_start(user=user, session_id=session.pk)

    assert (
        resumed.target_end_at == resumed.running_since + 30 * MINUTE - resumed.closed_running_time
    )


def test_changing_the_limit_moves_the_running_stopwatchs_stop(client, user):
    session = running(user, kind="stopwatch", ran=10 * MINUTE)

    set_stopwatch_max(client, 60)

    stored = Session.objects.get(pk=session.pk)
    assert stored.target_end_at == session.started_at + HOUR
    assert stored.version == session.version + 1
    assert [kind for _, kind in event_types(user)] == [
        "session.started",
        "session.updated",
        "settings.updated",
    ]
    updated = Event.objects.get(user=user, type="session.updated")
    assert updated.data["session"]["target_end_at"] == iso(session.started_at + HOUR)


def test_no_limit_leaves_the_stopwatch_running_with_no_target(client, user):
    session = running(user, kind="stopwatch", ran=11 * HOUR)
    TimerSettings.objects.filter(user=user).update(stopwatch_max_minutes=None)
    Session.objects.filter(pk=session.pk).update(target_end_at=None)

    services.session_pause(user=user, session_id=session.pk)
    resumed = services.session_start(user=user, session_id=session.pk)

    assert (resumed.state, resumed.target_end_at) == ("running", None)


def test_setting_no_limit_clears_the_running_stopwatchs_stop(client, user):
    session = running(user, kind="stopwatch", ran=10 * MINUTE)

    set_stopwatch_max(client, None)

    assert Session.objects.get(pk=session.pk).target_end_at is None
    assert client.get(API + "sessions/active/").json()["state"] == "running"


def test_a_limit_below_what_ran_stops_the_stopwatch_at_the_new_limit(client, user):
    session = running(user, kind="stopwatch", ran=45 * MINUTE)

    set_stopwatch_max(client, 30)

    stored = Session.objects.get(pk=session.pk)
    assert (stored.state, stored.ended_at) == ("completed", session.started_at + 30 * MINUTE)
    assert segments(session.pk) == [(session.started_at, session.started_at + 30 * MINUTE)]
    assert [kind for _, kind in event_types(user)] == [
        "session.started",
        "session.updated",
        "session.stopped",
        "settings.updated",
    ]
    assert Event.objects.get(user=user, type="session.stopped").data["reason"] == "max_duration"


def test_other_settings_leave_the_running_stopwatch_alone(client, user):
    session = running(user, kind="stopwatch", ran=10 * MINUTE)

    client.patch(API + "me/settings/", {"focus_minutes": 50}, format="json")

    assert Session.objects.get(pk=session.pk).version == session.version
    assert [kind for _, kind in event_types(user)] == ["session.started", "settings.updated"]


def test_a_refused_limit_changes_nothing(client, user):
    session = running(user, kind="stopwatch", ran=10 * MINUTE)
    before = session_row(session.pk)

    response = client.patch(API + "me/settings/", {"stopwatch_max_minutes": 0}, format="json")

    assert list(assert_problem(response, 400, "invalid")["errors"]) == ["stopwatch_max_minutes"]
    assert session_row(session.pk) == before
    assert event_types(user) == [(1, "session.started")]


def test_reports_never_count_a_stopwatch_past_its_limit(client, user):
    TimerSettings.objects.filter(user=user).update(stopwatch_max_minutes=30)
    running(user, kind="stopwatch", ran=45 * MINUTE)

    assert focus_of_the_last_days(client) == 1800
    cache.clear()  # the leaderboard is cached for 30 s, across tests too
    board = client.get(API + "leaderboard/", {"period": "all"}).json()
    assert [row["focus_seconds"] for row in board["results"]] == [1800]


# --- Badges and streaks stay exact --------------------------------------------------


def test_a_badge_earned_by_time_a_correction_removed_stays(client, user):
    start = earlier(2 * HOUR)
    session = add_session(user, (start, start + 25 * MINUTE))
    services.session_log(user=user, started_at=earlier(5 * HOUR), ended_at=earlier(4 * HOUR))
    assert Badge.objects.filter(user=user, code="first_pomodoro").exists()
    earned = Badge.objects.get(user=user, code="first_pomodoro").earned_at

    response = patch(client, session.pk, {"ended_at": iso(start + 10 * MINUTE)})
    log_id = Session.objects.get(user=user, source="manual").pk
    response = patch(client, log_id, {"ended_at": iso(earlier(5 * HOUR) + MINUTE)})

    assert response.json()["state"] == "interrupted"
    assert Badge.objects.get(user=user, code="first_pomodoro").earned_at == earned
    assert client.get(API + "analytics/streak/").json()["current_days"] == 0


def test_a_correction_that_completes_a_focus_session_earns_its_badge(client, user):
    session = paused_twice(user)  # interrupted: no badge yet
    assert not Badge.objects.filter(user=user).exists()
    end = session.started_at + 25 * MINUTE

    patch(client, session.pk, {"ended_at": iso(end)})

    assert Badge.objects.get(user=user, code="first_pomodoro").earned_at == end
    assert client.get(API + "analytics/streak/").json()["current_days"] == 1


def test_a_stop_at_a_past_moment_counts_only_up_to_it(client, user):
    session = running(user, kind="stopwatch", ran=40 * MINUTE)

    stop(client, session.pk, {"at": iso(session.started_at + 10 * MINUTE)})

    assert focus_of_the_last_days(client) == 600
    stored = Session.objects.get(pk=session.pk)
    assert parse(iso(stored.ended_at)) == session.started_at + 10 * MINUTE
