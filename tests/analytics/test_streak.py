"""GET analytics/streak/: streaks in the user's days, and badges earned once each."""

import datetime

import pytest

from accounts.models import TimerSettings
from analytics.models import Badge
from analytics.services import badges_award
from events.models import Event
from sessions_app.models import Session
from tests.analytics.helpers import API, add_session
from tests.factories import UserFactory
from tests.sessions_app.timer_helpers import put_day_boundary_far_from_now
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db
URL = API + "analytics/streak/"
DAY = datetime.timedelta(days=1)
MINUTE = datetime.timedelta(minutes=1)


def iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def pomodoro_ending(user, end, *, state=Session.State.COMPLETED, kind="focus", minutes=25):
    return add_session(user, (end - minutes * MINUTE, end), state=state, kind=kind)


def streak(client):
    response = client.get(URL)
    assert response.status_code == 200, response.content
    return response.json()


def award_all(user):
    """What awards badges for history made by factories (not through the services that
    award them as they are earned): the full evaluation `manage.py badges_award` runs."""
    badges_award(user=user)


def badge_events(user):
    return list(
        Event.objects.filter(user=user, type="badge.earned")
        .order_by("seq")
        .values_list("data", flat=True)
    )


@pytest.fixture
def today(user):
    """The instant the user's current day began, far from now (whenever the suite runs)."""
    return put_day_boundary_far_from_now(user, zone="UTC")  # days of exactly 24 hours


def test_no_sessions_no_streak(client):
    assert streak(client) == {"current_days": 0, "longest_days": 0, "badges": []}


def test_while_today_has_none_the_streak_counts_from_yesterday(user, client, today):
    for n in (1, 2, 3):
        pomodoro_ending(user, today - n * DAY + 2 * 60 * MINUTE)

    body = streak(client)

    assert (body["current_days"], body["longest_days"]) == (3, 3)


def test_today_extends_the_streak(user, client, today):
    pomodoro_ending(user, today + 60 * MINUTE)
    pomodoro_ending(user, today - DAY + 60 * MINUTE)

    assert streak(client)["current_days"] == 2


def test_a_missed_day_breaks_the_streak(user, client, today):
    for n in (0, 2, 3, 4):
        pomodoro_ending(user, today - n * DAY + 60 * MINUTE)

    body = streak(client)

    assert (body["current_days"], body["longest_days"]) == (1, 3)


def test_a_session_belongs_to_the_day_of_its_end(user, client, today):
    # Ends a minute before today begins: yesterday's; likewise the day before yesterday's.
    pomodoro_ending(user, today - MINUTE)
    pomodoro_ending(user, today - DAY - MINUTE)

    body = streak(client)

    assert (body["current_days"], body["longest_days"]) == (2, 2)


def test_a_session_ending_as_today_begins_is_todays(user, client, today):
    pomodoro_ending(user, today)

    assert streak(client)["current_days"] == 1
    pomodoro_ending(user, today - 2 * DAY + MINUTE)
    assert streak(client)["current_days"] == 1


def test_interrupted_stopwatch_and_deleted_sessions_make_no_streak_day(user, client, today):
    pomodoro_ending(user, today - DAY + MINUTE * 60, state=Session.State.INTERRUPTED)
    pomodoro_ending(user, today - DAY + MINUTE * 90, kind="stopwatch")
    session = pomodoro_ending(user, today - DAY + MINUTE * 120)
    Session.objects.filter(pk=session.pk).update(deleted_at=session.ended_at)

    assert streak(client) == {"current_days": 0, "longest_days": 0, "badges": []}


def test_first_pomodoro_is_earned_once_with_one_event(user, client, today):
    first = pomodoro_ending(user, today + 30 * MINUTE)
    pomodoro_ending(user, today + 60 * MINUTE)

    award_all(user)
    body = streak(client)
    again = streak(client)

    expected = {
        "code": "first_pomodoro",
        "name": "First Pomodoro",
        "earned_at": iso(first.ended_at),
    }
    assert body["badges"] == [expected]
    assert again["badges"] == [expected]
    assert badge_events(user) == [{"badge": expected}]


def test_ten_pomodoros_earn_the_badge_at_the_tenth(user, client, today):
    ends = [today - 3 * DAY + n * 30 * MINUTE for n in range(10)]
    for end in ends:
        pomodoro_ending(user, end)

    award_all(user)
    codes = {badge["code"]: badge["earned_at"] for badge in streak(client)["badges"]}

    assert codes == {
        "first_pomodoro": iso(ends[0]),
        "perfect_cycle": iso(ends[3]),
        "pomodoros_10": iso(ends[9]),
    }
    assert len(badge_events(user)) == 3


def test_a_seven_day_streak_is_earned_at_the_first_pomodoro_of_the_seventh_day(user, client, today):
    TimerSettings.objects.filter(user=user).update(long_break_every=12)
    ends = [today - n * DAY + 60 * MINUTE for n in range(7, 0, -1)]
    for end in ends:
        pomodoro_ending(user, end)
        pomodoro_ending(user, end + 60 * MINUTE)

    award_all(user)
    body = streak(client)

    assert body["current_days"] == 7
    assert {badge["code"]: badge["earned_at"] for badge in body["badges"]} == {
        "first_pomodoro": iso(ends[0]),
        "pomodoros_10": iso(ends[4] + 60 * MINUTE),
        "streak_7": iso(ends[6]),
    }


def test_goal_met_on_five_days_of_the_current_week(user, client, today):
    user.week_starts_on = (today.astimezone(user.zone).weekday() - 5) % 7
    user.save(update_fields=["week_starts_on"])
    TimerSettings.objects.filter(user=user).update(daily_goal_minutes=30, long_break_every=12)
    # Today is the sixth day of the week: the five days before it each reach 30 minutes,
    # in two stretches (20 and 15 minutes) on the last one.
    for n in range(5, 1, -1):
        pomodoro_ending(user, today - n * DAY + 60 * MINUTE, minutes=30)
    start = today - DAY + 60 * MINUTE
    add_session(user, (start, start + 20 * MINUTE), (start + 40 * MINUTE, start + 55 * MINUTE))

    award_all(user)
    badges = {badge["code"]: badge["earned_at"] for badge in streak(client)["badges"]}

    assert badges["goal_week"] == iso(start + 50 * MINUTE)


def test_goal_met_on_four_days_earns_nothing(user, client, today):
    user.week_starts_on = (today.astimezone(user.zone).weekday() - 5) % 7
    user.save(update_fields=["week_starts_on"])
    TimerSettings.objects.filter(user=user).update(daily_goal_minutes=30)
    for n in range(5, 1, -1):
        pomodoro_ending(user, today - n * DAY + 60 * MINUTE, minutes=30)
    pomodoro_ending(user, today - DAY + 60 * MINUTE, minutes=29)

    award_all(user)
    badges = [badge["code"] for badge in streak(client)["badges"]]

    assert "goal_week" not in badges


def test_a_full_cycle_in_a_row_in_one_day_is_a_perfect_cycle(user, client, today):
    ends = [today + n * 30 * MINUTE + 30 * MINUTE for n in range(4)]
    for end in ends:
        pomodoro_ending(user, end)

    award_all(user)
    badges = {badge["code"]: badge["earned_at"] for badge in streak(client)["badges"]}

    assert badges["perfect_cycle"] == iso(ends[3])


def test_an_interruption_within_the_cycle_breaks_it(user, client, today):
    for n in range(5):
        state = Session.State.INTERRUPTED if n == 2 else Session.State.COMPLETED
        pomodoro_ending(user, today + (n + 1) * 30 * MINUTE, state=state)

    award_all(user)
    assert "perfect_cycle" not in [badge["code"] for badge in streak(client)["badges"]]


def test_a_cycle_across_the_day_boundary_is_not_perfect(user, client, today):
    for n in range(4):
        pomodoro_ending(user, today + (n - 1) * 30 * MINUTE + MINUTE)

    award_all(user)
    assert "perfect_cycle" not in [badge["code"] for badge in streak(client)["badges"]]


def test_awarding_again_changes_nothing(user, today):
    pomodoro_ending(user, today + 30 * MINUTE)

    assert [badge.code for badge in badges_award(user=user)] == ["first_pomodoro"]
    assert badges_award(user=user) == []
    assert Badge.objects.filter(user=user).count() == 1
    assert len(badge_events(user)) == 1


def test_other_users_badges_are_not_shown(client):
    other = UserFactory()
    pomodoro_ending(other, datetime.datetime(2026, 1, 1, 9, 25, tzinfo=datetime.UTC))
    badges_award(user=other)

    assert streak(client)["badges"] == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_awards_record_each_badge_once(user, today):
    pomodoro_ending(user, today + 30 * MINUTE)
    run_in_threads(4, lambda _index: badges_award(user=user))

    assert Badge.objects.filter(user=user).count() == 1
    assert len(badge_events(user)) == 1
    seqs = list(Event.objects.filter(user=user).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
