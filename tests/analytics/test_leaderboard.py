"""GET leaderboard/: dense ranks by focus time, each user's own today and week."""

import datetime
import zoneinfo

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone

from analytics.selectors import leaderboard
from tests.analytics.helpers import API, add_running, add_session, at
from tests.conftest import assert_problem
from tests.factories import UserFactory
from tests.sessions_app.timer_helpers import put_day_boundary_far_from_now

pytestmark = pytest.mark.django_db
URL = API + "leaderboard/"
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def no_cache(settings):
    """Most tests read a fresh board; the TTL test turns the cache on."""
    settings.LEADERBOARD_CACHE_SECONDS = 0
    cache.clear()


def board(client, period=None):
    response = client.get(URL, {"period": period} if period else {})
    assert response.status_code == 200, response.content
    return response.json()["results"]


def focus(user, minutes, day="2026-11-10 09:00"):
    start = at(day)
    add_session(user, (start, start + minutes * MINUTE), kind="stopwatch")


def row(rank, user, seconds):
    return {
        "rank": rank,
        "user": {"id": user.pk, "display_name": user.display_name},
        "focus_seconds": seconds,
    }


def test_ranks_are_dense_and_ties_ordered_by_user_id(user, client):
    first, tied_a, tied_b, last, brief = (UserFactory() for _ in range(5))
    focus(first, 60)
    focus(tied_b, 30)
    focus(tied_a, 30)
    focus(last, 10)
    focus(brief, 0.5)

    assert board(client, "all") == [
        row(1, first, 3600),
        row(2, tied_a, 1800),
        row(2, tied_b, 1800),
        row(3, last, 600),
        row(4, brief, 30),
    ]


def test_users_without_focus_time_are_left_out(user, client):
    shown, idle = UserFactory(), UserFactory()
    focus(shown, 5)
    add_session(idle, (at("2026-11-10 11:00"), at("2026-11-10 11:00")))  # no time at all
    add_session(user, (at("2026-11-10 09:00"), at("2026-11-10 09:30")), kind="short_break")

    assert board(client, "all") == [row(1, shown, 300)]


def test_opted_out_and_inactive_users_are_left_out(user, client):
    shown, opted_out, inactive = UserFactory(), UserFactory(), UserFactory()
    opted_out.leaderboard_opt_out = True
    opted_out.save(update_fields=["leaderboard_opt_out"])
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    for person in (shown, opted_out, inactive):
        focus(person, 20)

    assert board(client, "all") == [row(1, shown, 1200)]


def test_deleted_sessions_do_not_count(user, client):
    add_session(user, (at("2026-11-10 09:00"), at("2026-11-10 09:25")), deleted=True)

    assert board(client, "all") == []


def test_a_running_session_counts_up_to_its_target_on_every_board(user, client):
    put_day_boundary_far_from_now(user)
    add_running(user, timezone.now() - 40 * MINUTE, planned_seconds=1500)

    assert board(client, "all") == [row(1, user, 1500)]
    assert board(client, "today") == [row(1, user, 1500)]
    assert board(client, "week") == [row(1, user, 1500)]


def test_today_is_each_users_own_today(user, client):
    # The same stretch of time, from 4 to 3 hours ago, is in one user's today (it began
    # about 12 hours ago) and in the other user's yesterday (theirs began 1 to 2 hours ago).
    early = UserFactory()
    put_day_boundary_far_from_now(early, zone="Pacific/Chatham")
    late = UserFactory(timezone="Asia/Kolkata")
    local_now = timezone.now().astimezone(zoneinfo.ZoneInfo("Asia/Kolkata"))
    late.day_starts_at = datetime.time((local_now - datetime.timedelta(hours=1)).hour, 0)
    late.save(update_fields=["day_starts_at"])
    now = timezone.now().replace(second=0, microsecond=0)
    for person in (early, late):
        add_session(person, (now - 240 * MINUTE, now - 180 * MINUTE))
    add_session(late, (now - 10 * MINUTE, now - 5 * MINUTE))

    assert board(client, "today") == [row(1, early, 3600), row(2, late, 300)]
    assert board(client, "all") == [row(1, late, 3900), row(2, early, 3600)]


def test_week_is_each_users_own_week(user, client):
    # Two users whose week began at their most recent day start: one's began today,
    # the other's six days ago.
    fresh, old = UserFactory(), UserFactory()
    put_day_boundary_far_from_now(old, zone="UTC")
    today_start = put_day_boundary_far_from_now(fresh, zone="UTC")
    weekday = today_start.weekday()
    fresh.week_starts_on = weekday
    fresh.save(update_fields=["week_starts_on"])
    old.week_starts_on = (weekday - 6) % 7
    old.save(update_fields=["week_starts_on"])
    for person in (fresh, old):
        start = today_start - datetime.timedelta(days=2)
        add_session(person, (start, start + 20 * MINUTE))
        add_session(person, (today_start, today_start + 10 * MINUTE))

    assert board(client, "week") == [row(1, old, 1800), row(2, fresh, 600)]


def test_only_the_top_entries_are_listed():
    people = [UserFactory() for _ in range(3)]
    for n, person in enumerate(people):
        focus(person, 10 + n)

    rows = leaderboard(period="all", size=2)

    assert [(entry.rank, entry.user_id) for entry in rows] == [(1, people[2].pk), (2, people[1].pk)]


def test_the_default_period_is_today(user, client):
    focus(user, 10, day="2020-01-01 09:00")

    assert board(client) == []
    assert board(client, "all") == [row(1, user, 600)]


def test_an_unknown_period_answers_400(client):
    body = assert_problem(client.get(URL, {"period": "year"}), 400, "invalid")
    assert list(body["errors"]) == ["period"]


def test_the_board_is_served_from_the_cache_for_its_ttl(user, client):
    focus(user, 10)
    with override_settings(LEADERBOARD_CACHE_SECONDS=60):
        assert board(client, "all") == [row(1, user, 600)]
        focus(user, 5, day="2026-11-11 09:00")
        assert board(client, "all") == [row(1, user, 600)]
    assert board(client, "all") == [row(1, user, 900)]
