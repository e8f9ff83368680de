"""Badges awarded by the session transitions, in the transaction where a focus session
completes: once each, with one `badge.earned` event that goes out live after commit."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import TimerSettings
from analytics.models import Badge
from analytics.services import badges_award, badges_award_after_focus
from events import publish as broadcasts
from events.models import Event
from pomodoro.timefmt import isoformat_utc
from sessions_app import services
from sessions_app.models import Session
from tests.analytics.helpers import add_session, at, set_calendar
from tests.factories import UserFactory
from tests.sessions_app.timer_helpers import event_types, move_into_past
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db
MINUTE = datetime.timedelta(minutes=1)
DAY = datetime.timedelta(days=1)


def badge_event(code: str, name: str, earned_at: datetime.datetime) -> dict:
    return {"badge": {"code": code, "name": name, "earned_at": isoformat_utc(earned_at)}}


def badge_events(user) -> list[dict]:
    return list(
        Event.objects.filter(user=user, type="badge.earned")
        .order_by("seq")
        .values_list("data", flat=True)
    )


def held(user) -> dict[str, datetime.datetime]:
    return dict(Badge.objects.filter(user=user).values_list("code", "earned_at"))


@pytest.fixture
def broadcast(monkeypatch) -> list[tuple[str, dict]]:
    """What reaches the channel layer (the user's sockets), in order."""
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(
        broadcasts, "_broadcast", lambda group, message: sent.append((group, message))
    )
    return sent


def assert_first_pomodoro_live(user, broadcast, earned_at: datetime.datetime) -> None:
    expected = badge_event("first_pomodoro", "First Pomodoro", earned_at)
    assert held(user) == {"first_pomodoro": earned_at}
    assert badge_events(user) == [expected]
    live = [message["event"] for _group, message in broadcast]
    assert [(event["type"], event["data"]) for event in live][-1] == ("badge.earned", expected)
    assert {group for group, _message in broadcast} == {f"user.{user.pk}"}


def test_the_first_focus_session_completed_by_stop_earns_first_pomodoro_live(
    user, broadcast, django_capture_on_commit_callbacks
):
    session = services.session_create(user=user, planned_seconds=1500)
    move_into_past(session.pk, 30)
    services.session_pause(user=user, session_id=session.pk)
    services.session_update(user=user, session_id=session.pk, planned_seconds=30)

    with django_capture_on_commit_callbacks(execute=True):
        stopped = services.session_stop(user=user, session_id=session.pk)

    assert stopped.state == Session.State.COMPLETED
    assert [type for _, type in event_types(user)] == [
        "session.started",
        "session.paused",
        "session.updated",
        "session.stopped",
        "badge.earned",
    ]
    assert_first_pomodoro_live(user, broadcast, stopped.ended_at)
    assert [message["event"]["type"] for _group, message in broadcast] == [
        "session.stopped",
        "badge.earned",
    ]


@pytest.mark.parametrize("noticed_by", ["worker", "next_write"])
def test_the_first_focus_session_completed_by_time_earns_first_pomodoro_live(
    user, broadcast, django_capture_on_commit_callbacks, noticed_by
):
    session = services.session_create(user=user, planned_seconds=1500)
    move_into_past(session.pk, 1505)
    target_end_at = Session.objects.get(pk=session.pk).target_end_at

    with django_capture_on_commit_callbacks(execute=True):
        if noticed_by == "worker":
            assert services.sessions_complete_due() == (1, [])
        else:
            services.session_stop(user=user, session_id=session.pk)

    assert event_types(user) == [
        (1, "session.started"),
        (2, "session.completed"),
        (3, "badge.earned"),
    ]
    assert_first_pomodoro_live(user, broadcast, target_end_at)


def test_the_first_focus_session_logged_earns_first_pomodoro_live(
    user, broadcast, django_capture_on_commit_callbacks
):
    end = timezone.now() - 2 * MINUTE

    with django_capture_on_commit_callbacks(execute=True):
        logged = services.session_log(user=user, started_at=end - 25 * MINUTE, ended_at=end)

    assert logged.ended_at == end
    assert event_types(user) == [(1, "session.logged"), (2, "badge.earned")]
    assert_first_pomodoro_live(user, broadcast, end)


def test_a_second_completion_earns_nothing_again(user):
    end = timezone.now() - 2 * MINUTE
    services.session_log(user=user, started_at=end - 60 * MINUTE, ended_at=end - 35 * MINUTE)

    services.session_log(user=user, started_at=end - 25 * MINUTE, ended_at=end)

    assert list(held(user)) == ["first_pomodoro"]
    assert event_types(user) == [
        (1, "session.logged"),
        (2, "badge.earned"),
        (3, "session.logged"),
    ]


@pytest.mark.parametrize(
    "ending",
    ["interrupted focus", "stopwatch", "break"],
)
def test_other_endings_earn_nothing(user, ending):
    kind = {"interrupted focus": "focus", "stopwatch": "stopwatch", "break": "short_break"}[ending]
    session = services.session_create(user=user, kind=kind)
    move_into_past(session.pk, 60)

    stopped = services.session_stop(user=user, session_id=session.pk)

    assert stopped.state == ("completed" if kind == "stopwatch" else "interrupted")
    assert held(user) == {}
    assert event_types(user) == [(1, "session.started"), (2, "session.stopped")]


def test_the_seventh_day_of_a_run_earns_the_streak_at_its_first_completion(user):
    set_calendar(user, zone="UTC")
    TimerSettings.objects.filter(user=user).update(long_break_every=12)
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    if timezone.now() - today < 30 * MINUTE:
        today -= DAY  # room for the entry before now
    ends = [today - n * DAY + 60 * MINUTE for n in range(6, 0, -1)]
    for end in ends:
        add_session(user, (end - 25 * MINUTE, end))
    entry_end = today + 25 * MINUTE

    services.session_log(user=user, started_at=today, ended_at=entry_end)

    assert held(user) == {"first_pomodoro": ends[0], "streak_7": entry_end}
    assert badge_events(user) == [
        badge_event("first_pomodoro", "First Pomodoro", ends[0]),
        badge_event("streak_7", "7-day streak", entry_end),
    ]
    # The backstop, over all history, finds nothing the completion missed.
    assert badges_award(user=user) == []


def test_goal_week_is_earned_in_the_week_of_the_completion(user):
    set_calendar(user, zone="Europe/Berlin", week_starts_on=0)
    TimerSettings.objects.filter(user=user).update(daily_goal_minutes=30)
    monday = at("2026-03-02T09:00", "Europe/Berlin")  # a past week, not the current one
    for n in range(4):
        start = monday + n * DAY
        add_session(user, (start, start + 30 * MINUTE))
    friday = monday + 4 * DAY

    services.session_log(user=user, started_at=friday, ended_at=friday + 30 * MINUTE)

    assert held(user) == {
        "first_pomodoro": monday + 30 * MINUTE,
        "goal_week": friday + 30 * MINUTE,
    }
    assert badge_events(user)[-1] == badge_event(
        "goal_week", "Daily goal met 5 days in a week", friday + 30 * MINUTE
    )


def test_goal_week_is_earned_by_stopwatch_time_once(user):
    """Stopwatch time counts toward the daily goal (the path that reads the goal and the
    badge in one statement: analytics.services._goal_week_state)."""
    set_calendar(user, zone="Europe/Berlin", week_starts_on=0)
    TimerSettings.objects.filter(user=user).update(daily_goal_minutes=30)
    monday = at("2026-03-02T09:00", "Europe/Berlin")
    for n in range(4):
        start = monday + n * DAY
        services.session_log(
            user=user, kind="stopwatch", started_at=start, ended_at=start + 30 * MINUTE
        )
    friday = monday + 4 * DAY
    assert held(user) == {}

    services.session_log(
        user=user, kind="stopwatch", started_at=friday, ended_at=friday + 30 * MINUTE
    )
    saturday = monday + 5 * DAY
    services.session_log(
        user=user, kind="stopwatch", started_at=saturday, ended_at=saturday + 30 * MINUTE
    )

    assert held(user) == {"goal_week": friday + 30 * MINUTE}
    assert badge_events(user) == [
        badge_event("goal_week", "Daily goal met 5 days in a week", friday + 30 * MINUTE)
    ]


def test_the_last_session_of_a_full_cycle_earns_perfect_cycle(user):
    set_calendar(user, zone="UTC")
    day = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) - 2 * DAY
    for n in range(3):
        start = day + n * 30 * MINUTE
        add_session(user, (start, start + 25 * MINUTE))
    start = day + 90 * MINUTE

    services.session_log(user=user, started_at=start, ended_at=start + 25 * MINUTE)

    assert held(user)["perfect_cycle"] == start + 25 * MINUTE


@pytest.mark.parametrize("history", [1, 60])
def test_the_evaluation_is_a_fixed_number_of_queries_whatever_the_history(
    user, history, django_assert_max_num_queries
):
    set_calendar(user, zone="UTC")
    TimerSettings.objects.filter(user=user).update(daily_goal_minutes=600)
    first = timezone.now().replace(hour=9, minute=0, second=0, microsecond=0) - 200 * DAY
    # One session every other day: no streak, no cycle, no goal; the count badges held.
    for n in range(history):
        start = first + 2 * n * DAY
        add_session(user, (start, start + 25 * MINUTE))
    badges_award(user=user)
    start = first + 2 * history * DAY
    session = add_session(user, (start, start + 25 * MINUTE))

    # Held badges, the count badges' ranks, the sessions around the day, the settings, the
    # week's running time for goal_week.
    with django_assert_max_num_queries(5):
        awarded = badges_award_after_focus(user=user, session=session)

    assert awarded == []


def test_the_evaluation_stops_at_one_query_once_every_badge_is_held(
    user, django_assert_num_queries
):
    earned_at = timezone.now() - DAY
    Badge.objects.bulk_create(
        Badge(user=user, code=code, earned_at=earned_at) for code in Badge.Code.values
    )
    session = add_session(user, (earned_at, earned_at + 25 * MINUTE))

    with django_assert_num_queries(1):
        assert badges_award_after_focus(user=user, session=session) == []


def test_an_award_costs_five_queries_more(user, django_assert_max_num_queries):
    end = timezone.now() - DAY
    session = add_session(user, (end - 25 * MINUTE, end))

    # The five reads, then savepoint, seq, event, badge, release.
    with django_assert_max_num_queries(10):
        awarded = badges_award_after_focus(user=user, session=session)

    assert [badge.code for badge in awarded] == ["first_pomodoro"]


class Rollback(Exception):
    pass


def test_a_rolled_back_completion_awards_nothing(
    user, broadcast, django_capture_on_commit_callbacks
):
    end = timezone.now() - 2 * MINUTE

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Rollback),
        transaction.atomic(),
    ):
        services.session_log(user=user, started_at=end - 25 * MINUTE, ended_at=end)
        assert list(held(user)) == ["first_pomodoro"]
        raise Rollback

    assert held(user) == {}
    assert event_types(user) == []
    assert broadcast == []
    # The next completion earns it, with the first number of the log.
    services.session_log(user=user, started_at=end - 25 * MINUTE, ended_at=end)
    assert event_types(user) == [(1, "session.logged"), (2, "badge.earned")]


def run_together(actions: list) -> None:
    """Runs each action in its own thread, released together; fails on any error or hang."""
    run_in_threads(len(actions), lambda index: actions[index](), timeout=20)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_completions_award_each_badge_once(attempt):
    """The worker, a stop and a second worker complete one due session while an earlier
    entry is logged and a full evaluation runs, all at once: each badge once, `seq`
    gapless."""
    user = UserFactory()
    session = services.session_create(user=user, planned_seconds=60)
    move_into_past(session.pk, 120)
    entry_end = timezone.now() - 3 * 60 * MINUTE

    run_together(
        [
            lambda: services.sessions_complete_due(),
            lambda: services.session_stop(user=user, session_id=session.pk),
            lambda: services.sessions_complete_due(),
            lambda: services.session_log(
                user=user, started_at=entry_end - 25 * MINUTE, ended_at=entry_end
            ),
            lambda: badges_award(user=user),
        ]
    )

    assert Session.objects.get(pk=session.pk).state == "completed"
    seqs_and_types = event_types(user)
    assert [seq for seq, _type in seqs_and_types] == list(range(1, len(seqs_and_types) + 1))
    assert [type for _seq, type in seqs_and_types].count("session.completed") == 1
    assert [type for _seq, type in seqs_and_types].count("session.logged") == 1
    assert [event["badge"]["code"] for event in badge_events(user)] == ["first_pomodoro"]
    assert list(held(user)) == ["first_pomodoro"]
