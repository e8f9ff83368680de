"""A GET changes nothing: no row of any table, no event. Checked on every GET operation
of the schema (and the operations endpoints), for a user whose running session is past
its target with auto-start on, so that any read that settled it would complete it,
award a badge and start a break."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from accounts import services as account_services
from accounts.models import TimerSettings
from analytics.models import Badge
from events.models import Event
from integrations import services as webhook_services
from sessions_app import projects, services, tags
from sessions_app.models import Session
from teams import services as team_services
from tests.conftest import client_for
from tests.factories import FinishedSessionFactory, UserFactory
from tests.sessions_app.timer_helpers import make_due

pytestmark = pytest.mark.django_db

OPERATIONS_GETS = ["/healthz", "/readyz", "/metrics", "/api/schema/", "/api/docs/"]


def database_snapshot() -> dict[str, str]:
    """Every table's whole content, as one digest a table."""
    digests = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                f'FROM "{table}" t'
            )
            digests[table] = cursor.fetchone()
    return digests


@pytest.fixture
def world():
    """A user with a project, a task, a tag, a team, a finished session, and a running focus
    session past its target that no worker has completed yet."""
    user = UserFactory()
    teammate = UserFactory()
    calendar_secret = account_services.calendar_feed_create(user=user)
    TimerSettings.objects.filter(user=user).update(auto_start_breaks=True)
    project = projects.project_create(user=user, name="Thesis")
    task = projects.task_create(user=user, title="Chapter 2", project=project.pk)
    tag = tags.tag_create(user=user, name="deep")
    FinishedSessionFactory(user=user, task=task, project=project, tag_ids=[tag.pk])
    membership = team_services.team_create(user=user, name="Writers")
    team_id = membership.team_id
    invite = team_services.invite_create(user=user, team_id=team_id)
    team_services.team_join(user=teammate, code=invite.code)
    webhook = webhook_services.webhook_create(
        user=user, url="https://hooks.example.com/x", event_types=["*"]
    )
    due = services.session_create(user=user, task=task.pk, planned_seconds=1500)
    make_due(due.pk, seconds_ago=5)
    # The teammate (on the user's team board and leaderboards) forgot a stopwatch: past
    # its stopwatch_max_minutes, so a read that settled it would stop it.
    TimerSettings.objects.filter(user=teammate).update(stopwatch_max_minutes=30)
    stopwatch = services.session_create(user=teammate, kind=Session.Kind.STOPWATCH)
    make_due(stopwatch.pk, seconds_ago=5)
    ids = {
        "projects": project.pk,
        "tasks": task.pk,
        "tags": tag.pk,
        "sessions": due.pk,
        "teams": team_id,
        "calendar": calendar_secret,
        "webhooks": webhook.pk,
        "teammate_stopwatch": stopwatch.pk,
    }
    return user, ids


def get_operations() -> list[tuple[str, dict]]:
    schema = SchemaGenerator().get_schema(public=True)
    return [(path, ops["get"]) for path, ops in schema["paths"].items() if "get" in ops]


def query_for(operation: dict) -> dict:
    today = timezone.now().date()
    query = {}
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "query" or not parameter.get("required"):
            continue
        schema = parameter.get("schema", {})
        if "enum" in schema:
            query[parameter["name"]] = schema["enum"][0]
        elif schema.get("format") == "date":
            offset = datetime.timedelta(days=7 if parameter["name"] == "to" else 0)
            query[parameter["name"]] = (today - datetime.timedelta(days=7) + offset).isoformat()
        elif parameter["name"] == "group_by":  # analytics/report/: one or two keys
            query[parameter["name"]] = "project,tag"
        else:
            raise AssertionError(f"no value for {parameter['name']} of {operation}")
    return query


def filled(path: str, ids: dict) -> str:
    for collection, pk in ids.items():
        path = path.replace(f"/{collection}/{{id}}/", f"/{collection}/{pk}/")
    path = path.replace("{token}", ids["calendar"])
    path = path.replace("{webhook_id}", str(ids["webhooks"]))
    return path.replace("{team_id}", str(ids["teams"]))


def test_no_get_writes_anything(world):
    user, ids = world
    client = client_for(user)
    before = database_snapshot()
    events_before = Event.objects.count()
    answered = []

    for path, operation in get_operations():
        url = filled(path, ids)
        assert "{" not in url, f"no value for a parameter of {path}"
        response = client.get(url, query_for(operation))
        assert response.status_code in (200, 204), (url, response.status_code, response.content)
        if response.streaming:
            b"".join(response.streaming_content)
        answered.append(path)
    for url in OPERATIONS_GETS:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    assert len(answered) >= 20
    assert database_snapshot() == before
    assert Event.objects.count() == events_before
    assert not Badge.objects.filter(user=user).exists()
    due = Session.objects.get(pk=ids["sessions"])
    assert due.state == Session.State.RUNNING
    assert Session.objects.filter(user=user).count() == 2
    assert Session.objects.get(pk=ids["teammate_stopwatch"]).state == Session.State.RUNNING


def test_what_a_read_shows_of_a_due_session_is_what_the_worker_then_writes(world):
    user, ids = world
    client = client_for(user)
    shown = client.get(f"/api/v1/sessions/{ids['sessions']}/").json()
    active = client.get("/api/v1/sessions/active/")
    stopwatch = Session.objects.get(pk=ids["teammate_stopwatch"])
    teammate = client_for(stopwatch.user)
    stopwatch_shown = teammate.get(f"/api/v1/sessions/{stopwatch.pk}/").json()

    completed, failed = services.sessions_complete_due()

    stored = client.get(f"/api/v1/sessions/{ids['sessions']}/").json()
    stopwatch_stored = teammate.get(f"/api/v1/sessions/{stopwatch.pk}/").json()
    assert (completed, failed) == (2, [])
    assert active.status_code == 204
    assert {**shown, "server_time": None} == {**stored, "server_time": None}
    assert shown["state"] == "completed"
    assert {**stopwatch_shown, "server_time": None} == {**stopwatch_stored, "server_time": None}
    assert (stopwatch_shown["state"], stopwatch_shown["elapsed_seconds"]) == ("completed", 1800)
