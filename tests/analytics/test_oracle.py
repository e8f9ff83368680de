"""An independent oracle: for random sessions in random calendars, the API's daily,
weekly, monthly and heatmap figures equal a brute-force walk over the raw segments,
minute by minute (every time here is a whole UTC minute, and so is every day and hour
boundary of these zones, so a minute never straddles one).

The oracle does not use accounts.timeframes: it finds days from the contract's words
(day D starts at D `day_starts_at` local time, the first one when a wall time repeats
or the one before a skipped hour, i.e. zoneinfo's fold=0)."""

import bisect
import datetime
import zoneinfo
from collections import Counter

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from analytics.reports import BY_KEY_MAX_DAYS
from tests.analytics.helpers import API, add_session
from tests.factories import ProjectFactory, TagFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
MINUTE = datetime.timedelta(minutes=1)
ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "UTC",
]
# DST changes of 2025 in the zones above, and month and year ends.
ANCHORS = [
    datetime.datetime.fromisoformat(text)
    for text in [
        "2025-03-30T01:00:00+00:00",
        "2025-10-26T01:00:00+00:00",
        "2025-03-09T07:00:00+00:00",
        "2025-11-02T06:00:00+00:00",
        "2025-04-05T16:00:00+00:00",
        "2025-10-04T16:00:00+00:00",
        "2025-04-05T14:00:00+00:00",
        "2025-09-27T14:00:00+00:00",
        "2025-12-31T23:00:00+00:00",
        "2025-02-28T12:00:00+00:00",
    ]
]
FOCUS_KINDS = ("focus", "stopwatch")

segment_minutes = st.integers(min_value=1, max_value=300)
session_shape = st.tuples(
    st.integers(min_value=0, max_value=720),  # minutes since the previous session
    st.sampled_from(["focus", "stopwatch", "short_break"]),
    st.lists(
        st.tuples(segment_minutes, st.integers(min_value=1, max_value=240)),  # (run, pause after)
        min_size=1,
        max_size=3,
    ),
)
calendar = st.tuples(
    st.sampled_from(ZONES),
    st.builds(
        datetime.time,
        st.integers(min_value=0, max_value=23),
        st.sampled_from([0, 15, 30, 45]),
    ),
    st.integers(min_value=0, max_value=6),
)


def laid_out(at: datetime.datetime, shapes) -> list[tuple[str, list]]:
    """(kind, [(start, end), ...]) of each session shape, one after another from `at`."""
    sessions = []
    for gap, kind, runs in shapes:
        at += datetime.timedelta(minutes=gap)
        segments = []
        for run, pause in runs:
            segments.append((at, at + datetime.timedelta(minutes=run)))
            at += datetime.timedelta(minutes=run + pause)
        sessions.append((kind, segments))
    return sessions


def day_of(minute, starts: list[datetime.datetime], first: datetime.date) -> datetime.date:
    return first + datetime.timedelta(days=bisect.bisect_right(starts, minute) - 1)


def oracle(sessions, zone_name, day_starts_at):
    """Focus and break minutes by user day, and focus by local (weekday, hour)."""
    zone = zoneinfo.ZoneInfo(zone_name)
    lo = min(start for _, segments in sessions for start, _ in segments)
    first = lo.astimezone(zone).date() - datetime.timedelta(days=3)
    starts = [
        datetime.datetime.combine(
            first + datetime.timedelta(days=n), day_starts_at, zone
        ).astimezone(UTC)
        for n in range(120)
    ]
    focus, breaks, heat_by_day = Counter(), Counter(), Counter()
    for kind, segments in sessions:
        for start, end in segments:
            minute = start
            while minute < end:
                day = day_of(minute, starts, first)
                if kind in FOCUS_KINDS:
                    focus[day] += 60
                    local = minute.astimezone(zone)
                    heat_by_day[(day, local.weekday(), local.hour)] += 60
                else:
                    breaks[day] += 60
                minute += MINUTE
    return focus, breaks, heat_by_day


def week_first(day: datetime.date, week_starts_on: int) -> datetime.date:
    return day - datetime.timedelta(days=(day.weekday() - week_starts_on) % 7)


def month_days(first: datetime.date) -> list[datetime.date]:
    days = []
    day = first
    while day.month == first.month:
        days.append(day)
        day += datetime.timedelta(days=1)
    return days


def oracle_settings(max_examples: int):
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# A user's calendar and a history of sessions near a DST change or a month's end.
HISTORY = {
    "calendar": calendar,
    "anchor": st.sampled_from(ANCHORS),
    "lead": st.integers(min_value=0, max_value=36 * 60),
}


@oracle_settings(60)
@given(**HISTORY, shapes=st.lists(session_shape, min_size=1, max_size=6))
def test_figures_equal_a_brute_force_recomputation(db, calendar, anchor, lead, shapes):
    zone_name, day_starts_at, week_starts_on = calendar
    sessions = build_sessions(anchor, lead, shapes)

    with transaction.atomic():
        user = UserFactory(
            timezone=zone_name, day_starts_at=day_starts_at, week_starts_on=week_starts_on
        )
        for kind, segments in sessions:
            add_session(user, *segments, kind=kind)
        client = APIClient()
        client.force_authenticate(user)
        assert_reports_equal_the_oracle(client, sessions, calendar)
        transaction.set_rollback(True)


def assert_reports_equal_the_oracle(client, sessions, calendar) -> None:
    """Every daily, weekly and monthly summary and the heatmap over the sessions' days
    equal the brute-force walk over `sessions` [(kind, [(start, end), ...])]."""
    zone_name, day_starts_at, week_starts_on = calendar
    focus, breaks, heat_by_day = oracle(sessions, zone_name, day_starts_at)

    def get(path, **params):
        response = client.get(API + path, params)
        assert response.status_code == 200, response.content
        return response.json()

    days = sorted(set(focus) | set(breaks))
    for month in sorted({day.replace(day=1) for day in days}):
        body = get("analytics/summary/", period="month", date=month.isoformat())
        expected = [
            {"date": day.isoformat(), "focus_seconds": focus[day]} for day in month_days(month)
        ]
        assert body["by_day"] == expected
        assert body["focus_seconds"] == sum(focus[day] for day in month_days(month))
        assert body["break_seconds"] == sum(breaks[day] for day in month_days(month))
        previous = (month - datetime.timedelta(days=1)).replace(day=1)
        assert body["previous_focus_seconds"] == sum(focus[day] for day in month_days(previous))
    for week in sorted({week_first(day, week_starts_on) for day in days}):
        body = get("analytics/summary/", period="week", date=week.isoformat())
        week_days = [week + datetime.timedelta(days=n) for n in range(7)]
        assert body["by_day"] == [
            {"date": day.isoformat(), "focus_seconds": focus[day]} for day in week_days
        ]
        assert body["previous_focus_seconds"] == sum(
            focus[day - datetime.timedelta(days=7)] for day in week_days
        )
    for day in days:
        body = get("analytics/summary/", period="day", date=day.isoformat())
        assert (body["focus_seconds"], body["break_seconds"]) == (focus[day], breaks[day])

    first, last = days[0], days[-1]
    if last > first:
        first += datetime.timedelta(days=1)  # a range that cuts some time off
    cells = [[0] * 24 for _ in range(7)]
    for (day, weekday, hour), time in heat_by_day.items():
        if first <= day <= last:
            cells[weekday][hour] += time
    body = get("analytics/heatmap/", **{"from": first.isoformat(), "to": last.isoformat()})
    assert body == {"cells": cells}


def build_sessions(anchor, lead, shapes):
    """[(kind, [(start, end), ...])] from hypothesis' shapes, one after another."""
    return laid_out(anchor - datetime.timedelta(minutes=lead), shapes)


# A correction: which session, the new start relative to its current one (minutes), and
# the new length (minutes; some around 24 hours, on either side of the rule).
correction = st.tuples(
    st.integers(min_value=0, max_value=5),
    st.integers(min_value=-300, max_value=300),
    st.one_of(
        st.integers(min_value=1, max_value=600),
        st.integers(min_value=24 * 60 - 1, max_value=24 * 60 + 1),
    ),
)


def overlaps(span, others) -> bool:
    start, end = span
    return any(
        other_start < end and start < other_end
        for segments in others
        for other_start, other_end in segments
    )


@oracle_settings(40)
@given(
    **HISTORY,
    shapes=st.lists(session_shape, min_size=1, max_size=5),
    corrections=st.lists(correction, min_size=1, max_size=6),
)
def test_reports_equal_the_oracle_after_any_sequence_of_corrections(
    db, calendar, anchor, lead, shapes, corrections
):
    """PATCH started_at/ended_at replaces a session's running time by one span, unless it
    overlaps another session or lasts over 24 hours (refused, nothing changed): after
    every correction, every report equals the oracle over the sessions as corrected."""
    zone_name, day_starts_at, week_starts_on = calendar
    sessions = build_sessions(anchor, lead, shapes)
    with transaction.atomic():
        user = UserFactory(
            timezone=zone_name, day_starts_at=day_starts_at, week_starts_on=week_starts_on
        )
        stored = [add_session(user, *segments, kind=kind) for kind, segments in sessions]
        client = APIClient()
        client.force_authenticate(user)
        for index, shift, length in corrections:
            index %= len(sessions)
            kind, segments = sessions[index]
            start = segments[0][0] + datetime.timedelta(minutes=shift)
            span = (start, start + datetime.timedelta(minutes=length))
            others = [other for n, (_, other) in enumerate(sessions) if n != index]

            response = client.patch(
                f"{API}sessions/{stored[index].pk}/",
                {"started_at": span[0].isoformat(), "ended_at": span[1].isoformat()},
                format="json",
            )

            if length > 24 * 60:
                assert response.status_code == 400, response.content
            elif overlaps(span, others):
                assert response.status_code == 409, response.content
            else:
                assert response.status_code == 200, response.content
                planned = stored[index].planned_seconds
                reached = kind == "stopwatch" or length * 60 >= planned
                assert response.json()["state"] == ("completed" if reached else "interrupted")
                sessions[index] = (kind, [span])
            assert_reports_equal_the_oracle(client, sessions, calendar)
        transaction.set_rollback(True)


# --- Reports -------------------------------------------------------------------------

REPORT_KEYS = ("project", "task", "tag", "day", "week", "month")
report_session = st.tuples(
    session_shape,
    st.sampled_from([None, 0, 1]),  # project
    st.sampled_from([None, 0, 1]),  # task
    st.sets(st.sampled_from([0, 1, 2]), max_size=3),  # tags
)


def report_oracle(sessions, group_by, first, last, zone_name, day_starts_at, week_starts_on):
    """{outer key: [seconds, {session}, {inner key: [seconds, {session}]}]} and the total,
    walking each session's focus minutes."""
    zone = zoneinfo.ZoneInfo(zone_name)
    origin = first - datetime.timedelta(days=3)
    starts = [
        datetime.datetime.combine(
            origin + datetime.timedelta(days=n), day_starts_at, zone
        ).astimezone(UTC)
        for n in range(500)
    ]

    def keys(key, day, attributes):
        if key == "day":
            return [day.isoformat()]
        if key == "week":
            return [week_first(day, week_starts_on).isoformat()]
        if key == "month":
            return [day.replace(day=1).isoformat()]
        if key == "tag":
            return sorted(attributes["tag"]) or [None]
        return [attributes[key]]

    groups, total = {}, 0
    for number, (kind, segments, attributes) in enumerate(sessions):
        if kind not in FOCUS_KINDS:
            continue
        for start, end in segments:
            minute = start
            while minute < end:
                day = day_of(minute, starts, origin)
                minute += MINUTE
                if not first <= day <= last:
                    continue
                total += 60
                for outer in keys(group_by[0], day, attributes):
                    group = groups.setdefault(outer, [0, set(), {}])
                    group[0] += 60
                    group[1].add(number)
                    for inner in keys(group_by[1], day, attributes) if len(group_by) > 1 else []:
                        nested = group[2].setdefault(inner, [0, set()])
                        nested[0] += 60
                        nested[1].add(number)
    return groups, total


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    calendar=calendar,
    anchor=st.sampled_from(ANCHORS),
    lead=st.integers(min_value=0, max_value=36 * 60),
    shapes=st.lists(report_session, min_size=1, max_size=6),
    group_by=st.lists(st.sampled_from(REPORT_KEYS), min_size=1, max_size=2, unique=True),
    cut=st.integers(min_value=0, max_value=1),
    # a range longer than BY_KEY_MAX_DAYS reads the sessions the other way
    wide=st.booleans(),
)
def test_reports_equal_a_brute_force_recomputation(
    db, calendar, anchor, lead, shapes, group_by, cut, wide
):
    zone_name, day_starts_at, week_starts_on = calendar
    laid = laid_out(anchor - datetime.timedelta(minutes=lead), [shape for shape, *_ in shapes])
    sessions = [
        (kind, segments, {"project": project, "task": task, "tag": tags})
        for (kind, segments), (_shape, project, task, tags) in zip(laid, shapes, strict=True)
    ]

    with transaction.atomic():
        user = UserFactory(
            timezone=zone_name, day_starts_at=day_starts_at, week_starts_on=week_starts_on
        )
        projects = [ProjectFactory(user=user, name=f"P{n}") for n in range(2)]
        tasks = [TaskFactory(user=user, title=f"T{n}", project=None) for n in range(2)]
        tag_rows = [TagFactory(user=user, name=f"g{n}") for n in range(3)]
        ids = {"project": projects, "task": tasks, "tag": tag_rows}
        stored = []
        for kind, segments, attributes in sessions:
            add_session(
                user,
                *segments,
                kind=kind,
                project=None if attributes["project"] is None else projects[attributes["project"]],
                task=None if attributes["task"] is None else tasks[attributes["task"]],
                tags=[tag_rows[n] for n in attributes["tag"]],
            )
            stored.append(
                (
                    kind,
                    segments,
                    {
                        key: None if attributes[key] is None else ids[key][attributes[key]].pk
                        for key in ("project", "task")
                    }
                    | {"tag": {tag_rows[n].pk for n in attributes["tag"]}},
                )
            )
        zone = zoneinfo.ZoneInfo(zone_name)
        first_start = min(start for _, segments, _ in sessions for start, _ in segments)
        last_end = max(end for _, segments, _ in sessions for _, end in segments)
        first = (
            first_start.astimezone(zone).date()
            - datetime.timedelta(days=1)
            + datetime.timedelta(days=cut)
        )
        last = last_end.astimezone(zone).date() + datetime.timedelta(days=1)
        if wide:
            first -= datetime.timedelta(days=BY_KEY_MAX_DAYS)
        expected, total = report_oracle(
            stored, group_by, first, last, zone_name, day_starts_at, week_starts_on
        )

        client = APIClient()
        client.force_authenticate(user)
        response = client.get(
            API + "analytics/report/",
            {"from": first.isoformat(), "to": last.isoformat(), "group_by": ",".join(group_by)},
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["total_seconds"] == total
        got = {
            group["key"]: [
                group["seconds"],
                group["sessions"],
                {
                    inner["key"]: [inner["seconds"], inner["sessions"]]
                    for inner in group.get("groups", [])
                },
            ]
            for group in body["groups"]
        }
        assert got == {
            key: [seconds, len(numbers), {k: [s, len(n)] for k, (s, n) in nested.items()}]
            for key, (seconds, numbers, nested) in expected.items()
        }
        assert ("groups" in body["groups"][0]) == (len(group_by) == 2) if body["groups"] else True
        transaction.set_rollback(True)
