"""A session's own project and tags (POST sessions/, PATCH sessions/{id}/, log/), and
references to objects the caller cannot see answering 400 with nothing changed."""

import datetime
import importlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import Event
from sessions_app.models import Session
from tests.conftest import assert_problem
from tests.factories import FinishedSessionFactory, ProjectFactory, TagFactory, TaskFactory
from tests.sessions_app.timer_helpers import API, event_types, events, iso, session_row

pytestmark = pytest.mark.django_db

SESSIONS = API + "sessions/"
OTHER_PROJECT = "The session's task is in project {}; its project must be the task's."


def create(client, **body):
    return client.post(SESSIONS, body, format="json")


def patch(client, session_id: int, **body):
    return client.patch(f"{SESSIONS}{session_id}/", body, format="json")


def log(client, **body):
    start = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=3)
    times = {"started_at": iso(start), "ended_at": iso(start + datetime.timedelta(minutes=30))}
    return client.post(SESSIONS + "log/", {**times, **body}, format="json")


def test_create_with_a_project_and_tags(client, user):
    project = ProjectFactory(user=user)
    first, second = TagFactory(user=user), TagFactory(user=user)

    response = create(client, project=project.pk, tags=[second.pk, first.pk, second.pk])

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["project"], body["tags"]) == (project.pk, [first.pk, second.pk])
    session = Session.objects.get()
    assert (session.project_id, session.tag_ids) == (project.pk, [first.pk, second.pk])
    [event] = events(user)
    assert event.type == "session.started"
    assert (event.data["session"]["project"], event.data["session"]["tags"]) == (
        project.pk,
        [first.pk, second.pk],
    )


def test_a_task_sets_the_sessions_project(client, user):
    project = ProjectFactory(user=user)
    task = TaskFactory(user=user, project=project)

    body = create(client, task=task.pk).json()

    assert (body["task"], body["project"]) == (task.pk, project.pk)


def test_a_task_with_its_own_project_named_too_is_accepted(client, user):
    project = ProjectFactory(user=user)
    task = TaskFactory(user=user, project=project)

    response = create(client, task=task.pk, project=project.pk)

    assert response.status_code == 201
    assert response.json()["project"] == project.pk


def test_a_task_in_a_deleted_project_gives_no_project(client, user):
    task = TaskFactory(user=user, project=ProjectFactory(user=user, deleted_at=timezone.now()))

    assert create(client, task=task.pk).json()["project"] is None


@pytest.mark.parametrize("send", [create, log], ids=["create", "log"])
def test_a_task_with_a_different_project_is_refused(client, user, send):
    task = TaskFactory(user=user, project=ProjectFactory(user=user))
    other = ProjectFactory(user=user)

    body = assert_problem(send(client, task=task.pk, project=other.pk), 400, "invalid")

    assert body["errors"] == {"project": [OTHER_PROJECT.format(task.project_id)]}
    assert Session.objects.count() == 0
    assert Event.objects.count() == 0


@pytest.mark.parametrize("send", [create, log], ids=["create", "log"])
def test_references_the_caller_cannot_see_are_invalid(client, user, other_user, send):
    foreign_task = TaskFactory(user=other_user)
    foreign_project = ProjectFactory(user=other_user)
    foreign_tag = TagFactory(user=other_user)
    mine = TagFactory(user=user)

    response = send(
        client, task=foreign_task.pk, project=foreign_project.pk, tags=[mine.pk, foreign_tag.pk]
    )

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {
        "task": ["No such task of yours."],
        "project": ["No such project of yours."],
        "tags": [f"No such tag of yours: {foreign_tag.pk}."],
    }
    assert Session.objects.count() == 0
    assert Event.objects.count() == 0


def test_a_deleted_project_is_invalid(client, user):
    project = ProjectFactory(user=user, deleted_at=timezone.now())

    body = assert_problem(create(client, project=project.pk), 400, "invalid")

    assert body["errors"] == {"project": ["No such project of yours."]}
    assert Session.objects.count() == 0


def test_too_many_tags_are_refused(client, user):
    tags = [TagFactory(user=user).pk for _ in range(21)]

    body = assert_problem(create(client, tags=tags), 400, "invalid")

    assert list(body["errors"]) == ["tags"]
    assert Session.objects.count() == 0


def test_log_with_a_project_and_tags(client, user):
    project = ProjectFactory(user=user)
    tag = TagFactory(user=user)

    response = log(client, project=project.pk, tags=[tag.pk])

    assert response.status_code == 201, response.content
    assert (response.json()["project"], response.json()["tags"]) == (project.pk, [tag.pk])
    event = events(user)[0]  # then badge.earned: a first pomodoro
    assert event.type == "session.logged"
    assert event.data["session"]["tags"] == [tag.pk]


# --- PATCH --------------------------------------------------------------------------


def test_patch_tags_replaces_them(client, user):
    old, new = TagFactory(user=user), TagFactory(user=user)
    session = create(client, tags=[old.pk], start=False).json()

    response = patch(client, session["id"], tags=[new.pk])

    assert response.status_code == 200
    assert (response.json()["tags"], response.json()["version"]) == ([new.pk], 2)
    [_, event] = events(user)
    assert (event.type, event.data["session"]["tags"]) == ("session.updated", [new.pk])


def test_patch_that_changes_no_label_records_nothing(client, user):
    tag = TagFactory(user=user)
    project = ProjectFactory(user=user)
    session = create(client, tags=[tag.pk], project=project.pk, start=False).json()

    response = patch(client, session["id"], tags=[tag.pk, tag.pk], project=project.pk)

    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert len(events(user)) == 1


def test_patch_a_task_moves_the_session_to_its_project(client, user):
    session = create(client, project=ProjectFactory(user=user).pk, start=False).json()
    task = TaskFactory(user=user, project=ProjectFactory(user=user))

    body = patch(client, session["id"], task=task.pk).json()

    assert (body["task"], body["project"]) == (task.pk, task.project_id)
    assert Session.objects.get().project_id == task.project_id


def test_patch_a_project_unlike_the_kept_task_is_refused(client, user):
    task = TaskFactory(user=user, project=ProjectFactory(user=user))
    session = create(client, task=task.pk, start=False).json()
    before = session_row(session["id"])

    response = patch(client, session["id"], project=ProjectFactory(user=user).pk)

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"project": [OTHER_PROJECT.format(task.project_id)]}
    assert session_row(session["id"]) == before
    assert event_types(user) == [(1, "session.updated")]


def test_patch_task_null_keeps_the_project(client, user):
    task = TaskFactory(user=user, project=ProjectFactory(user=user))
    session = create(client, task=task.pk, start=False).json()

    body = patch(client, session["id"], task=None).json()

    assert (body["task"], body["project"]) == (None, task.project_id)


def test_patch_task_null_and_another_project(client, user):
    task = TaskFactory(user=user, project=ProjectFactory(user=user))
    session = create(client, task=task.pk, start=False).json()
    other = ProjectFactory(user=user)

    body = patch(client, session["id"], task=None, project=other.pk).json()

    assert (body["task"], body["project"]) == (None, other.pk)


def test_patch_with_references_the_caller_cannot_see_changes_nothing(client, user, other_user):
    session = create(client, start=False).json()
    before = session_row(session["id"])

    response = patch(
        client,
        session["id"],
        name="renamed",
        project=ProjectFactory(user=other_user).pk,
        tags=[TagFactory(user=other_user).pk],
    )

    body = assert_problem(response, 400, "invalid")
    assert set(body["errors"]) == {"project", "tags"}
    assert session_row(session["id"]) == before
    assert event_types(user) == [(1, "session.updated")]


def test_a_pause_sends_the_same_statements_with_tags(client, user):
    """Tags live in the session row: a pause of a tagged session reads no more."""

    def pause_statements(tags: list[int]) -> int:
        session = create(client, tags=tags).json()
        with CaptureQueriesContext(connection) as queries:
            assert client.post(f"{SESSIONS}{session['id']}/pause/").status_code == 200
        client.post(f"{SESSIONS}{session['id']}/stop/")
        return len(queries)

    plain = pause_statements([])
    tagged = pause_statements([TagFactory(user=user).pk, TagFactory(user=user).pk])

    assert tagged == plain


def test_the_migration_gives_existing_sessions_their_tasks_live_project(user):
    """sessions_app/0004's data step, run on rows as 0003 left them (no project)."""
    migration = importlib.import_module("sessions_app.migrations.0004_tags_and_session_project")
    live = TaskFactory(user=user, project=ProjectFactory(user=user))
    of_deleted = TaskFactory(
        user=user, project=ProjectFactory(user=user, deleted_at=timezone.now())
    )
    without = TaskFactory(user=user)
    sessions = {
        name: FinishedSessionFactory(user=user, task=task)
        for name, task in [("live", live), ("deleted", of_deleted), ("none", without)]
    }
    sessions["no task"] = FinishedSessionFactory(user=user)
    Session.objects.update(project=None)

    with connection.cursor() as cursor:
        cursor.execute(migration.SESSION_PROJECT_FROM_TASK)

    projects = dict(Session.objects.values_list("pk", "project_id"))
    assert {name: projects[s.pk] for name, s in sessions.items()} == {
        "live": live.project_id,
        "deleted": None,
        "none": None,
        "no task": None,
    }
