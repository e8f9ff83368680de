"""A user's days, weeks and months (accounts/timeframes.py) across time zones, DST changes
and `day_starts_at`, and their use by the history filter and `today_focus_seconds`."""

import datetime
import functools
import zoneinfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import timeframes
from accounts.models import User
from sessions_app.models import Session
from sessions_app.selectors import task_list_with_focus
from tests.factories import FinishedSessionFactory, TaskFactory, UserFactory

UTC = datetime.UTC
HOUR = datetime.timedelta(hours=1)
MICROSECOND = datetime.timedelta(microseconds=1)

ZONES = [
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Sao_Paulo",  # DST changed at local midnight until 2019
    "America/Havana",  # DST changes at local midnight
    "America/Santiago",  # southern hemisphere, changes at 24:00
    "Australia/Sydney",
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Asia/Kolkata",  # +05:30, no DST
    "Asia/Kathmandu",  # +05:45
    "Asia/Tehran",
    "Pacific/Chatham",  # +12:45 / +13:45
]

zones = st.sampled_from(ZONES)
days_starting_at = st.builds(
    datetime.time, hour=st.integers(0, 23), minute=st.sampled_from([0, 15, 30, 45])
)
years = st.integers(1990, 2040)
weekdays = st.integers(0, 6)
FAST = settings(max_examples=200, deadline=None)


def calendar_user(zone: str, starts_at=datetime.time(0, 0), week_starts_on: int = 0) -> User:
    """An unsaved user: the timeframe functions only read its calendar fields."""
    return User(timezone=zone, day_starts_at=starts_at, week_starts_on=week_starts_on)


users = st.builds(calendar_user, zones, days_starting_at, weekdays)


@functools.cache
def days_near_offset_changes(zone: str, year: int) -> tuple[datetime.date, ...]:
    """The two dates of `year` around each change of the zone's UTC offset (DST)."""
    tz = zoneinfo.ZoneInfo(zone)
    near = set()
    day = datetime.date(year, 1, 1)
    while day.year == year:
        noon = datetime.datetime.combine(day, datetime.time(12), tzinfo=tz)
        if noon.utcoffset() != (noon + datetime.timedelta(days=1)).utcoffset():
            near.update((day, day + datetime.timedelta(days=1)))
        day += datetime.timedelta(days=1)
    return tuple(sorted(near))


@st.composite
def users_and_days(draw) -> tuple[User, datetime.date]:
    """A user and a date, half the time next to one of the DST changes of the user's zone."""
    user = draw(users)
    year = draw(years)
    near_changes = days_near_offset_changes(user.timezone, year)
    if near_changes and draw(st.booleans()):
        return user, draw(st.sampled_from(near_changes))
    return user, draw(st.dates(datetime.date(year, 1, 1), datetime.date(year, 12, 31)))


def day_length(user, day: datetime.date) -> datetime.timedelta:
    start, end = timeframes.period_bounds(user, "day", day)
    return end - start


# --- Properties of days, weeks and months ------------------------------------------


@FAST
@given(user_and_day=users_and_days())
def test_days_follow_one_another(user_and_day):
    user, day = user_and_day
    start = timeframes.day_start(user, day)
    next_start = timeframes.day_start(user, day + datetime.timedelta(days=1))

    assert next_start > start
    assert timeframes.local_date(user, start) == day
    assert timeframes.local_date(user, next_start - MICROSECOND) == day
    assert timeframes.period_bounds(user, "day", day) == (start, next_start)


@FAST
@given(user_and_day=users_and_days())
def test_a_day_lasts_24_hours_give_or_take_a_dst_shift(user_and_day):
    user, day = user_and_day
    length = day_length(user, day)

    assert datetime.timedelta(hours=22) <= length <= datetime.timedelta(hours=26)
    if user.timezone in ("UTC", "Asia/Kolkata", "Asia/Kathmandu"):
        assert length == datetime.timedelta(hours=24)


@FAST
@given(
    user_and_day=users_and_days(),
    seconds_from_noon=st.integers(-36 * 3600, 36 * 3600),
    microsecond=st.sampled_from([0, 1, 999_999]),
)
def test_every_instant_is_in_exactly_its_own_day(user_and_day, seconds_from_noon, microsecond):
    user, near_day = user_and_day
    at = datetime.datetime.combine(near_day, datetime.time(12), tzinfo=UTC) + datetime.timedelta(
        seconds=seconds_from_noon, microseconds=microsecond
    )
    day = timeframes.local_date(user, at)
    start, end = timeframes.period_bounds(user, "day", day)

    assert start <= at < end
    # The local wall clock is at most a day away from the user's day.
    assert 0 <= (at.astimezone(user.zone).date() - day).days <= 1


@FAST
@given(user_and_day=users_and_days())
def test_the_week_starts_on_week_starts_on_and_has_seven_days(user_and_day):
    user, day = user_and_day
    start, end = timeframes.period_bounds(user, "week", day)
    first_day = timeframes.local_date(user, start)

    assert first_day.weekday() == user.week_starts_on
    assert first_day <= day < first_day + datetime.timedelta(days=7)
    assert end == timeframes.day_start(user, first_day + datetime.timedelta(days=7))
    assert timeframes.local_date(user, end - MICROSECOND) == first_day + datetime.timedelta(days=6)
    assert (
        datetime.timedelta(hours=7 * 24 - 2) <= end - start <= datetime.timedelta(hours=7 * 24 + 2)
    )


@FAST
@given(user_and_day=users_and_days())
def test_months_partition_time(user_and_day):
    user, day = user_and_day
    start, end = timeframes.period_bounds(user, "month", day)
    first_day, after = timeframes.period_days(user, "month", day)
    next_start, _ = timeframes.period_bounds(user, "month", after)
    previous_first = timeframes.period_before("month", first_day)
    _, previous_end = timeframes.period_bounds(user, "month", previous_first)

    assert first_day == day.replace(day=1)
    assert (after.day, (after - datetime.timedelta(days=1)).month) == (1, day.month)
    assert (start, end) == (
        timeframes.day_start(user, first_day),
        timeframes.day_start(user, after),
    )
    assert next_start == end
    assert previous_end == start
    assert timeframes.local_date(user, start) == first_day
    assert timeframes.local_date(user, end - MICROSECOND) == after - datetime.timedelta(days=1)


@FAST
@given(user_and_day=users_and_days(), period=st.sampled_from(timeframes.PERIODS))
def test_each_period_is_the_days_it_contains(user_and_day, period):
    user, day = user_and_day
    first_day, after = timeframes.period_days(user, period, day)
    start, end = timeframes.period_bounds(user, period, day)
    day_count = (after - first_day).days

    assert first_day <= day < after
    assert timeframes.period_after(period, first_day) == after
    assert timeframes.period_before(period, after) == first_day
    assert (
        sum(
            (day_length(user, first_day + datetime.timedelta(days=n)) for n in range(day_count)),
            datetime.timedelta(0),
        )
        == end - start
    )


# --- Fixed cases ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("Europe/Berlin", datetime.date(2026, 3, 29), 23),
        ("Europe/Berlin", datetime.date(2026, 10, 25), 25),
        ("Europe/Berlin", datetime.date(2026, 10, 26), 24),
        ("America/New_York", datetime.date(2026, 3, 8), 23),
        ("America/New_York", datetime.date(2026, 11, 1), 25),
        # Southern hemisphere: summer time ends in April and starts in October.
        ("Australia/Sydney", datetime.date(2026, 4, 5), 25),
        ("Australia/Sydney", datetime.date(2026, 10, 4), 23),
        ("Australia/Lord_Howe", datetime.date(2026, 4, 5), 24.5),
        ("Australia/Lord_Howe", datetime.date(2026, 10, 4), 23.5),
        ("Asia/Kolkata", datetime.date(2026, 3, 29), 24),
    ],
)
def test_dst_days_are_23_or_25_hours(zone, day, hours):
    user = calendar_user(zone)

    assert day_length(user, day) == datetime.timedelta(hours=hours)


def test_berlin_days_across_the_spring_change():
    user = calendar_user("Europe/Berlin")

    assert timeframes.period_bounds(user, "day", datetime.date(2026, 3, 29)) == (
        datetime.datetime(2026, 3, 28, 23, 0, tzinfo=UTC),
        datetime.datetime(2026, 3, 29, 22, 0, tzinfo=UTC),
    )


def test_day_starting_at_4_puts_2_am_in_the_previous_day():
    user = calendar_user("Europe/Berlin", starts_at=datetime.time(4, 0))
    two_am = datetime.datetime(2026, 6, 10, 2, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))

    assert timeframes.local_date(user, two_am) == datetime.date(2026, 6, 9)
    assert timeframes.local_date(user, two_am + 2 * HOUR) == datetime.date(2026, 6, 10)
    assert timeframes.day_start(user, datetime.date(2026, 6, 10)) == datetime.datetime(
        2026, 6, 10, 2, 0, tzinfo=UTC
    )


def test_day_starting_inside_the_skipped_hour_begins_at_the_first_instant_after_it():
    # Berlin skips 02:00-03:00 on 2026-03-29; 02:30 is read with the winter offset.
    user = calendar_user("Europe/Berlin", starts_at=datetime.time(2, 30))

    assert timeframes.day_start(user, datetime.date(2026, 3, 29)) == datetime.datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )
    assert day_length(user, datetime.date(2026, 3, 28)) == datetime.timedelta(hours=24)
    assert day_length(user, datetime.date(2026, 3, 29)) == datetime.timedelta(hours=23)


def test_day_starting_inside_the_repeated_hour_begins_at_its_first_pass():
    # Berlin repeats 02:00-03:00 on 2026-10-25; the day begins at the first 02:30.
    user = calendar_user("Europe/Berlin", starts_at=datetime.time(2, 30))

    assert timeframes.day_start(user, datetime.date(2026, 10, 25)) == datetime.datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )
    assert day_length(user, datetime.date(2026, 10, 24)) == datetime.timedelta(hours=24)
    assert day_length(user, datetime.date(2026, 10, 25)) == datetime.timedelta(hours=25)


def test_week_starting_on_sunday():
    user = calendar_user("America/New_York", week_starts_on=User.Weekday.SUNDAY)

    # Wednesday 2026-11-04; the week holds the fall-back Sunday, 2026-11-01.
    start, end = timeframes.period_bounds(user, "week", datetime.date(2026, 11, 4))

    assert timeframes.period_days(user, "week", datetime.date(2026, 11, 4)) == (
        datetime.date(2026, 11, 1),
        datetime.date(2026, 11, 8),
    )
    assert (start, end) == (
        datetime.datetime(2026, 11, 1, 4, 0, tzinfo=UTC),
        datetime.datetime(2026, 11, 8, 5, 0, tzinfo=UTC),
    )
    assert timeframes.period_days(user, "week", datetime.date(2026, 11, 1))[0] == datetime.date(
        2026, 11, 1
    )
    assert timeframes.period_days(user, "week", datetime.date(2026, 10, 31))[0] == datetime.date(
        2026, 10, 25
    )


def test_month_shifted_by_day_starts_at():
    user = calendar_user("Asia/Kolkata", starts_at=datetime.time(5, 30))

    assert timeframes.period_bounds(user, "month", datetime.date(2026, 2, 14)) == (
        datetime.datetime(2026, 2, 1, 0, 0, tzinfo=UTC),
        datetime.datetime(2026, 3, 1, 0, 0, tzinfo=UTC),
    )
    assert timeframes.period_before("month", datetime.date(2026, 1, 1)) == datetime.date(
        2025, 12, 1
    )


# --- The history filter -------------------------------------------------------------


def history_ids(client, day: datetime.date) -> list[int]:
    response = client.get("/api/v1/sessions/", {"period": "day", "date": day.isoformat()})
    assert response.status_code == 200, response.content
    return [session["id"] for session in response.json()["results"]]


def finished(user, started_at: datetime.datetime, ended_at: datetime.datetime, **fields) -> Session:
    """A completed session with one segment from started_at to ended_at."""
    length = int((ended_at - started_at).total_seconds())
    fields.setdefault("planned_seconds", None if fields.get("kind") == "stopwatch" else length)
    return FinishedSessionFactory(user=user, started_at=started_at, ended_at=ended_at, **fields)


def new_york(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=zoneinfo.ZoneInfo("America/New_York"))


@pytest.mark.django_db
def test_history_shows_a_session_crossing_local_midnight_in_both_days(client, user):
    user.timezone = "America/New_York"
    user.save()
    # 23:30 to 00:30 New York time is 04:30 to 05:30 UTC: one UTC day, two local days.
    crossing = finished(user, new_york(2026, 6, 10, 23, 30), new_york(2026, 6, 11, 0, 30))
    before = finished(user, new_york(2026, 6, 10, 9, 0), new_york(2026, 6, 10, 9, 25))
    until_midnight = finished(user, new_york(2026, 6, 11, 23, 0), new_york(2026, 6, 12, 0, 0))

    assert history_ids(client, datetime.date(2026, 6, 10)) == [crossing.pk, before.pk]
    assert history_ids(client, datetime.date(2026, 6, 11)) == [until_midnight.pk, crossing.pk]
    # Half-open days: a session that ends at midnight is not in the next day.
    assert history_ids(client, datetime.date(2026, 6, 12)) == []
    assert history_ids(client, datetime.date(2026, 6, 9)) == []


@pytest.mark.django_db
def test_history_days_across_dst_changes(client, user):
    user.timezone = "America/New_York"
    user.save()
    # Spring: 2026-03-08 has 23 hours; this session runs from 01:30 EST to 03:30 EDT.
    over_the_gap = finished(
        user,
        datetime.datetime(2026, 3, 8, 6, 30, tzinfo=UTC),
        datetime.datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
    )
    spring_late = finished(user, new_york(2026, 3, 8, 23, 15), new_york(2026, 3, 8, 23, 45))
    # Autumn: 2026-11-01 has 25 hours; 23:30 EST is 04:30 UTC on Nov 2, still Nov 1.
    autumn_late = finished(user, new_york(2026, 11, 1, 23, 30), new_york(2026, 11, 1, 23, 50))
    autumn_next = finished(user, new_york(2026, 11, 2, 0, 10), new_york(2026, 11, 2, 0, 40))

    assert history_ids(client, datetime.date(2026, 3, 7)) == []
    assert history_ids(client, datetime.date(2026, 3, 8)) == [spring_late.pk, over_the_gap.pk]
    assert history_ids(client, datetime.date(2026, 3, 9)) == []
    assert history_ids(client, datetime.date(2026, 11, 1)) == [autumn_late.pk]
    assert history_ids(client, datetime.date(2026, 11, 2)) == [autumn_next.pk]


@pytest.mark.django_db
def test_history_days_start_at_day_starts_at(client, user):
    user.timezone = "Europe/Berlin"
    user.day_starts_at = datetime.time(4, 0)
    user.save()
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    night = finished(
        user,
        datetime.datetime(2026, 6, 11, 1, 0, tzinfo=berlin),
        datetime.datetime(2026, 6, 11, 2, 0, tzinfo=berlin),
    )
    over_the_start = finished(
        user,
        datetime.datetime(2026, 6, 11, 3, 30, tzinfo=berlin),
        datetime.datetime(2026, 6, 11, 4, 30, tzinfo=berlin),
    )
    morning = finished(
        user,
        datetime.datetime(2026, 6, 11, 9, 0, tzinfo=berlin),
        datetime.datetime(2026, 6, 11, 9, 25, tzinfo=berlin),
    )

    assert history_ids(client, datetime.date(2026, 6, 10)) == [over_the_start.pk, night.pk]
    assert history_ids(client, datetime.date(2026, 6, 11)) == [morning.pk, over_the_start.pk]


@pytest.mark.django_db
def test_history_week_and_month_follow_the_users_calendar(client, user):
    user.timezone = "Australia/Sydney"
    user.week_starts_on = User.Weekday.SUNDAY
    user.save()
    sydney = zoneinfo.ZoneInfo("Australia/Sydney")
    # Sunday 2026-10-04 00:30 local is still Saturday 2026-10-03 in UTC.
    sunday = finished(
        user,
        datetime.datetime(2026, 10, 4, 0, 30, tzinfo=sydney),
        datetime.datetime(2026, 10, 4, 0, 55, tzinfo=sydney),
    )
    saturday = finished(
        user,
        datetime.datetime(2026, 10, 3, 23, 0, tzinfo=sydney),
        datetime.datetime(2026, 10, 3, 23, 25, tzinfo=sydney),
    )

    def ids(period: str, day: str) -> list[int]:
        response = client.get("/api/v1/sessions/", {"period": period, "date": day})
        return [session["id"] for session in response.json()["results"]]

    assert ids("week", "2026-10-10") == [sunday.pk]
    assert ids("week", "2026-10-03") == [saturday.pk]
    assert ids("month", "2026-10-31") == [sunday.pk, saturday.pk]
    assert ids("month", "2026-09-30") == []


# --- today_focus_seconds: time split at the user's day boundaries --------------------


@pytest.mark.django_db
def test_today_focus_seconds_splits_a_session_crossing_the_day_start(client, user):
    user.timezone = "America/New_York"
    user.save()
    task = TaskFactory(user=user)
    crossing = finished(
        user, new_york(2026, 6, 10, 23, 30), new_york(2026, 6, 11, 0, 30), task=task
    )

    def focus_on(day: datetime.date) -> int:
        now = timeframes.day_start(user, day) + 12 * HOUR
        return task_list_with_focus(user=user, tasks=[task], now=now)[0].today_focus_seconds

    assert crossing.closed_running_time == HOUR
    assert focus_on(datetime.date(2026, 6, 10)) == 1800
    assert focus_on(datetime.date(2026, 6, 11)) == 1800
    assert focus_on(datetime.date(2026, 6, 12)) == 0


@pytest.mark.django_db
def test_today_focus_seconds_on_the_api_counts_only_the_current_day(client, user):
    """The day start is put three hours before now, so the session below, which crosses
    it, is in the past whatever the time the test runs."""
    now = datetime.datetime.now(UTC)
    user.timezone = "Asia/Kolkata"
    local_now = now.astimezone(user.zone)
    user.day_starts_at = (local_now - 3 * HOUR).time().replace(second=0, microsecond=0)
    user.save()
    day_start = timeframes.day_start(user, timeframes.today(user))
    task = TaskFactory(user=user)
    finished(
        user,
        day_start - datetime.timedelta(minutes=20),
        day_start + datetime.timedelta(minutes=10),
        task=task,
    )
    # Breaks are not focus time, and other tasks' time is not this task's.
    finished(user, day_start + HOUR, day_start + 2 * HOUR, task=task, kind="short_break")
    other_task = TaskFactory(user=user)
    finished(user, day_start + 2 * HOUR, day_start + 2 * HOUR + HOUR / 2, task=other_task)

    response = client.get(f"/api/v1/tasks/{task.pk}/")

    assert response.status_code == 200
    assert response.json()["today_focus_seconds"] == 600


@pytest.mark.django_db
def test_today_focus_seconds_of_a_running_session_across_the_day_start(user):
    """A running session counts up to now, never past its target, split at the day start."""
    user.timezone = "Australia/Sydney"
    user.day_starts_at = datetime.time(5, 0)
    user.save()
    task = TaskFactory(user=user)
    day = datetime.date(2026, 10, 4)  # Sydney's spring-forward day: 23 hours
    day_start = timeframes.day_start(user, day)
    started_at = day_start - datetime.timedelta(minutes=30)
    running = Session.objects.create(
        user=user,
        task=task,
        kind=Session.Kind.FOCUS,
        state=Session.State.RUNNING,
        planned_seconds=3600,
        started_at=started_at,
        running_since=started_at,
        target_end_at=started_at + HOUR,
    )
    running.segments.create(user=user, started_at=started_at)

    def focus_at(now: datetime.datetime) -> int:
        return task_list_with_focus(user=user, tasks=[task], now=now)[0].today_focus_seconds

    assert focus_at(day_start - datetime.timedelta(minutes=1)) == 29 * 60
    assert focus_at(day_start + datetime.timedelta(minutes=10)) == 10 * 60
    assert focus_at(day_start + 2 * HOUR) == 30 * 60  # it completed at its target
    assert focus_at(timeframes.day_start(user, day + datetime.timedelta(days=1))) == 0


@pytest.mark.django_db
def test_today_focus_seconds_on_a_25_hour_day(user):
    user.timezone = "Europe/Berlin"
    user.save()
    task = TaskFactory(user=user)
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    # The whole of 2026-10-25 in Berlin, 25 hours, in two sessions of 12.5 hours.
    start = datetime.datetime(2026, 10, 25, 0, 0, tzinfo=berlin)
    middle = start.astimezone(UTC) + datetime.timedelta(hours=12, minutes=30)
    end = datetime.datetime(2026, 10, 26, 0, 0, tzinfo=berlin)
    finished(user, start, middle, task=task, kind="stopwatch")
    finished(user, middle, end, task=task)

    [counted] = task_list_with_focus(user=user, tasks=[task], now=middle)

    assert counted.today_focus_seconds == 25 * 3600


# --- Hypothesis: per-day splitting adds up to the whole -------------------------------

# Whole-second segments in a window of a few days, as offsets in seconds from its start.
WINDOW_SECONDS = 4 * 24 * 3600
segment_bounds = st.lists(st.integers(0, WINDOW_SECONDS), min_size=2, max_size=12, unique=True).map(
    sorted
)


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    user_and_day=users_and_days(),
    lead_seconds=st.integers(0, 2 * 24 * 3600),
    bounds=segment_bounds,
    kinds=st.lists(st.sampled_from(["focus", "stopwatch", "short_break"]), min_size=6),
)
def test_focus_split_into_days_adds_up_to_the_total(user_and_day, lead_seconds, bounds, kinds):
    """Random segments over a few days (often across a DST change); the task's focus of
    every day they touch, summed, equals their total focus length, and each day holds at
    most its own length."""
    calendar, near_day = user_and_day
    window_start = timeframes.day_start(calendar, near_day) - datetime.timedelta(
        seconds=lead_seconds
    )
    with transaction.atomic():
        user = UserFactory(timezone=calendar.timezone, day_starts_at=calendar.day_starts_at)
        task = TaskFactory(user=user)
        total = datetime.timedelta(0)
        # Pairs of bounds are segments; every other gap is left empty.
        for index, (lo, hi) in enumerate(zip(bounds[::2], bounds[1::2], strict=False)):
            started_at = window_start + datetime.timedelta(seconds=lo)
            ended_at = window_start + datetime.timedelta(seconds=min(hi, lo + 24 * 3600))
            kind = kinds[index % len(kinds)]
            finished(user, started_at, ended_at, task=task, kind=kind)
            if kind in Session.FOCUS_KINDS:
                total += ended_at - started_at

        first_day = timeframes.local_date(user, window_start)
        last_day = timeframes.local_date(
            user, window_start + datetime.timedelta(seconds=WINDOW_SECONDS)
        )
        per_day = []
        day = first_day
        while day <= last_day:
            now = timeframes.day_start(user, day)  # any instant of the day names the day
            [counted] = task_list_with_focus(user=user, tasks=[task], now=now)
            assert 0 <= counted.today_focus_seconds <= day_length(user, day).total_seconds()
            per_day.append(counted.today_focus_seconds)
            day += datetime.timedelta(days=1)

        assert sum(per_day) == total.total_seconds()
        transaction.set_rollback(True)
