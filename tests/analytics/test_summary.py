"""GET analytics/summary/: figures exact to the second in the user's own calendar."""

import datetime

import pytest
from django.utils import timezone

from analytics import selectors
from sessions_app.models import Session
from tests.analytics.helpers import API, add_running, add_session, at, hours, set_calendar
from tests.conftest import assert_problem
from tests.factories import TaskFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = API + "analytics/summary/"


def summary(client, period, date=None):
    params = {"period": period} | ({"date": date} if date else {})
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def by_day(body) -> dict[str, int]:
    return {row["date"]: row["focus_seconds"] for row in body["by_day"]}


def test_a_session_across_midnight_gives_each_day_its_part(user, client):
    add_session(user, (at("2026-11-10 23:30"), at("2026-11-11 00:30")))

    first = summary(client, "day", "2026-11-10")
    second = summary(client, "day", "2026-11-11")

    assert first["focus_seconds"] == 1800
    assert second["focus_seconds"] == 1800
    assert first["by_day"] == [{"date": "2026-11-10", "focus_seconds": 1800}]
    assert (first["start"], first["end"]) == ("2026-11-10T00:00:00Z", "2026-11-11T00:00:00Z")


def test_the_whole_answer_of_a_day(user, client):
    task = TaskFactory(user=user, title="Write", daily_goal_minutes=30)
    add_session(user, (at("2026-11-10 09:00"), at("2026-11-10 09:25")), task=task)
    add_session(
        user,
        (at("2026-11-10 09:30"), at("2026-11-10 09:40")),
        state=Session.State.INTERRUPTED,
    )
    add_session(user, (at("2026-11-10 09:25"), at("2026-11-10 09:30")), kind="short_break")
    add_session(user, (at("2026-11-10 10:00"), at("2026-11-10 10:07")), kind="stopwatch")
    add_session(user, (at("2026-11-09 10:00"), at("2026-11-09 11:00")))

    assert summary(client, "day", "2026-11-10") == {
        "period": "day",
        "start": "2026-11-10T00:00:00Z",
        "end": "2026-11-11T00:00:00Z",
        "focus_seconds": 1500 + 600 + 420,
        "break_seconds": 300,
        "completed_focus_count": 1,
        "interrupted_count": 1,
        "by_task": [
            {"task": task.pk, "title": "Write", "focus_seconds": 1500, "goal_seconds": 1800},
            {"task": None, "title": None, "focus_seconds": 1020, "goal_seconds": None},
        ],
        "by_day": [{"date": "2026-11-10", "focus_seconds": 2520}],
        "previous_focus_seconds": 3600,
    }


def test_berlin_spring_forward_day_has_23_hours(user, client):
    set_calendar(user, zone="Europe/Berlin")
    add_session(
        user,
        (at("2026-03-28 23:00", "Europe/Berlin"), at("2026-03-29 12:00", "Europe/Berlin")),
        (at("2026-03-29 12:00", "Europe/Berlin"), at("2026-03-30 01:00", "Europe/Berlin")),
        kind="stopwatch",
    )

    body = summary(client, "day", "2026-03-29")

    assert (body["start"], body["end"]) == ("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z")
    assert body["focus_seconds"] == hours(23)
    assert body["previous_focus_seconds"] == hours(1)
    assert summary(client, "day", "2026-03-30")["focus_seconds"] == hours(1)


def test_berlin_fall_back_day_has_25_hours(user, client):
    set_calendar(user, zone="Europe/Berlin")
    add_session(
        user,
        (at("2026-10-25 00:00", "Europe/Berlin"), at("2026-10-26 00:00", "Europe/Berlin")),
        kind="stopwatch",
    )

    body = summary(client, "day", "2026-10-25")

    assert (body["start"], body["end"]) == ("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z")
    assert body["focus_seconds"] == hours(25)


def test_sydney_changes_in_the_southern_hemisphere(user, client):
    set_calendar(user, zone="Australia/Sydney")
    # Clocks go back on 5 April 2026 (25 hours) and forward on 4 October 2026 (23 hours).
    add_session(
        user,
        (at("2026-04-04 22:00", "Australia/Sydney"), at("2026-04-06 02:00", "Australia/Sydney")),
        kind="stopwatch",
    )
    add_session(
        user,
        (at("2026-10-03 23:00", "Australia/Sydney"), at("2026-10-05 01:00", "Australia/Sydney")),
        kind="stopwatch",
    )

    april = summary(client, "month", "2026-04-05")
    october = summary(client, "day", "2026-10-04")

    assert by_day(april)["2026-04-04"] == hours(2)
    assert by_day(april)["2026-04-05"] == hours(25)
    assert by_day(april)["2026-04-06"] == hours(2)
    assert october["focus_seconds"] == hours(23)
    assert (october["start"], october["end"]) == ("2026-10-03T14:00:00Z", "2026-10-04T13:00:00Z")


def test_a_day_starting_at_four_splits_at_four(user, client):
    set_calendar(user, zone="Asia/Kolkata", day_starts_at="04:00")
    add_session(
        user, (at("2026-11-11 03:00", "Asia/Kolkata"), at("2026-11-11 05:00", "Asia/Kolkata"))
    )

    tenth = summary(client, "day", "2026-11-10")
    eleventh = summary(client, "day", "2026-11-11")

    assert tenth["focus_seconds"] == hours(1)
    assert eleventh["focus_seconds"] == hours(1)
    # 04:00 in Kolkata is 22:30 UTC the day before.
    assert (eleventh["start"], eleventh["end"]) == ("2026-11-10T22:30:00Z", "2026-11-11T22:30:00Z")


def test_a_week_starting_on_sunday(user, client):
    set_calendar(user, week_starts_on=6)
    add_session(user, (at("2026-11-14 12:00"), at("2026-11-14 13:00")))  # Saturday
    add_session(user, (at("2026-11-15 12:00"), at("2026-11-15 12:30")))  # Sunday

    body = summary(client, "week", "2026-11-18")

    assert (body["start"], body["end"]) == ("2026-11-15T00:00:00Z", "2026-11-22T00:00:00Z")
    assert [row["date"] for row in body["by_day"]] == [f"2026-11-{day}" for day in range(15, 22)]
    assert body["by_day"][0] == {"date": "2026-11-15", "focus_seconds": 1800}
    assert body["focus_seconds"] == 1800
    assert body["previous_focus_seconds"] == hours(1)


def test_month_boundaries_and_previous_month(user, client):
    add_session(user, (at("2026-10-31 23:00"), at("2026-11-01 01:00")))
    add_session(user, (at("2026-11-30 23:30"), at("2026-12-01 00:15")))
    add_session(user, (at("2026-10-01 00:00"), at("2026-10-01 00:10")))

    november = summary(client, "month", "2026-11-17")

    assert (november["start"], november["end"]) == ("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")
    assert len(november["by_day"]) == 30
    assert november["focus_seconds"] == hours(1) + 1800
    assert by_day(november)["2026-11-01"] == hours(1)
    assert by_day(november)["2026-11-30"] == 1800
    assert sum(by_day(november).values()) == november["focus_seconds"]
    assert november["previous_focus_seconds"] == hours(1) + 600
    # Days without focus are listed with zero.
    assert by_day(november)["2026-11-15"] == 0


def test_month_shifted_by_day_start(user, client):
    set_calendar(user, day_starts_at="06:00")
    add_session(user, (at("2026-11-01 05:00"), at("2026-11-01 07:00")))

    november = summary(client, "month", "2026-11-10")

    assert (november["start"], november["end"]) == ("2026-11-01T06:00:00Z", "2026-12-01T06:00:00Z")
    assert november["focus_seconds"] == hours(1)
    assert november["previous_focus_seconds"] == hours(1)


def test_goal_seconds_is_the_daily_goal_times_the_days_of_the_period(user, client):
    task = TaskFactory(user=user, daily_goal_minutes=45)
    add_session(user, (at("2026-02-10 09:00"), at("2026-02-10 09:25")), task=task)

    assert summary(client, "week", "2026-02-10")["by_task"][0]["goal_seconds"] == 45 * 60 * 7
    assert summary(client, "month", "2026-02-10")["by_task"][0]["goal_seconds"] == 45 * 60 * 28


def test_a_deleted_session_never_counts(user, client):
    add_session(user, (at("2026-11-10 09:00"), at("2026-11-10 09:25")), deleted=True)
    add_session(
        user,
        (at("2026-11-10 10:00"), at("2026-11-10 10:05")),
        state=Session.State.INTERRUPTED,
        deleted=True,
    )

    body = summary(client, "day", "2026-11-10")

    assert body["focus_seconds"] == 0
    assert body["completed_focus_count"] == 0
    assert body["interrupted_count"] == 0
    assert body["by_task"] == []


def test_a_deleted_tasks_time_still_counts_under_its_title(user, client):
    task = TaskFactory(user=user, title="Old task", daily_goal_minutes=20)
    add_session(user, (at("2026-11-10 09:00"), at("2026-11-10 09:25")), task=task)
    task.deleted_at = timezone.now()
    task.save(update_fields=["deleted_at"])

    body = summary(client, "day", "2026-11-10")

    assert body["focus_seconds"] == 1500
    assert body["by_task"] == [
        {"task": task.pk, "title": "Old task", "focus_seconds": 1500, "goal_seconds": 1200}
    ]


def test_a_running_session_counts_up_to_now(user):
    now = timezone.now().replace(microsecond=0)
    add_running(user, now - datetime.timedelta(seconds=600), planned_seconds=1500)

    result = selectors.focus_summary(user=user, period="day", now=now)

    assert result.focus_seconds == 600
    assert result.completed_focus_count == 0


def test_a_running_stopwatch_counts_up_to_now(user):
    now = timezone.now().replace(microsecond=0)
    add_running(user, now - datetime.timedelta(seconds=90), planned_seconds=None, kind="stopwatch")

    assert selectors.focus_summary(user=user, period="day", now=now).focus_seconds == 90


def test_a_running_session_past_its_target_counts_to_the_target_and_as_completed(user, client):
    set_calendar(user, zone="America/New_York")
    from tests.sessions_app.timer_helpers import put_day_boundary_far_from_now

    put_day_boundary_far_from_now(user)
    add_running(user, timezone.now() - datetime.timedelta(minutes=40), planned_seconds=1500)

    body = summary(client, "day")

    assert body["focus_seconds"] == 1500
    assert body["completed_focus_count"] == 1


def test_other_users_time_is_not_counted(user, client):
    add_session(UserFactory(), (at("2026-11-10 09:00"), at("2026-11-10 09:25")))

    assert summary(client, "day", "2026-11-10")["focus_seconds"] == 0


def test_date_defaults_to_the_users_today(user, client):
    from tests.sessions_app.timer_helpers import put_day_boundary_far_from_now

    day_start = put_day_boundary_far_from_now(user)
    add_session(user, (day_start, day_start + datetime.timedelta(minutes=5)))

    body = summary(client, "day")

    assert body["start"] == day_start.isoformat().replace("+00:00", "Z")
    assert body["focus_seconds"] == 300


@pytest.mark.parametrize(
    ("params", "field"),
    [({}, "period"), ({"period": "year"}, "period"), ({"period": "day", "date": "11/10"}, "date")],
)
def test_invalid_parameters_answer_400(client, params, field):
    body = assert_problem(client.get(URL, params), 400, "invalid")
    assert list(body["errors"]) == [field]


def test_anonymous_is_refused(api_client):
    assert_problem(api_client.get(URL, {"period": "day"}), 401, "not_authenticated")


def test_query_count_does_not_grow_with_history(user, client, django_assert_max_num_queries):
    task = TaskFactory(user=user, daily_goal_minutes=30)
    add_session(user, (at("2026-11-10 09:00"), at("2026-11-10 09:25")), task=task)
    with django_assert_max_num_queries(5) as few:
        summary(client, "month", "2026-11-10")
    for n in range(50):
        start = at("2026-11-01 00:00") + datetime.timedelta(hours=7 * n)
        add_session(
            user,
            (start, start + datetime.timedelta(minutes=25)),
            task=TaskFactory(user=user) if n % 5 == 0 else task,
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        summary(client, "month", "2026-11-10")
