"""GET analytics/report/: time by project, task, tag, day, week or month over a range."""

import csv
import datetime
import io

import pytest

from analytics import reports
from tests.analytics.helpers import API, add_running, add_session, at, hours, set_calendar
from tests.factories import ProjectFactory, TagFactory, TaskFactory

pytestmark = pytest.mark.django_db

URL = API + "analytics/report/"


def report(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()


def test_time_by_task_with_none_under_null(user, client):
    set_calendar(user, zone="Europe/Berlin")
    write = TaskFactory(user=user, title="Write")
    add_session(
        user,
        (at("2026-01-05T09:00", "Europe/Berlin"), at("2026-01-05T10:00", "Europe/Berlin")),
        task=write,
    )
    add_session(
        user, (at("2026-01-05T11:00", "Europe/Berlin"), at("2026-01-05T11:30", "Europe/Berlin"))
    )
    add_session(
        user,
        (at("2026-01-05T12:00", "Europe/Berlin"), at("2026-01-05T12:20", "Europe/Berlin")),
        kind="short_break",
    )

    body = report(client, **{"from": "2026-01-05", "to": "2026-01-05", "group_by": "task"})

    assert body == {
        "from": "2026-01-05",
        "to": "2026-01-05",
        "total_seconds": hours(1.5),
        "groups": [
            {"key": write.pk, "label": "Write", "seconds": hours(1), "sessions": 1},
            {"key": None, "label": "(none)", "seconds": hours(0.5), "sessions": 1},
        ],
    }


def test_a_session_across_midnight_is_split_between_days(user, client):
    set_calendar(user, zone="America/New_York")
    add_session(
        user,
        (at("2026-03-03T23:30", "America/New_York"), at("2026-03-04T00:30", "America/New_York")),
    )

    body = report(client, **{"from": "2026-03-03", "to": "2026-03-04", "group_by": "day"})

    assert body["groups"] == [
        {"key": "2026-03-03", "label": "2026-03-03", "seconds": 1800, "sessions": 1},
        {"key": "2026-03-04", "label": "2026-03-04", "seconds": 1800, "sessions": 1},
    ]
    assert body["total_seconds"] == 3600


def test_the_range_cuts_time_at_its_local_day_bounds(user, client):
    set_calendar(user, zone="Europe/Berlin", day_starts_at="04:00")
    # 03:00 to 05:00 local on the 6th: the first hour is the 5th's (the day starts at 04:00)
    add_session(
        user, (at("2026-01-06T03:00", "Europe/Berlin"), at("2026-01-06T05:00", "Europe/Berlin"))
    )

    body = report(client, **{"from": "2026-01-06", "to": "2026-01-06", "group_by": "day"})

    assert body["total_seconds"] == 3600
    assert body["groups"] == [
        {"key": "2026-01-06", "label": "2026-01-06", "seconds": 3600, "sessions": 1}
    ]


def test_weeks_follow_week_starts_on_and_months_are_calendar_months(user, client):
    set_calendar(user, zone="UTC", week_starts_on=6)  # Sunday
    add_session(user, (at("2026-01-31T10:00"), at("2026-01-31T11:00")))  # a Saturday
    add_session(user, (at("2026-02-01T10:00"), at("2026-02-01T12:00")))  # a Sunday

    weeks = report(client, **{"from": "2026-01-01", "to": "2026-02-28", "group_by": "week"})
    months = report(client, **{"from": "2026-01-01", "to": "2026-02-28", "group_by": "month"})

    assert weeks["groups"] == [
        {"key": "2026-01-25", "label": "week of 2026-01-25", "seconds": 3600, "sessions": 1},
        {"key": "2026-02-01", "label": "week of 2026-02-01", "seconds": 7200, "sessions": 1},
    ]
    assert months["groups"] == [
        {"key": "2026-01-01", "label": "2026-01", "seconds": 3600, "sessions": 1},
        {"key": "2026-02-01", "label": "2026-02", "seconds": 7200, "sessions": 1},
    ]


def test_a_second_key_nests_groups(user, client):
    write = TaskFactory(user=user, title="Write")
    add_session(user, (at("2026-01-05T09:00"), at("2026-01-05T10:00")), task=write)
    add_session(user, (at("2026-01-06T09:00"), at("2026-01-06T09:30")), task=write)
    add_session(user, (at("2026-01-06T10:00"), at("2026-01-06T10:15")))

    body = report(client, **{"from": "2026-01-05", "to": "2026-01-06", "group_by": "task,day"})

    assert body["groups"] == [
        {
            "key": write.pk,
            "label": "Write",
            "seconds": 5400,
            "sessions": 2,
            "groups": [
                {"key": "2026-01-05", "label": "2026-01-05", "seconds": 3600, "sessions": 1},
                {"key": "2026-01-06", "label": "2026-01-06", "seconds": 1800, "sessions": 1},
            ],
        },
        {
            "key": None,
            "label": "(none)",
            "seconds": 900,
            "sessions": 1,
            "groups": [{"key": "2026-01-06", "label": "2026-01-06", "seconds": 900, "sessions": 1}],
        },
    ]


def test_kind_counts_that_kind_only(user, client):
    add_session(user, (at("2026-01-05T09:00"), at("2026-01-05T10:00")))
    add_session(user, (at("2026-01-05T10:00"), at("2026-01-05T10:05")), kind="short_break")
    add_session(user, (at("2026-01-05T11:00"), at("2026-01-05T11:30")), kind="stopwatch")
    params = {"from": "2026-01-05", "to": "2026-01-05", "group_by": "day"}

    assert report(client, **params)["total_seconds"] == 5400
    assert report(client, **params, kind="short_break")["total_seconds"] == 300
    assert report(client, **params, kind="stopwatch")["total_seconds"] == 1800


def test_task_filter_and_deleted_sessions(user, client):
    write, read = TaskFactory(user=user), TaskFactory(user=user)
    add_session(user, (at("2026-01-05T09:00"), at("2026-01-05T10:00")), task=write)
    add_session(user, (at("2026-01-05T10:00"), at("2026-01-05T10:30")), task=read)
    add_session(user, (at("2026-01-05T11:00"), at("2026-01-05T12:00")), task=write, deleted=True)

    body = report(
        client, **{"from": "2026-01-05", "to": "2026-01-05", "group_by": "task", "task": write.pk}
    )

    assert body["total_seconds"] == 3600
    assert [group["key"] for group in body["groups"]] == [write.pk]


def running_report(user, now):
    day = datetime.date(2026, 1, 5)
    return reports.time_report(user=user, first=day, last=day, group_by=["day"], now=now)


def test_a_running_session_counts_up_to_its_target_never_beyond(user):
    add_running(user, at("2026-01-05T11:00"), planned_seconds=1500)  # due at 11:25

    assert running_report(user, at("2026-01-05T11:10")).total_seconds == 600
    assert running_report(user, at("2026-01-05T12:00")).total_seconds == 1500


def test_a_running_stopwatch_counts_up_to_now(user):
    add_running(user, at("2026-01-05T11:00"), planned_seconds=None, kind="stopwatch")

    assert running_report(user, at("2026-01-05T12:00")).total_seconds == 3600


def test_csv_has_a_header_and_flat_rows_for_nested_groups(user, client):
    write = TaskFactory(user=user, title="=SUM(A1)")
    add_session(user, (at("2026-01-05T09:00"), at("2026-01-05T10:00")), task=write)
    add_session(user, (at("2026-01-06T09:00"), at("2026-01-06T09:30")))

    response = client.get(
        URL, {"from": "2026-01-05", "to": "2026-01-06", "group_by": "task,day", "format": "csv"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="report-20260105-20260106.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["task_key", "task_label", "day_key", "day_label", "seconds", "sessions"],
        [str(write.pk), "'=SUM(A1)", "2026-01-05", "2026-01-05", "3600", "1"],
        ["", "(none)", "2026-01-06", "2026-01-06", "1800", "1"],
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-01-05", "to": "2026-01-04", "group_by": "day"}, "to"),
        ({"from": "2025-01-01", "to": "2026-01-03", "group_by": "day"}, "to"),
        ({"from": "2026-01-05", "to": "2026-01-05", "group_by": "colour"}, "group_by"),
        ({"from": "2026-01-05", "to": "2026-01-05", "group_by": "day,day"}, "group_by"),
        ({"from": "2026-01-05", "to": "2026-01-05", "group_by": "day,task,tag"}, "group_by"),
        ({"from": "2026-01-05", "to": "2026-01-05"}, "group_by"),
        ({"from": "2026-01-05", "to": "2026-01-05", "group_by": "day", "kind": "nap"}, "kind"),
    ],
)
def test_bad_parameters_are_400_invalid(client, params, field):
    response = client.get(URL, params)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == [field]


def test_366_days_after_from_is_the_longest_range(client):
    body = report(client, **{"from": "2025-01-01", "to": "2026-01-02", "group_by": "month"})

    assert body == {"from": "2025-01-01", "to": "2026-01-02", "total_seconds": 0, "groups": []}


def test_by_project_and_tag_a_session_with_two_tags_counts_in_both_and_once_in_total(user, client):
    thesis = ProjectFactory(user=user, name="Thesis")
    deep, writing = TagFactory(user=user, name="deep"), TagFactory(user=user, name="Writing")
    add_session(
        user, (at("2026-01-05T09:00"), at("2026-01-05T10:00")), project=thesis, tags=[deep, writing]
    )
    add_session(user, (at("2026-01-05T10:00"), at("2026-01-05T10:30")), project=thesis)
    add_session(user, (at("2026-01-05T11:00"), at("2026-01-05T11:15")), tags=[deep])

    body = report(client, **{"from": "2026-01-05", "to": "2026-01-05", "group_by": "project,tag"})

    assert body == {
        "from": "2026-01-05",
        "to": "2026-01-05",
        "total_seconds": 6300,
        "groups": [
            {
                "key": thesis.pk,
                "label": "Thesis",
                "seconds": 5400,
                "sessions": 2,
                "groups": [
                    {"key": deep.pk, "label": "deep", "seconds": 3600, "sessions": 1},
                    {"key": writing.pk, "label": "Writing", "seconds": 3600, "sessions": 1},
                    {"key": None, "label": "(none)", "seconds": 1800, "sessions": 1},
                ],
            },
            {
                "key": None,
                "label": "(none)",
                "seconds": 900,
                "sessions": 1,
                "groups": [{"key": deep.pk, "label": "deep", "seconds": 900, "sessions": 1}],
            },
        ],
    }
    tags = report(client, **{"from": "2026-01-05", "to": "2026-01-05", "group_by": "tag"})
    assert tags["total_seconds"] == 6300
    assert [(g["key"], g["seconds"], g["sessions"]) for g in tags["groups"]] == [
        (deep.pk, 4500, 2),
        (writing.pk, 3600, 1),
        (None, 1800, 1),
    ]


def test_project_and_tag_filters(user, client):
    thesis, home = ProjectFactory(user=user), ProjectFactory(user=user)
    deep = TagFactory(user=user)
    add_session(user, (at("2026-01-05T09:00"), at("2026-01-05T10:00")), project=thesis, tags=[deep])
    add_session(user, (at("2026-01-05T10:00"), at("2026-01-05T10:30")), project=thesis)
    add_session(user, (at("2026-01-05T11:00"), at("2026-01-05T11:15")), project=home, tags=[deep])
    params = {"from": "2026-01-05", "to": "2026-01-05", "group_by": "day"}

    assert report(client, **params, project=thesis.pk)["total_seconds"] == 5400
    assert report(client, **params, tag=deep.pk)["total_seconds"] == 4500
    assert report(client, **params, project=thesis.pk, tag=deep.pk)["total_seconds"] == 3600


def test_another_users_ids_match_nothing(user, client, other_user):
    theirs = ProjectFactory(user=other_user)
    add_session(other_user, (at("2026-01-05T09:00"), at("2026-01-05T10:00")), project=theirs)
    add_session(user, (at("2026-01-05T09:00"), at("2026-01-05T10:00")))

    body = report(
        client,
        **{"from": "2026-01-05", "to": "2026-01-05", "group_by": "project", "project": theirs.pk},
    )

    assert body["total_seconds"] == 0 and body["groups"] == []


def test_one_statement_a_report(user, client, django_assert_num_queries):
    thesis = ProjectFactory(user=user)
    add_session(
        user,
        (at("2026-01-05T09:00"), at("2026-01-05T10:00")),
        project=thesis,
        tags=[TagFactory(user=user)],
    )

    # authentication aside (the token's user): one statement, labels included
    with django_assert_num_queries(2):
        report(client, **{"from": "2026-01-05", "to": "2026-01-05", "group_by": "project,tag"})


def test_a_long_range_reads_the_same_time(user):
    """Over BY_KEY_MAX_DAYS days the sessions are read the other way; same answer."""
    thesis = ProjectFactory(user=user)
    add_session(user, (at("2026-01-05T09:00"), at("2026-01-05T10:00")), project=thesis)
    add_session(user, (at("2026-01-05T10:00"), at("2026-01-05T10:30")), deleted=True)
    add_session(user, (at("2026-01-05T10:30"), at("2026-01-05T10:45")), kind="short_break")
    add_running(user, at("2026-01-05T11:00"), planned_seconds=1500)
    now = at("2026-01-05T12:00")
    day = datetime.date(2026, 1, 5)
    short, long = (
        reports.time_report(user=user, first=first, last=day, group_by=["project"], now=now)
        for first in (day, day - datetime.timedelta(days=reports.BY_KEY_MAX_DAYS + 1))
    )

    assert short.total_seconds == long.total_seconds == 3600 + 1500
    assert short.groups == long.groups
