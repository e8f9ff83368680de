"""The Pomodoro cycle: GET sessions/next/."""

import datetime

import pytest

from accounts.models import TimerSettings
from tests.factories import FinishedSessionFactory
from tests.sessions_app.timer_helpers import API, put_day_boundary_far_from_now

pytestmark = pytest.mark.django_db

MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def day_start(user):
    """The user's current day began about 12 hours ago, so the last hour is all today."""
    start = put_day_boundary_far_from_now(user)
    TimerSettings.objects.filter(user=user).update(
        focus_minutes=50, short_break_minutes=10, long_break_minutes=30, long_break_every=2
    )
    return start


def history(user, day_start, *steps: tuple[str, str]) -> None:
    """Finished sessions of today, one after another from the start of the day."""
    at = day_start + MINUTE
    for kind, state in steps:
        FinishedSessionFactory(user=user, kind=kind, state=state, started_at=at, planned_seconds=60)
        at += 2 * MINUTE


def next_step(client) -> dict:
    response = client.get(API + "sessions/next/")
    assert response.status_code == 200
    return response.json()


def test_the_cycle_starts_with_focus(client, day_start):
    assert next_step(client) == {"kind": "focus", "planned_seconds": 3000}


def test_a_short_break_follows_a_completed_focus(client, user, day_start):
    history(user, day_start, ("focus", "completed"))

    assert next_step(client) == {"kind": "short_break", "planned_seconds": 600}


def test_focus_follows_a_break(client, user, day_start):
    history(user, day_start, ("focus", "completed"), ("short_break", "completed"))

    assert next_step(client) == {"kind": "focus", "planned_seconds": 3000}


def test_focus_follows_an_interrupted_break(client, user, day_start):
    history(user, day_start, ("focus", "completed"), ("short_break", "interrupted"))

    assert next_step(client) == {"kind": "focus", "planned_seconds": 3000}


def test_a_long_break_follows_every_long_break_every_completed_focus(client, user, day_start):
    history(
        user,
        day_start,
        ("focus", "completed"),
        ("short_break", "completed"),
        ("focus", "completed"),
    )

    assert next_step(client) == {"kind": "long_break", "planned_seconds": 1800}


def test_the_count_starts_again_after_a_long_break(client, user, day_start):
    history(
        user,
        day_start,
        ("focus", "completed"),
        ("short_break", "completed"),
        ("focus", "completed"),
        ("long_break", "completed"),
        ("focus", "completed"),
    )

    assert next_step(client) == {"kind": "short_break", "planned_seconds": 600}


def test_an_interrupted_focus_is_followed_by_focus_again(client, user, day_start):
    history(user, day_start, ("focus", "completed"), ("short_break", "completed"))
    history(user, day_start + 10 * MINUTE, ("focus", "interrupted"))

    assert next_step(client) == {"kind": "focus", "planned_seconds": 3000}


def test_interrupted_focus_sessions_do_not_count_towards_the_long_break(client, user, day_start):
    history(
        user,
        day_start,
        ("focus", "interrupted"),
        ("focus", "completed"),
    )

    assert next_step(client) == {"kind": "short_break", "planned_seconds": 600}


def test_only_focus_sessions_of_the_current_day_count(client, user, day_start):
    history(user, day_start - 60 * MINUTE, ("focus", "completed"))  # yesterday
    history(user, day_start, ("focus", "completed"))

    assert next_step(client) == {"kind": "short_break", "planned_seconds": 600}


def test_the_break_after_the_focus_under_way(client, user, day_start):
    history(user, day_start, ("focus", "completed"), ("short_break", "completed"))
    response = client.post(API + "sessions/", {}, format="json")
    assert response.status_code == 201

    assert next_step(client) == {"kind": "long_break", "planned_seconds": 1800}
