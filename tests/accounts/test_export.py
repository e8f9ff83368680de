"""The account export (GET me/export/): one streamed JSON document."""

import datetime
import json

import pytest
from django.utils import timezone

from accounts import export
from analytics.models import Badge
from sessions_app.models import Session
from teams import services as team_services
from tests.conftest import assert_problem
from tests.factories import (
    FinishedSessionFactory,
    ProjectFactory,
    SegmentFactory,
    TagFactory,
    TaskFactory,
    UserFactory,
)
from tests.teams.helpers import team_with

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/me/export/"


def utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def exported(client) -> dict:
    response = client.get(EXPORT)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/json"
    return json.loads(b"".join(response.streaming_content))


def test_the_export_has_everything_the_user_owns(client, user, other_user):
    started = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=3)
    project = ProjectFactory(user=user, name="Client, Ltd", color="#112233")
    task = TaskFactory(user=user, project=project, title="Report", daily_goal_minutes=50)
    tag = TagFactory(user=user, name="deep", color="#445566")
    TagFactory(user=other_user)
    session = FinishedSessionFactory(
        user=user,
        task=task,
        project=project,
        tag_ids=[tag.pk],
        name="Draft",
        started_at=started,
        segment=None,
    )
    first = SegmentFactory(
        session=session,
        user=user,
        started_at=started,
        ended_at=started + datetime.timedelta(minutes=10),
    )
    second = SegmentFactory(
        session=session,
        user=user,
        started_at=started + datetime.timedelta(minutes=15),
        ended_at=session.ended_at,
    )
    Session.objects.filter(pk=session.pk).update(closed_running_time=datetime.timedelta(minutes=20))
    session.refresh_from_db()
    FinishedSessionFactory(user=user, deleted_at=timezone.now())  # deleted: left out
    FinishedSessionFactory(user=other_user)
    ProjectFactory(user=other_user)
    badge = Badge.objects.create(user=user, code=Badge.Code.FIRST_POMODORO, earned_at=started)
    team = team_with(UserFactory(), user, name="Squad")
    joined = team.memberships.get(user=user).joined_at

    document = exported(client)

    assert list(document) == [
        "exported_at",
        "profile",
        "settings",
        "projects",
        "tasks",
        "tags",
        "sessions",
        "badges",
        "teams",
    ]
    assert document["profile"] == client.get("/api/v1/me/").json()
    assert document["settings"] == client.get("/api/v1/me/settings/").json()
    assert document["projects"] == [
        {
            "id": project.pk,
            "name": "Client, Ltd",
            "description": "",
            "color": "#112233",
            "created_at": utc(project.created_at),
            "deleted_at": None,
        }
    ]
    assert document["tasks"] == [
        {
            "id": task.pk,
            "title": "Report",
            "project": project.pk,
            "daily_goal_minutes": 50,
            "archived": False,
            "created_at": utc(task.created_at),
            "deleted_at": None,
        }
    ]
    assert document["tags"] == [
        {"id": tag.pk, "name": "deep", "color": "#445566", "created_at": utc(tag.created_at)}
    ]
    assert document["sessions"] == [
        {
            "id": session.pk,
            "kind": "focus",
            "state": "completed",
            "source": "timer",
            "name": "Draft",
            "description": "",
            "task": task.pk,
            "project": project.pk,
            "tags": [tag.pk],
            "planned_seconds": 1500,
            "started_at": utc(started),
            "ended_at": utc(session.ended_at),
            "duration_seconds": 1200,
            "created_at": utc(session.created_at),
            "updated_at": utc(session.updated_at),
            "segments": [
                {"started_at": utc(first.started_at), "ended_at": utc(first.ended_at)},
                {"started_at": utc(second.started_at), "ended_at": utc(second.ended_at)},
            ],
        }
    ]
    assert document["badges"] == [
        {"code": "first_pomodoro", "name": "First Pomodoro", "earned_at": utc(badge.earned_at)}
    ]
    assert document["teams"] == [
        {"id": team.pk, "name": "Squad", "role": "member", "joined_at": utc(joined)}
    ]


def test_a_running_session_exports_its_open_segment(client, user):
    created = client.post("/api/v1/sessions/", {"kind": "focus"}, format="json").json()

    (session,) = exported(client)["sessions"]

    assert (session["id"], session["state"], session["ended_at"]) == (
        created["id"],
        "running",
        None,
    )
    assert session["segments"] == [{"started_at": created["started_at"], "ended_at": None}]


def test_an_empty_account_exports_empty_lists(client):
    document = exported(client)

    assert [
        document[key] for key in ("projects", "tasks", "tags", "sessions", "badges", "teams")
    ] == [[]] * 6


def test_the_queries_do_not_grow_with_the_history(client, user, django_assert_max_num_queries):
    for _ in range(3):
        FinishedSessionFactory(user=user)
    with django_assert_max_num_queries(30) as few:
        exported(client)
    for _ in range(40):
        FinishedSessionFactory(user=user)

    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(exported(client)["sessions"]) == 43


def test_sessions_come_in_batches_in_id_order(client, user, monkeypatch):
    monkeypatch.setattr(export, "BATCH_ROWS", 2)
    sessions = [FinishedSessionFactory(user=user) for _ in range(5)]

    ids = [session["id"] for session in exported(client)["sessions"]]

    assert ids == [session.pk for session in sessions]


def test_the_export_needs_authentication(api_client):
    assert_problem(api_client.get(EXPORT), 401, "not_authenticated")


def test_a_team_owner_exports_its_role(client, user):
    team = team_services.team_create(user=user, name="Mine").team

    assert [(t["id"], t["role"]) for t in exported(client)["teams"]] == [(team.pk, "owner")]
