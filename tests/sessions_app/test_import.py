"""POST sessions/import/: this API's CSV export and Toggl Track's detailed report."""

import csv
import datetime
import io
import pathlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from events.models import Event
from sessions_app.models import Project, Session, SessionSegment, Tag, Task
from tests.analytics.helpers import add_session, at, set_calendar
from tests.conftest import assert_problem, client_for
from tests.factories import ProjectFactory, TagFactory, TaskFactory, UserFactory
from tests.threads import run_in_threads

pytestmark = pytest.mark.django_db

URL = "/api/v1/sessions/import/"
FIXTURES = pathlib.Path(__file__).parent / "fixtures"
TOGGL_HEADER = (
    "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,"
    "End date,End time,Duration,Tags"
)
EXPORT_HEADER = (
    "id,kind,state,source,name,description,task_id,task_title,project_name,started_at_utc,"
    "ended_at_utc,started_at_local,ended_at_local,duration_seconds,planned_seconds"
)
UTC = datetime.UTC


def import_url(query: dict) -> str:
    return URL + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def post_csv(client, text: str | bytes, HTTP_IDEMPOTENCY_KEY=None, **query):
    data = text.encode() if isinstance(text, str) else text
    headers = {"HTTP_IDEMPOTENCY_KEY": HTTP_IDEMPOTENCY_KEY} if HTTP_IDEMPOTENCY_KEY else {}
    return client.generic("POST", import_url(query), data, content_type="text/csv", **headers)


def post_file(client, data: bytes, HTTP_IDEMPOTENCY_KEY=None, **query):
    headers = {"HTTP_IDEMPOTENCY_KEY": HTTP_IDEMPOTENCY_KEY} if HTTP_IDEMPOTENCY_KEY else {}
    upload = {"file": SimpleUploadedFile("export.csv", data)}
    return client.post(import_url(query), upload, format="multipart", **headers)


def utc(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


def state_of(user) -> dict:
    """Everything an import could write for the user."""
    return {
        "sessions": list(Session.objects.filter(user=user).values_list("pk", "version")),
        "segments": SessionSegment.objects.filter(user=user).count(),
        "projects": list(Project.objects.filter(user=user).values_list("pk", "name")),
        "tasks": list(Task.objects.filter(user=user).values_list("pk", "title")),
        "tags": list(Tag.objects.filter(user=user).values_list("pk", "name")),
        "events": Event.objects.filter(user=user).count(),
    }


def test_a_toggl_track_detailed_report_is_imported(user):
    set_calendar(user, zone="Europe/Berlin")
    deep = TagFactory(user=user, name="DEEP")  # found ignoring case
    client = client_for(user)
    data = (FIXTURES / "toggl_detailed_report.csv").read_bytes()

    response = post_file(client, data)

    assert response.status_code == 200, response.content
    assert response.json() == {"imported": 5, "skipped": []}
    sessions = list(Session.objects.filter(user=user).order_by("started_at"))
    assert [(s.started_at, s.ended_at, s.name) for s in sessions] == [
        # 01:30 CET to 03:30 CEST: the skipped hour makes it one hour
        (utc("2025-03-30T00:30"), utc("2025-03-30T01:30"), "Lecture"),
        # 02:30 CEST to 02:15 CET, the repeated hour: 45 minutes, as its Duration says
        (utc("2025-10-26T00:30"), utc("2025-10-26T01:15"), "Rédaction, brouillon"),
        (utc("2025-10-27T08:00"), utc("2025-10-27T09:30"), "会議"),
        (utc("2025-10-28T21:30"), utc("2025-10-28T23:15"), "Late reading"),
        (utc("2025-10-30T07:00"), utc("2025-10-30T07:25"), 'Say "hi" to 👋'),
    ]
    assert {(s.kind, s.state, s.source) for s in sessions} == {("focus", "completed", "manual")}
    these = Project.objects.get(user=user, name="Thèse")
    tokyo = Project.objects.get(user=user, name="東京プロジェクト")
    chapter = Task.objects.get(user=user, title="Chapitre 1")
    assert chapter.project == these
    assert [(s.task_id, s.project_id) for s in sessions] == [
        (chapter.pk, these.pk),
        (chapter.pk, these.pk),
        (None, tokyo.pk),
        (None, None),
        (None, these.pk),
    ]
    ecriture = Tag.objects.get(user=user, name="écriture")
    meeting = Tag.objects.get(user=user, name="会議")
    assert [s.tag_ids for s in sessions] == [
        [deep.pk],
        sorted([deep.pk, ecriture.pk]),
        [meeting.pk],
        [],
        [],
    ]
    assert [
        (s.started_at, s.ended_at)
        for s in SessionSegment.objects.filter(user=user).order_by("started_at")
    ] == [(s.started_at, s.ended_at) for s in sessions]
    types = list(Event.objects.filter(user=user).order_by("seq").values_list("type", flat=True))
    assert types[:5] == [
        "project.created",
        "project.created",
        "task.created",
        "tag.created",
        "tag.created",
    ]
    logged = Event.objects.filter(user=user, type="session.logged").order_by("seq")
    assert [event.data["session"]["id"] for event in logged] == sorted(s.pk for s in sessions)
    assert logged[0].data["session"]["source"] == "manual"


def test_a_toggl_body_sent_as_text_csv(user):
    client = client_for(user)
    text = f"{TOGGL_HEADER}\n,,,,,Write,No,2026-01-05,09:00:00,2026-01-05,09:25:00,00:25:00,\n"

    response = post_csv(client, text)

    assert response.json() == {"imported": 1, "skipped": []}
    session = Session.objects.get(user=user)
    assert (session.started_at, session.ended_at) == (
        utc("2026-01-05T09:00"),
        utc("2026-01-05T09:25"),
    )


def export_of(client) -> bytes:
    response = client.get("/api/v1/sessions/export/", {"format": "csv"})
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_an_export_imported_into_another_account_gives_the_same_history(user):
    write = TaskFactory(user=user, title="=Write", project=ProjectFactory(user=user, name="Thesis"))
    tags = [TagFactory(user=user, name="deep"), TagFactory(user=user, name="@later")]
    add_session(user, (at("2026-01-05T09:00"), at("2026-01-05T09:25")), task=write, tags=tags)
    # paused once: its running time is kept, from its start
    add_session(
        user,
        (at("2026-01-05T10:00"), at("2026-01-05T10:10")),
        (at("2026-01-05T10:20"), at("2026-01-05T10:30")),
        kind="stopwatch",
    )
    add_session(user, (at("2026-01-05T11:00"), at("2026-01-05T11:05")), kind="short_break")
    Session.objects.filter(user=user).update(name='Draft, "one"', description="+1 idea")
    exported = export_of(client_for(user))
    other = UserFactory()

    response = post_file(client_for(other), exported)

    assert response.json() == {"imported": 3, "skipped": []}
    fields = ("kind", "name", "description", "task__title", "task__project__name", "project__name")
    mine = list(Session.objects.filter(user=user).order_by("started_at").values_list(*fields))
    theirs = list(Session.objects.filter(user=other).order_by("started_at").values_list(*fields))
    assert theirs == mine
    tag_names = [
        sorted(Tag.objects.filter(pk__in=session.tag_ids).values_list("name", flat=True))
        for session in Session.objects.filter(user=other).order_by("started_at")
    ]
    assert tag_names == [["@later", "deep"], [], []]
    assert [
        (s.started_at, s.closed_running_time)
        for s in Session.objects.filter(user=other).order_by("started_at")
    ] == [
        (at("2026-01-05T09:00"), datetime.timedelta(minutes=25)),
        (at("2026-01-05T10:00"), datetime.timedelta(minutes=20)),
        (at("2026-01-05T11:00"), datetime.timedelta(minutes=5)),
    ]
    # and importing it again into the same account skips every row
    again = post_file(client_for(other), exported).json()
    assert again == {
        "imported": 0,
        "skipped": [{"row": n, "reason": "overlaps_session"} for n in (1, 2, 3)],
    }


def export_row(**cells) -> str:
    row = {
        "id": "1",
        "kind": "focus",
        "state": "completed",
        "source": "timer",
        "name": "",
        "description": "",
        "task_id": "",
        "task_title": "",
        "project_name": "",
        "started_at_utc": "2026-01-05T09:00:00Z",
        "ended_at_utc": "2026-01-05T09:25:00Z",
        "started_at_local": "",
        "ended_at_local": "",
        "duration_seconds": "",
        "planned_seconds": "",
    } | cells
    out = io.StringIO()
    csv.writer(out).writerow(row.values())
    return out.getvalue()


def test_every_skip_reason(user):
    add_session(user, (at("2026-01-06T09:00"), at("2026-01-06T10:00")))
    client = client_for(user)
    future = (timezone.now() + datetime.timedelta(hours=1)).isoformat()
    rows = [
        "focus,too,short\r\n",  # 1
        export_row(started_at_utc="0001-01-01T00:00:00+01:00"),  # 2: before year 1 in UTC
        export_row(kind="nap"),  # 3
        export_row(state="running", ended_at_utc=""),  # 4
        export_row(started_at_utc=timezone.now().isoformat(), ended_at_utc=future),  # 5
        export_row(ended_at_utc="2026-01-05T08:00:00Z"),  # 6
        export_row(started_at_utc="2026-01-01T00:00:00Z", ended_at_utc="2026-01-02T00:00:01Z"),  # 7
        export_row(name="x" * 201),  # 8
        export_row(started_at_utc="2026-01-06T09:30:00Z", ended_at_utc="2026-01-06T11:00:00Z"),  # 9
        export_row(
            started_at_utc="2026-01-07T09:00:00Z", ended_at_utc="2026-01-07T10:00:00Z"
        ),  # 10
        export_row(
            started_at_utc="2026-01-07T09:59:00Z", ended_at_utc="2026-01-07T10:30:00Z"
        ),  # 11
        export_row(
            started_at_utc="2026-01-07T10:00:00Z", ended_at_utc="2026-01-07T10:30:00Z"
        ),  # 12
    ]
    before = Session.objects.filter(user=user).count()

    response = post_csv(client, EXPORT_HEADER + "\r\n" + "".join(rows))

    assert response.json() == {
        "imported": 2,
        "skipped": [
            {"row": 1, "reason": "invalid_row"},
            {"row": 2, "reason": "invalid_time"},
            {"row": 3, "reason": "invalid_kind"},
            {"row": 4, "reason": "not_ended"},
            {"row": 5, "reason": "in_future"},
            {"row": 6, "reason": "ends_before_start"},
            {"row": 7, "reason": "too_long"},
            {"row": 8, "reason": "text_too_long"},
            {"row": 9, "reason": "overlaps_session"},
            {"row": 11, "reason": "overlaps_row"},
        ],
    }
    assert Session.objects.filter(user=user).count() == before + 2


def test_a_nul_character_makes_an_invalid_row(user):
    text = EXPORT_HEADER + "\r\n" + export_row(name="a\x00b")

    assert post_csv(client_for(user), text).json() == {
        "imported": 0,
        "skipped": [{"row": 1, "reason": "invalid_row"}],
    }


def test_a_row_may_fill_the_pause_of_another_session(user):
    add_session(
        user,
        (at("2026-01-05T09:00"), at("2026-01-05T09:10")),
        (at("2026-01-05T09:30"), at("2026-01-05T09:40")),
    )
    text = (
        EXPORT_HEADER
        + "\r\n"
        + export_row(started_at_utc="2026-01-05T09:10:00Z", ended_at_utc="2026-01-05T09:30:00Z")
    )

    assert post_csv(client_for(user), text).json() == {"imported": 1, "skipped": []}


def test_a_dry_run_answers_the_same_and_changes_nothing(user):
    set_calendar(user, zone="Europe/Berlin")
    TagFactory(user=user, name="deep")
    add_session(user, (at("2026-10-27T08:30"), at("2026-10-27T09:00")))
    client = client_for(user)
    data = (FIXTURES / "toggl_detailed_report.csv").read_bytes()
    clash = "Zoë,z@example.com,,,,Clash,No,2025-10-27,09:15:00,2025-10-27,09:45:00,00:30:00,"
    data += (clash + "\r\n").encode()
    before = state_of(user)

    dry = post_file(client, data, dry_run="true")

    assert dry.status_code == 200
    assert dry.json() == {"imported": 5, "skipped": [{"row": 6, "reason": "overlaps_row"}]}
    assert state_of(user) == before
    assert post_file(client, data).json() == dry.json()
    assert state_of(user) != before


def test_an_unknown_header_is_400_and_changes_nothing(user):
    before = state_of(user)

    response = post_csv(client_for(user), "Date,Hours,What\n2026-01-05,1,Writing\n")

    body = assert_problem(response, 400, "invalid")
    assert list(body["errors"]) == ["file"]
    assert state_of(user) == before


@pytest.mark.parametrize(
    "data",
    [b"", b"\xff\xfe not utf-8", b'kind,name\n"unclosed\n'],
    ids=["empty", "not UTF-8", "not CSV"],
)
def test_a_file_that_cannot_be_read_is_400(user, data):
    response = post_file(client_for(user), data)

    assert list(assert_problem(response, 400, "invalid")["errors"]) == ["file"]


def test_no_file_is_400(user):
    response = client_for(user).post(URL, {"other": "x"}, format="multipart")

    assert list(assert_problem(response, 400, "invalid")["errors"]) == ["file"]


def toggl_rows(count: int, *, client: str = "") -> bytes:
    start = datetime.datetime(2024, 1, 1, 0, 0)
    lines = [TOGGL_HEADER]
    for n in range(count):
        begin = start + datetime.timedelta(minutes=30 * n)
        end = begin + datetime.timedelta(minutes=25)
        lines.append(
            f",,{client},,,Row,No,{begin:%Y-%m-%d},{begin:%H:%M:%S},"
            f"{end:%Y-%m-%d},{end:%H:%M:%S},00:25:00,"
        )
    return ("\n".join(lines) + "\n").encode()


def test_10000_rows_are_taken_and_10001_are_413(user, settings):
    client = client_for(user)
    before = state_of(user)

    taken = post_csv(client, toggl_rows(10_000), dry_run="true")
    refused = post_csv(client, toggl_rows(10_001))

    assert taken.json() == {"imported": 10_000, "skipped": []}
    body = assert_problem(refused, 413, "payload_too_large")
    assert body["max_bytes"] == settings.IMPORT_MAX_BYTES
    assert "10,000 rows" in body["detail"]
    assert state_of(user) == before


def test_a_file_over_5_mib_is_413_as_a_body_and_as_a_field(user, settings):
    client = client_for(user)
    limit = settings.IMPORT_MAX_BYTES
    assert limit == 5 * 1024 * 1024
    data = toggl_rows(2500, client="x" * 2000)
    data += b"x" * (limit + 1 - len(data))
    assert len(data) == limit + 1
    before = state_of(user)

    as_body = post_csv(client, data)
    as_field = post_file(client, data)
    as_body_with_a_key = post_csv(client, data, HTTP_IDEMPOTENCY_KEY="big")  # read to hash it
    as_huge_body = post_csv(client, data + b"x" * settings.REQUEST_BODY_LIMITS[URL])

    for response in (as_body, as_field, as_body_with_a_key):
        assert assert_problem(response, 413, "payload_too_large")["max_bytes"] == limit
    huge = assert_problem(as_huge_body, 413, "payload_too_large")
    assert huge["max_bytes"] == settings.REQUEST_BODY_LIMITS[URL]
    assert state_of(user) == before


def test_a_file_of_5_mib_is_taken(user, settings):
    data = toggl_rows(2500, client="x" * 2000)
    data += b"\n" * (settings.IMPORT_MAX_BYTES - len(data))  # blank lines, passed over
    assert len(data) == settings.IMPORT_MAX_BYTES

    response = post_file(client_for(user), data, dry_run="true")

    assert response.json() == {"imported": 2500, "skipped": []}


@pytest.mark.django_db(transaction=True)
def test_an_import_racing_a_resume_never_overlaps_it():
    """A paused session resumed while an import of the last minutes runs: whichever
    commits first, no two running stretches of the user overlap."""
    for _attempt in range(5):
        user = UserFactory()
        now = timezone.now()
        paused = add_session(
            user, (now - datetime.timedelta(hours=3), now - datetime.timedelta(hours=2))
        )
        Session.objects.filter(pk=paused.pk).update(
            state="paused", ended_at=None, running_since=None, planned_seconds=86_400
        )
        window = (now - datetime.timedelta(minutes=30), now + datetime.timedelta(seconds=2))
        lines = [TOGGL_HEADER]
        start = window[0]
        while start < now - datetime.timedelta(seconds=30):
            local = start.astimezone(user.zone)
            end = (start + datetime.timedelta(minutes=5)).astimezone(user.zone)
            lines.append(
                f",,,,,Row,No,{local:%Y-%m-%d},{local:%H:%M:%S},{end:%Y-%m-%d},{end:%H:%M:%S},00:05:00,"
            )
            start += datetime.timedelta(minutes=5)
        data = ("\n".join(lines) + "\n").encode()

        def work(index, user=user, data=data, paused=paused):
            client = client_for(user)
            if index == 0:
                return post_csv(client, data).status_code
            return client.post(f"/api/v1/sessions/{paused.pk}/start/").status_code

        assert run_in_threads(2, work) == [200, 200]
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT count(*) FROM sessions_app_sessionsegment a
                   JOIN sessions_app_sessionsegment b
                     ON a.user_id = b.user_id AND a.id < b.id
                    AND a.started_at < COALESCE(b.ended_at, 'infinity')
                    AND b.started_at < COALESCE(a.ended_at, 'infinity')
                   WHERE a.user_id = %s""",
                [user.pk],
            )
            assert cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_one_file_at_once_import_it_once():
    user = UserFactory()
    data = toggl_rows(50)

    results = run_in_threads(2, lambda _index: post_csv(client_for(user), data).json())

    assert sorted(result["imported"] for result in results) == [0, 50]
    assert Session.objects.filter(user=user).count() == 50


@pytest.mark.parametrize(
    "times",
    [
        "yesterday,09:00:00,2026-01-05,09:25:00,0:25:00",
        "2026-01-05,25:00:00,2026-01-05,09:25:00,0:25:00",
        "2026-01-05,09:00:00,2026-01-05,09:25:00,25 min",
        # 00:00 in Tokyo on the first day of year 1 is in year 0 in UTC: no such instant
        "0001-01-01,00:00:00,0001-01-01,00:25:00,0:25:00",
    ],
)
def test_toggl_times_that_cannot_be_read_are_invalid_time(user, times):
    set_calendar(user, zone="Asia/Tokyo")
    text = f"{TOGGL_HEADER}\n,,,,,x,No,{times},\n"

    response = post_csv(client_for(user), text)

    assert response.json() == {"imported": 0, "skipped": [{"row": 1, "reason": "invalid_time"}]}


@pytest.mark.parametrize("send", [post_csv, post_file], ids=["text/csv body", "multipart"])
def test_an_import_retried_with_its_idempotency_key_answers_the_first_answer(user, send):
    client = client_for(user)
    data = toggl_rows(3)

    first = send(client, data, HTTP_IDEMPOTENCY_KEY="import-1")
    again = send(client, data, HTTP_IDEMPOTENCY_KEY="import-1")
    other = send(client, data + b"\n", HTTP_IDEMPOTENCY_KEY="import-1")
    dry = send(client, data, HTTP_IDEMPOTENCY_KEY="import-2", dry_run="true")

    assert first.json() == again.json() == {"imported": 3, "skipped": []}
    assert again["Idempotent-Replayed"] == "true"
    assert_problem(other, 422, "idempotency_key_reused")
    assert dry.json()["skipped"] == [{"row": n, "reason": "overlaps_session"} for n in (1, 2, 3)]
    assert Session.objects.filter(user=user).count() == 3
