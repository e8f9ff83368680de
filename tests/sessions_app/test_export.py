"""Export: GET sessions/export/ streams the history as CSV or JSON, oldest first."""

import csv
import datetime
import io
import json
import warnings
import zoneinfo

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient
from django.utils import timezone

from accounts import timeframes
from accounts.tokens import token_pair_for
from sessions_app.models import Session
from tests.conftest import assert_problem
from tests.factories import FinishedSessionFactory, ProjectFactory, TagFactory, TaskFactory
from tests.sessions_app.timer_helpers import API

pytestmark = pytest.mark.django_db

EXPORT = API + "sessions/export/"
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
HEADER = (
    "id,kind,state,source,name,description,task_id,task_title,project_id,project_name,tags,"
    "started_at_utc,ended_at_utc,started_at_local,ended_at_local,duration_seconds,"
    "planned_seconds\r\n"
)


def utc(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.UTC)


def at(user, start: str, seconds: int = 1500, **fields) -> Session:
    return FinishedSessionFactory(
        user=user, started_at=utc(start), planned_seconds=seconds, **fields
    )


def body(response) -> str:
    assert response.status_code == 200, response.content
    assert response.streaming is True
    return b"".join(response.streaming_content).decode()


def exported_ids(response) -> list[int]:
    rows = list(csv.DictReader(io.StringIO(body(response))))
    return [int(row["id"]) for row in rows]


@pytest.fixture
def in_paris(user):
    user.timezone = "Europe/Paris"
    user.save(update_fields=["timezone"])
    return user


@pytest.fixture
def history(in_paris):
    """A finished session on a task of a project, with two tags, a manual break with
    formula-looking text and tag, and a paused stopwatch in summer time (UTC+2)."""
    project = ProjectFactory(user=in_paris, name="Client, Inc.")
    task = TaskFactory(user=in_paris, project=project, title="Write report")
    deep, admin = (
        TagFactory(user=in_paris, name="Deep work"),
        TagFactory(user=in_paris, name="admin"),
    )
    errands = TagFactory(user=in_paris, name="@errands")
    report = at(
        in_paris,
        "2026-01-05T08:00:00",
        name='Report, "draft"\nline 2',
        description="first pass",
        task=task,
        project=project,
        tag_ids=[deep.pk, admin.pk],
    )
    pause = at(
        in_paris,
        "2026-01-05T09:00:00",
        seconds=300,
        kind=Session.Kind.SHORT_BREAK,
        source=Session.Source.MANUAL,
        name="=SUM(A1:A2)",
        description="-2+3",
        tag_ids=[errands.pk],
    )
    stopwatch = Session.objects.create(
        user=in_paris,
        kind=Session.Kind.STOPWATCH,
        state=Session.State.PAUSED,
        planned_seconds=None,
        name="@home",
        started_at=utc("2026-07-01T06:00:00"),
        closed_running_time=datetime.timedelta(seconds=754, microseconds=900000),
    )
    return report, pause, stopwatch, task


def test_csv_has_a_header_and_one_row_a_session_oldest_first(client, history):
    report, pause, stopwatch, task = history

    response = client.get(EXPORT, {"format": "csv"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert body(response) == (
        HEADER + f'{report.pk},focus,completed,timer,"Report, ""draft""\nline 2",first pass,'
        f'{task.pk},Write report,{task.project_id},"Client, Inc.","admin, Deep work",'
        "2026-01-05T08:00:00Z,2026-01-05T08:25:00Z,"
        "2026-01-05T09:00:00+01:00,2026-01-05T09:25:00+01:00,1500,1500\r\n"
        + f"{pause.pk},short_break,completed,manual,'=SUM(A1:A2),'-2+3,,,,,'@errands,"
        "2026-01-05T09:00:00Z,2026-01-05T09:05:00Z,"
        "2026-01-05T10:00:00+01:00,2026-01-05T10:05:00+01:00,300,300\r\n"
        + f"{stopwatch.pk},stopwatch,paused,timer,'@home,,,,,,,2026-07-01T06:00:00Z,,"
        "2026-07-01T08:00:00+02:00,,754,\r\n"
    )


def test_csv_reads_back_to_the_original_text(client, history):
    rows = list(csv.DictReader(io.StringIO(body(client.get(EXPORT)))))

    assert [row["name"] for row in rows] == ['Report, "draft"\nline 2', "'=SUM(A1:A2)", "'@home"]
    assert [row["project_name"] for row in rows] == ["Client, Inc.", "", ""]
    assert [row["tags"] for row in rows] == ["admin, Deep work", "'@errands", ""]


def test_json_has_the_same_content_with_raw_values(client, history):
    report, pause, stopwatch, task = history

    response = client.get(EXPORT, {"format": "json"})

    assert response["Content-Type"] == "application/json"
    assert response[
        "Content-Disposition"
    ] == 'attachment; filename="sessions-until-{}.json"'.format(
        f"{timeframes.today(report.user):%Y%m%d}"
    )
    common = {
        "description": "",
        "task_id": None,
        "task_title": None,
        "project_id": None,
        "project_name": None,
    }
    assert json.loads(body(response)) == [
        {
            "id": report.pk,
            "kind": "focus",
            "state": "completed",
            "source": "timer",
            "name": 'Report, "draft"\nline 2',
            "description": "first pass",
            "task_id": task.pk,
            "task_title": "Write report",
            "project_id": task.project_id,
            "project_name": "Client, Inc.",
            "tags": "admin, Deep work",
            "started_at_utc": "2026-01-05T08:00:00Z",
            "ended_at_utc": "2026-01-05T08:25:00Z",
            "started_at_local": "2026-01-05T09:00:00+01:00",
            "ended_at_local": "2026-01-05T09:25:00+01:00",
            "duration_seconds": 1500,
            "planned_seconds": 1500,
        },
        {
            **common,
            "id": pause.pk,
            "kind": "short_break",
            "state": "completed",
            "source": "manual",
            "name": "=SUM(A1:A2)",
            "description": "-2+3",
            "tags": "@errands",
            "started_at_utc": "2026-01-05T09:00:00Z",
            "ended_at_utc": "2026-01-05T09:05:00Z",
            "started_at_local": "2026-01-05T10:00:00+01:00",
            "ended_at_local": "2026-01-05T10:05:00+01:00",
            "duration_seconds": 300,
            "planned_seconds": 300,
        },
        {
            **common,
            "id": stopwatch.pk,
            "kind": "stopwatch",
            "state": "paused",
            "source": "timer",
            "name": "@home",
            "tags": "",
            "started_at_utc": "2026-07-01T06:00:00Z",
            "ended_at_utc": None,
            "started_at_local": "2026-07-01T08:00:00+02:00",
            "ended_at_local": None,
            "duration_seconds": 754,
            "planned_seconds": None,
        },
    ]


def test_json_of_no_sessions_is_an_empty_array(client, user):
    assert body(client.get(EXPORT, {"format": "json"})) == "[]"


def test_csv_of_no_sessions_is_the_header(client, user):
    assert body(client.get(EXPORT)) == HEADER


def test_a_running_session_counts_up_to_now_without_pauses(client, user):
    started = timezone.now() - datetime.timedelta(minutes=30)
    running_since = timezone.now() - datetime.timedelta(minutes=2)
    session = Session.objects.create(
        user=user,
        kind=Session.Kind.FOCUS,
        state=Session.State.RUNNING,
        planned_seconds=3000,
        started_at=started,
        running_since=running_since,
        target_end_at=running_since + datetime.timedelta(seconds=2400),
        closed_running_time=datetime.timedelta(minutes=10),
    )
    before = timezone.now()

    response = client.get(EXPORT, {"format": "json"})
    (row,) = json.loads(body(response))

    after = timezone.now()
    assert row["id"] == session.pk
    assert row["state"] == "running"
    assert row["ended_at_utc"] is None
    assert int(600 + (before - running_since).total_seconds()) <= row["duration_seconds"]
    assert row["duration_seconds"] <= int(600 + (after - running_since).total_seconds())


def test_a_running_session_past_its_planned_length_is_exported_completed(client, user):
    started = timezone.now() - datetime.timedelta(minutes=40)
    session = Session.objects.create(
        user=user,
        kind=Session.Kind.FOCUS,
        state=Session.State.RUNNING,
        planned_seconds=1500,
        started_at=started,
        running_since=started,
        target_end_at=started + datetime.timedelta(seconds=1500),
    )
    session.segments.create(user=user, started_at=started)

    (row,) = json.loads(body(client.get(EXPORT, {"format": "json"})))

    assert row["state"] == "completed"
    assert row["duration_seconds"] == 1500
    assert row["ended_at_utc"] == (started + datetime.timedelta(seconds=1500)).isoformat().replace(
        "+00:00", "Z"
    )


def test_deleted_sessions_and_other_users_sessions_are_left_out(client, user, other_user):
    kept = at(user, "2026-02-01T10:00:00")
    at(user, "2026-02-01T11:00:00", deleted_at=timezone.now())
    at(other_user, "2026-02-01T12:00:00")

    assert exported_ids(client.get(EXPORT)) == [kept.pk]


def test_a_deleted_task_still_names_its_sessions_but_a_deleted_project_does_not(client, user):
    project = ProjectFactory(user=user, name="Gone", deleted_at=timezone.now())
    task = TaskFactory(user=user, title="Old task", project=project, deleted_at=timezone.now())
    at(user, "2026-02-01T10:00:00", task=task)

    (row,) = json.loads(body(client.get(EXPORT, {"format": "json"})))

    assert (row["task_id"], row["task_title"], row["project_name"]) == (task.pk, "Old task", None)


def test_dates_are_the_users_days_and_to_is_exclusive(client, in_paris):
    at(in_paris, "2026-03-01T22:30:00")  # 23:30 on 1 March in Paris
    second = at(in_paris, "2026-03-01T23:00:00")  # midnight starting 2 March
    third = at(in_paris, "2026-03-02T22:59:00")  # 23:59 on 2 March
    at(in_paris, "2026-03-02T23:00:00")  # midnight starting 3 March

    response = client.get(EXPORT, {"from": "2026-03-02", "to": "2026-03-03"})

    assert exported_ids(response) == [second.pk, third.pk]
    assert (
        response["Content-Disposition"] == 'attachment; filename="sessions-20260302-20260302.csv"'
    )


def test_a_date_starts_at_the_users_day_start(client, in_paris):
    in_paris.day_starts_at = datetime.time(4, 0)
    in_paris.save(update_fields=["day_starts_at"])
    at(in_paris, "2026-03-02T02:59:00")  # 03:59 in Paris: still 1 March's day
    kept = at(in_paris, "2026-03-02T03:00:00")  # 04:00 in Paris

    response = client.get(EXPORT, {"from": "2026-03-02"})

    assert exported_ids(response) == [kept.pk]


def test_datetimes_with_offsets_bound_the_start_of_sessions(client, user):
    at(user, "2026-03-01T21:00:00")  # overlaps `from` but started before it
    first = at(user, "2026-03-01T22:30:00")
    second = at(user, "2026-03-01T23:59:00")
    at(user, "2026-03-02T00:00:00")

    response = client.get(
        EXPORT, {"from": "2026-03-01T23:30:00+01:00", "to": "2026-03-02T00:00:00Z"}
    )

    assert exported_ids(response) == [first.pk, second.pk]
    assert (
        response["Content-Disposition"] == 'attachment; filename="sessions-20260301-20260301.csv"'
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from": "2026-03-01T10:00:00"}, "from"),  # no offset
        ({"from": "2026-03-02", "to": "2026-03-02"}, "to"),
        ({"from": "2026-03-02T10:00:00Z", "to": "2026-03-02T09:00:00Z"}, "to"),
        ({"format": "xlsx"}, "format"),
    ],
)
def test_bad_parameters_answer_400_invalid(client, user, params, field):
    response = client.get(EXPORT, params)

    problem = assert_problem(response, 400, "invalid")
    assert list(problem["errors"]) == [field]


def test_an_out_of_range_date_answers_400_invalid(client, user):
    user.timezone = "Asia/Tokyo"  # east of UTC even in year 1
    user.save(update_fields=["timezone"])

    problem = assert_problem(client.get(EXPORT, {"from": "0001-01-01"}), 400, "invalid")

    assert problem["errors"] == {"from": ["Give a date from 0002-01-01 to 9998-12-31."]}


def test_without_a_token_answers_401(api_client, user):
    assert_problem(api_client.get(EXPORT), 401, "not_authenticated")
    assert_problem(api_client.get(EXPORT, {"format": "csv"}), 401, "not_authenticated")


def test_a_client_asking_for_text_csv_gets_the_export(client, user):
    kept = at(user, "2026-02-01T10:00:00")

    response = client.get(EXPORT, {"format": "csv"}, HTTP_ACCEPT="text/csv")

    assert exported_ids(response) == [kept.pk]


def bulk_history(user, count: int) -> None:
    start = utc("2023-01-01T08:00:00")
    Session.objects.bulk_create(
        Session(
            user=user,
            kind=Session.Kind.FOCUS,
            state=Session.State.COMPLETED,
            planned_seconds=1500,
            started_at=start + datetime.timedelta(hours=3 * index),
            ended_at=start + datetime.timedelta(hours=3 * index, seconds=1500),
            closed_running_time=datetime.timedelta(seconds=1500),
            task=None,
        )
        for index in range(count)
    )


@pytest.mark.parametrize("count", [3, 1200])
def test_queries_do_not_grow_with_the_history(client, user, count, django_assert_max_num_queries):
    bulk_history(user, count)

    with django_assert_max_num_queries(3):
        response = client.get(EXPORT)
        lines = body(response).splitlines()

    assert len(lines) == 1 + count


def test_the_stream_is_sent_in_chunks(client, user):
    bulk_history(user, 1200)

    chunks = list(client.get(EXPORT).streaming_content)

    assert len(chunks) == 3  # 500 rows each at most, the header in the first
    assert sum(chunk.count(b"\r\n") for chunk in chunks) == 1201


def test_under_asgi_the_stream_is_asynchronous_and_never_read_whole(user):
    bulk_history(user, 1200)
    authorization = {"Authorization": f"Bearer {token_pair_for(user)['access']}"}

    async def export_chunks():
        response = await AsyncClient().get(EXPORT, {"format": "json"}, headers=authorization)
        assert response.status_code == 200
        assert response.is_async is True
        return [chunk async for chunk in response.streaming_content]

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Django warns when it would buffer a sync stream
        chunks = async_to_sync(export_chunks)()

    rows = json.loads(b"".join(chunks))
    assert len(chunks) == 3
    assert len(rows) == 1200
    assert rows[0]["started_at_utc"] == "2023-01-01T08:00:00Z"


def test_the_export_names_the_sessions_own_project_unless_deleted(client, user):
    shown = ProjectFactory(user=user, name="Shown")
    gone = ProjectFactory(user=user, name="Gone", deleted_at=timezone.now())
    task = TaskFactory(user=user, project=ProjectFactory(user=user, name="The task's"))
    own = at(user, "2026-01-05T08:00:00", task=task, project=shown)
    at(user, "2026-01-05T09:00:00", project=gone)

    rows = list(csv.DictReader(io.StringIO(body(client.get(EXPORT)))))

    assert [(row["project_id"], row["project_name"]) for row in rows] == [
        (str(shown.pk), "Shown"),
        (str(gone.pk), ""),
    ]
    assert rows[0]["id"] == str(own.pk)
