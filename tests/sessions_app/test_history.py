"""History: GET sessions/ with period, range and field filters, newest first, paginated."""

import datetime
import zoneinfo

import pytest
from django.utils import timezone

from tests.conftest import assert_problem
from tests.factories import FinishedSessionFactory, ProjectFactory, TagFactory, TaskFactory
from tests.sessions_app.timer_helpers import API, iso, put_day_boundary_far_from_now

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
MINUTE = datetime.timedelta(minutes=1)


def utc(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC)


def paris(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=PARIS)


def at(user, start: datetime.datetime, minutes: int = 25, **fields):
    return FinishedSessionFactory(
        user=user, started_at=start, planned_seconds=minutes * 60, **fields
    )


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [session["id"] for session in response.json()["results"]]


@pytest.fixture
def in_paris(user):
    user.timezone = "Europe/Paris"
    user.save(update_fields=["timezone"])
    return user


def test_history_is_newest_first(client, user):
    now = timezone.now()
    middle = at(user, now - 3 * 60 * MINUTE)
    oldest = at(user, now - 5 * 60 * MINUTE)
    newest = at(user, now - 60 * MINUTE)

    response = client.get(API + "sessions/")

    assert ids(response) == [newest.pk, middle.pk, oldest.pk]
    assert response.json()["next"] is None
    assert response.json()["previous"] is None
    first = response.json()["results"][0]
    assert first == {
        "id": newest.pk,
        "kind": "focus",
        "state": "completed",
        "name": "",
        "description": "",
        "task": None,
        "planned_seconds": 1500,
        "elapsed_seconds": 1500,
        "remaining_seconds": 0,
        "started_at": iso(newest.started_at),
        "ended_at": iso(newest.ended_at),
        "target_end_at": None,
        "version": 1,
        "source": "timer",
        "project": None,
        "tags": [],
        "server_time": first["server_time"],
    }


def test_history_leaves_out_deleted_and_other_users_sessions(client, user, other_user):
    now = timezone.now()
    kept = at(user, now - 60 * MINUTE)
    at(user, now - 120 * MINUTE, deleted_at=now)
    at(other_user, now - 60 * MINUTE)

    assert ids(client.get(API + "sessions/")) == [kept.pk]


def test_history_filters_by_task_kind_and_state(client, user):
    task = TaskFactory(user=user)
    now = timezone.now()
    with_task = at(user, now - 60 * MINUTE, task=task)
    short_break = at(user, now - 120 * MINUTE, kind="short_break", task=task)
    interrupted = at(user, now - 180 * MINUTE, state="interrupted")

    assert ids(client.get(API + "sessions/", {"task": task.pk})) == [with_task.pk, short_break.pk]
    assert ids(client.get(API + "sessions/", {"kind": "short_break"})) == [short_break.pk]
    assert ids(client.get(API + "sessions/", {"state": "interrupted"})) == [interrupted.pk]
    assert ids(client.get(API + "sessions/", {"task": task.pk, "kind": "focus"})) == [with_task.pk]


def test_history_filters_by_project_tag_and_source(client, user, other_user):
    project, tag, other_tag = (
        ProjectFactory(user=user),
        TagFactory(user=user),
        TagFactory(user=user),
    )
    now = timezone.now()
    in_project = at(user, now - 60 * MINUTE, project=project, tag_ids=[other_tag.pk])
    tagged = at(user, now - 120 * MINUTE, tag_ids=[tag.pk, other_tag.pk])
    manual = at(user, now - 180 * MINUTE, project=project, tag_ids=[tag.pk], source="manual")
    at(other_user, now - 60 * MINUTE, tag_ids=[tag.pk])

    assert ids(client.get(API + "sessions/", {"project": project.pk})) == [
        in_project.pk,
        manual.pk,
    ]
    assert ids(client.get(API + "sessions/", {"tag": tag.pk})) == [tagged.pk, manual.pk]
    assert ids(client.get(API + "sessions/", {"tag": other_tag.pk})) == [in_project.pk, tagged.pk]
    assert ids(client.get(API + "sessions/", {"source": "manual"})) == [manual.pk]
    assert ids(client.get(API + "sessions/", {"source": "timer"})) == [in_project.pk, tagged.pk]
    both = {"project": project.pk, "tag": tag.pk}
    assert ids(client.get(API + "sessions/", both)) == [manual.pk]
    assert ids(client.get(API + "sessions/", {"project": 987654})) == []


def test_q_finds_text_in_name_description_or_task_title_ignoring_case(client, user, other_user):
    now = timezone.now()
    by_name = at(user, now - 60 * MINUTE, name="Quarterly REPORT")
    by_description = at(user, now - 120 * MINUTE, description="the report, 100% done")
    by_task = at(user, now - 180 * MINUTE, task=TaskFactory(user=user, title="Reports"))
    at(user, now - 240 * MINUTE, name="Rep ort")
    at(other_user, now - 60 * MINUTE, name="report")
    at(other_user, now - 60 * MINUTE, task=TaskFactory(user=other_user, title="report"))

    expected = [by_name.pk, by_description.pk, by_task.pk]
    assert ids(client.get(API + "sessions/", {"q": "report"})) == expected
    assert ids(client.get(API + "sessions/", {"q": "rEpOrT"})) == expected
    assert ids(client.get(API + "sessions/", {"q": "100%"})) == [by_description.pk]
    assert ids(client.get(API + "sessions/", {"q": "_"})) == []
    assert ids(client.get(API + "sessions/", {"q": "report", "source": "timer"})) == expected


def test_history_filters_by_state_running(client, user):
    at(user, timezone.now() - 60 * MINUTE)
    running = client.post(API + "sessions/", {}, format="json").json()

    assert ids(client.get(API + "sessions/", {"state": "running"})) == [running["id"]]


def test_period_day_is_the_users_local_day(client, in_paris):
    user = in_paris
    # 10 March 2025 in Paris (UTC+1) is [2025-03-09T23:00Z, 2025-03-10T23:00Z).
    across_midnight = at(user, utc("2025-03-09T22:50"), minutes=20)
    midday = at(user, utc("2025-03-10T11:00"))
    at(user, utc("2025-03-09T22:00"), minutes=20)  # the day before
    at(user, utc("2025-03-10T23:00"))  # the day after

    response = client.get(API + "sessions/", {"period": "day", "date": "2025-03-10"})

    assert ids(response) == [midday.pk, across_midnight.pk]


def test_period_day_follows_day_starts_at(client, in_paris):
    user = in_paris
    user.day_starts_at = datetime.time(4, 0)
    user.save(update_fields=["day_starts_at"])
    late_night = at(user, paris("2025-03-11T02:00"))
    at(user, paris("2025-03-10T03:00"))  # still 9 March for this user

    response = client.get(API + "sessions/", {"period": "day", "date": "2025-03-10"})

    assert ids(response) == [late_night.pk]


def test_period_day_on_the_day_clocks_go_forward(client, in_paris):
    user = in_paris
    # 30 March 2025 in Paris has 23 hours: [2025-03-29T23:00Z, 2025-03-30T22:00Z).
    last_hour = at(user, utc("2025-03-30T21:30"))
    at(user, utc("2025-03-30T22:00"))  # 31 March 00:00 in Paris

    response = client.get(API + "sessions/", {"period": "day", "date": "2025-03-30"})

    assert ids(response) == [last_hour.pk]


def test_period_week_starts_on_the_users_week_start(client, in_paris):
    user = in_paris
    user.week_starts_on = 6  # Sunday
    user.save(update_fields=["week_starts_on"])
    sunday = at(user, paris("2025-03-09T10:00"))
    saturday = at(user, paris("2025-03-15T23:00"))
    at(user, paris("2025-03-08T23:00"))  # the Saturday before
    at(user, paris("2025-03-16T00:30"))  # the next Sunday

    response = client.get(API + "sessions/", {"period": "week", "date": "2025-03-12"})

    assert ids(response) == [saturday.pk, sunday.pk]


def test_period_month_is_the_calendar_month(client, in_paris):
    user = in_paris
    first = at(user, paris("2025-03-01T00:30"))
    last = at(user, paris("2025-03-31T23:30"))
    at(user, paris("2025-02-28T23:30"))
    at(user, paris("2025-04-01T00:30"))

    response = client.get(API + "sessions/", {"period": "month", "date": "2025-03-17"})

    assert ids(response) == [last.pk, first.pk]


def test_period_without_date_is_the_current_one(client, user):
    day_start = put_day_boundary_far_from_now(user)
    today = at(user, day_start + 60 * MINUTE)
    at(user, day_start - 60 * MINUTE)

    response = client.get(API + "sessions/", {"period": "day"})

    assert ids(response) == [today.pk]


def test_from_to_keeps_the_sessions_that_overlap_the_range(client, user):
    starts_before = at(user, utc("2025-03-10T08:50"), minutes=20)
    inside = at(user, utc("2025-03-10T10:00"))
    at(user, utc("2025-03-10T08:00"), minutes=60)  # ends as the range starts
    at(user, utc("2025-03-10T12:00"))  # starts as the range ends

    response = client.get(
        API + "sessions/", {"from": "2025-03-10T09:00:00Z", "to": "2025-03-10T12:00:00Z"}
    )

    assert ids(response) == [inside.pk, starts_before.pk]


def test_from_alone_and_to_alone(client, user):
    early = at(user, utc("2025-03-10T08:00"))
    late = at(user, utc("2025-03-10T12:00"))

    assert ids(client.get(API + "sessions/", {"from": "2025-03-10T11:00:00+01:00"})) == [late.pk]
    assert ids(client.get(API + "sessions/", {"to": "2025-03-10T11:00:00Z"})) == [early.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"period": "day", "from": "2025-03-10T00:00:00Z"}, "period"),
        ({"period": "week", "to": "2025-03-10T00:00:00Z"}, "period"),
        ({"date": "2025-03-10"}, "date"),
        ({"from": "2025-03-10T10:00:00Z", "to": "2025-03-10T10:00:00Z"}, "to"),
        ({"from": "2025-03-10T11:00:00Z", "to": "2025-03-10T10:00:00Z"}, "to"),
        ({"period": "year"}, "period"),
        ({"period": "day", "date": "10/03/2025"}, "date"),
        ({"from": "yesterday"}, "from"),
        ({"kind": "nap"}, "kind"),
        ({"state": "done"}, "state"),
        ({"task": "reading"}, "task"),
        ({"project": "0"}, "project"),
        ({"tag": "x"}, "tag"),
        ({"tag": str(2**63)}, "tag"),
        ({"source": "import"}, "source"),
        ({"q": "x" * 201}, "q"),
        ({"q": ""}, "q"),
    ],
)
def test_invalid_filters_are_refused(client, query, field):
    response = client.get(API + "sessions/", query)

    body = assert_problem(response, 400, "invalid")
    assert list(body["errors"]) == [field]


def test_following_next_walks_the_whole_history(client, user):
    now = timezone.now()
    sessions = [at(user, now - (index + 1) * 60 * MINUTE) for index in range(5)]

    seen = []
    response = client.get(API + "sessions/", {"page_size": 2})
    pages = 1
    seen += ids(response)
    while response.json()["next"]:
        response = client.get(response.json()["next"])
        seen += ids(response)
        pages += 1

    assert seen == [session.pk for session in sessions]
    assert pages == 3
    assert response.json()["previous"] is not None


def test_pages_keep_sessions_that_start_at_the_same_instant(client, user):
    start = timezone.now() - 60 * MINUTE
    sessions = [at(user, start) for _ in range(3)]

    first = client.get(API + "sessions/", {"page_size": 2})
    second = client.get(first.json()["next"])

    assert ids(first) + ids(second) == [session.pk for session in reversed(sessions)]


def test_pages_filtered_by_period_keep_the_filter(client, in_paris):
    user = in_paris
    in_day = [at(user, utc(f"2025-03-10T{hour:02}:00")) for hour in (9, 10, 11)]
    at(user, utc("2025-03-11T09:00"))

    first = client.get(API + "sessions/", {"period": "day", "date": "2025-03-10", "page_size": 2})
    second = client.get(first.json()["next"])

    assert ids(first) + ids(second) == [session.pk for session in reversed(in_day)]
    assert second.json()["next"] is None


@pytest.mark.parametrize("count", [5, 50])
def test_history_costs_the_same_queries_whatever_the_page_size(
    client, user, count, django_assert_max_num_queries
):
    task = TaskFactory(user=user)
    now = timezone.now()
    for index in range(count):
        at(user, now - (index + 1) * 30 * MINUTE, minutes=20, task=task)

    with django_assert_max_num_queries(3):
        response = client.get(API + "sessions/", {"page_size": 50})

    assert len(ids(response)) == count


@pytest.mark.parametrize("count", [5, 50])
def test_filtered_pages_with_tags_cost_the_same_queries(
    client, user, count, django_assert_num_queries
):
    """Tags and project come with the session row: none is read per session. `q` adds
    one query (the tasks whose title matches)."""
    project = ProjectFactory(user=user)
    tags = [TagFactory(user=user).pk for _ in range(3)]
    task = TaskFactory(user=user, project=project, title="Write the report")
    now = timezone.now()
    for index in range(count):
        at(user, now - (index + 1) * 30 * MINUTE, task=task, project=project, tag_ids=tags)
    queries = {"project": project.pk, "tag": tags[1], "source": "timer", "page_size": 50}

    with django_assert_num_queries(2):
        plain = client.get(API + "sessions/", queries)
    with django_assert_num_queries(3):
        searched = client.get(API + "sessions/", {**queries, "q": "report"})

    assert len(ids(plain)) == len(ids(searched)) == count
    assert plain.json()["results"][0]["tags"] == sorted(tags)
