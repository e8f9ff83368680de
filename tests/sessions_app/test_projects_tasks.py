"""Projects and tasks through the REST API: CRUD, soft delete, ownership, events."""

import datetime

import pytest
from django.utils import timezone

from events.models import Event
from sessions_app.models import Project, Session, Task
from tests.conftest import assert_problem
from tests.factories import FinishedSessionFactory, ProjectFactory, TaskFactory
from tests.sessions_app.timer_helpers import (
    API,
    event_types,
    events,
    move_into_past,
    put_day_boundary_far_from_now,
)

pytestmark = pytest.mark.django_db


def task_body(task: Task, **overrides) -> dict:
    return {
        "id": task.pk,
        "title": task.title,
        "project": task.project_id,
        "daily_goal_minutes": task.daily_goal_minutes,
        "archived": task.archived,
        "today_focus_seconds": 0,
        **overrides,
    }


# --- Projects ----------------------------------------------------------------------


def test_create_a_project(client, user):
    response = client.post(API + "projects/", {"name": "Thesis"}, format="json")

    assert response.status_code == 201
    project = Project.objects.get()
    assert response.json() == {
        "id": project.pk,
        "name": "Thesis",
        "description": "",
        "color": "#e5533d",
    }
    assert project.user == user
    [event] = events(user)
    assert (event.seq, event.type, event.data) == (
        1,
        "project.created",
        {"project": response.json()},
    )


def test_create_a_project_with_every_field(client, user):
    response = client.post(
        API + "projects/",
        {"name": "Garden", "description": "Outdoor work", "color": "#3DAA5c"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json() == {
        "id": Project.objects.get().pk,
        "name": "Garden",
        "description": "Outdoor work",
        "color": "#3DAA5c",
    }


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "x" * 101}, "name"),
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "Art", "color": "red"}, "color"),
        ({"name": "Art", "color": "#12345g"}, "color"),
        ({"name": "Art", "color": "#1234567"}, "color"),
        ({"name": "Art", "description": "x" * 1001}, "description"),
    ],
)
def test_create_an_invalid_project_is_refused(client, user, payload, field):
    response = client.post(API + "projects/", payload, format="json")

    body = assert_problem(response, 400, "invalid")
    assert list(body["errors"]) == [field]
    assert Project.objects.count() == 0
    assert event_types(user) == []


def test_list_projects_shows_the_users_live_projects(client, user, other_user):
    first = ProjectFactory(user=user, name="A")
    second = ProjectFactory(user=user, name="B", color="#000000")
    ProjectFactory(user=user, deleted_at=timezone.now())
    ProjectFactory(user=other_user)

    response = client.get(API + "projects/")

    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {"id": first.pk, "name": "A", "description": "", "color": "#e5533d"},
            {"id": second.pk, "name": "B", "description": "", "color": "#000000"},
        ],
        "next": None,
        "previous": None,
    }


def test_list_projects_is_paginated(client, user):
    projects = ProjectFactory.create_batch(3, user=user)

    first_page = client.get(API + "projects/", {"page_size": 2}).json()
    second_page = client.get(first_page["next"]).json()

    assert [p["id"] for p in first_page["results"]] == [projects[0].pk, projects[1].pk]
    assert first_page["previous"] is None
    assert [p["id"] for p in second_page["results"]] == [projects[2].pk]
    assert second_page["next"] is None
    assert second_page["previous"] is not None


def test_get_a_project(client, user):
    project = ProjectFactory(user=user, name="Thesis", description="Chapter 2")

    response = client.get(f"{API}projects/{project.pk}/")

    assert response.status_code == 200
    assert response.json() == {
        "id": project.pk,
        "name": "Thesis",
        "description": "Chapter 2",
        "color": "#e5533d",
    }


def test_patch_a_project(client, user):
    project = ProjectFactory(user=user, name="Thesis")

    response = client.patch(
        f"{API}projects/{project.pk}/", {"name": "PhD", "color": "#112233"}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {
        "id": project.pk,
        "name": "PhD",
        "description": "",
        "color": "#112233",
    }
    project.refresh_from_db()
    assert (project.name, project.color) == ("PhD", "#112233")
    [event] = events(user)
    assert (event.seq, event.type, event.data) == (
        1,
        "project.updated",
        {"project": response.json()},
    )


def test_patch_a_project_with_nothing_new_records_nothing(client, user):
    project = ProjectFactory(user=user, name="Thesis")

    response = client.patch(f"{API}projects/{project.pk}/", {"name": "Thesis"}, format="json")

    assert response.status_code == 200
    assert event_types(user) == []


def test_patch_a_project_with_an_invalid_colour_is_refused(client, user):
    project = ProjectFactory(user=user, name="Thesis")

    response = client.patch(f"{API}projects/{project.pk}/", {"color": "blue"}, format="json")

    body = assert_problem(response, 400, "invalid")
    assert list(body["errors"]) == ["color"]
    project.refresh_from_db()
    assert project.color == "#e5533d"
    assert event_types(user) == []


def test_delete_a_project_is_soft_and_its_tasks_read_no_project(client, user):
    project = ProjectFactory(user=user)
    task = TaskFactory(user=user, project=project)

    response = client.delete(f"{API}projects/{project.pk}/")

    assert response.status_code == 204
    assert_problem(client.get(f"{API}projects/{project.pk}/"), 404, "not_found")
    assert client.get(API + "projects/").json()["results"] == []
    project.refresh_from_db()
    assert project.deleted_at is not None
    assert client.get(f"{API}tasks/{task.pk}/").json() == task_body(task, project=None)
    assert client.get(API + "tasks/").json()["results"] == [task_body(task, project=None)]
    [event] = events(user)
    assert (event.seq, event.type, event.data) == (
        1,
        "project.deleted",
        {"project": {"id": project.pk}},
    )


def test_delete_a_deleted_project_is_not_found(client, user):
    project = ProjectFactory(user=user)
    client.delete(f"{API}projects/{project.pk}/")

    response = client.delete(f"{API}projects/{project.pk}/")

    assert_problem(response, 404, "not_found")
    assert event_types(user) == [(1, "project.deleted")]


@pytest.mark.parametrize(
    ("method", "payload"), [("get", None), ("patch", {"name": "Mine"}), ("delete", None)]
)
def test_another_users_project_is_not_found(client, other_user, method, payload):
    project = ProjectFactory(user=other_user, name="Theirs")

    response = getattr(client, method)(f"{API}projects/{project.pk}/", payload, format="json")

    assert_problem(response, 404, "not_found")
    project.refresh_from_db()
    assert (project.name, project.deleted_at) == ("Theirs", None)
    assert Event.objects.count() == 0


def test_a_project_id_that_is_not_a_number_is_not_found(client):
    assert_problem(client.get(API + "projects/thesis/"), 404, "not_found")


# --- Tasks -------------------------------------------------------------------------


def test_create_a_task(client, user):
    response = client.post(API + "tasks/", {"title": "Write intro"}, format="json")

    assert response.status_code == 201
    task = Task.objects.get()
    assert response.json() == {
        "id": task.pk,
        "title": "Write intro",
        "project": None,
        "daily_goal_minutes": None,
        "archived": False,
        "today_focus_seconds": 0,
    }
    assert task.user == user
    [event] = events(user)
    assert (event.seq, event.type, event.data) == (1, "task.created", {"task": response.json()})


@pytest.mark.parametrize("goal", [1, 1440])
def test_create_a_task_with_a_project_and_a_goal(client, user, goal):
    project = ProjectFactory(user=user)

    response = client.post(
        API + "tasks/",
        {"title": "Write intro", "project": project.pk, "daily_goal_minutes": goal},
        format="json",
    )

    assert response.status_code == 201
    assert response.json() == {
        "id": Task.objects.get().pk,
        "title": "Write intro",
        "project": project.pk,
        "daily_goal_minutes": goal,
        "archived": False,
        "today_focus_seconds": 0,
    }


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "x" * 201}, "title"),
        ({}, "title"),
        ({"title": "Read", "daily_goal_minutes": 0}, "daily_goal_minutes"),
        ({"title": "Read", "daily_goal_minutes": 1441}, "daily_goal_minutes"),
        ({"title": "Read", "daily_goal_minutes": "lots"}, "daily_goal_minutes"),
        ({"title": "Read", "project": "home"}, "project"),
    ],
)
def test_create_an_invalid_task_is_refused(client, user, payload, field):
    response = client.post(API + "tasks/", payload, format="json")

    body = assert_problem(response, 400, "invalid")
    assert list(body["errors"]) == [field]
    assert Task.objects.count() == 0
    assert event_types(user) == []


def test_create_a_task_in_another_users_project_is_invalid(client, user, other_user):
    project = ProjectFactory(user=other_user)

    response = client.post(
        API + "tasks/", {"title": "Sneaky", "project": project.pk}, format="json"
    )

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"project": ["No such project of yours."]}
    assert Task.objects.count() == 0
    assert Event.objects.count() == 0


def test_create_a_task_in_a_deleted_project_is_invalid(client, user):
    project = ProjectFactory(user=user, deleted_at=timezone.now())

    response = client.post(API + "tasks/", {"title": "Late", "project": project.pk}, format="json")

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"project": ["No such project of yours."]}
    assert Task.objects.count() == 0
    assert event_types(user) == []


def test_list_tasks_shows_the_users_live_tasks(client, user, other_user):
    first = TaskFactory(user=user, title="A")
    second = TaskFactory(user=user, title="B", archived=True, daily_goal_minutes=30)
    TaskFactory(user=user, deleted_at=timezone.now())
    TaskFactory(user=other_user)

    response = client.get(API + "tasks/")

    assert response.status_code == 200
    assert response.json() == {
        "results": [task_body(first), task_body(second)],
        "next": None,
        "previous": None,
    }


def test_list_tasks_filters_by_archived_and_project(client, user):
    project = ProjectFactory(user=user)
    in_project = TaskFactory(user=user, project=project)
    archived = TaskFactory(user=user, archived=True)

    by_project = client.get(API + "tasks/", {"project": project.pk}).json()["results"]
    only_archived = client.get(API + "tasks/", {"archived": "true"}).json()["results"]

    assert by_project == [task_body(in_project)]
    assert only_archived == [task_body(archived)]


def test_patch_a_task(client, user):
    project = ProjectFactory(user=user)
    task = TaskFactory(user=user, title="Read")

    response = client.patch(
        f"{API}tasks/{task.pk}/",
        {"title": "Read more", "project": project.pk, "daily_goal_minutes": 45, "archived": True},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == {
        "id": task.pk,
        "title": "Read more",
        "project": project.pk,
        "daily_goal_minutes": 45,
        "archived": True,
        "today_focus_seconds": 0,
    }
    task.refresh_from_db()
    assert (task.title, task.project, task.daily_goal_minutes, task.archived) == (
        "Read more",
        project,
        45,
        True,
    )
    [event] = events(user)
    assert (event.seq, event.type, event.data) == (1, "task.updated", {"task": response.json()})


def test_patch_a_task_out_of_its_project(client, user):
    task = TaskFactory(user=user, project=ProjectFactory(user=user), daily_goal_minutes=30)

    response = client.patch(
        f"{API}tasks/{task.pk}/", {"project": None, "daily_goal_minutes": None}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == task_body(task, project=None, daily_goal_minutes=None)
    task.refresh_from_db()
    assert (task.project, task.daily_goal_minutes) == (None, None)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "x" * 201}, "title"),
        ({"daily_goal_minutes": 0}, "daily_goal_minutes"),
        ({"daily_goal_minutes": 1441}, "daily_goal_minutes"),
    ],
)
def test_patch_an_invalid_task_is_refused(client, user, payload, field):
    task = TaskFactory(user=user, title="Read", daily_goal_minutes=30)

    response = client.patch(f"{API}tasks/{task.pk}/", payload, format="json")

    body = assert_problem(response, 400, "invalid")
    assert list(body["errors"]) == [field]
    task.refresh_from_db()
    assert (task.title, task.daily_goal_minutes) == ("Read", 30)
    assert event_types(user) == []


def test_patch_a_task_into_another_users_project_is_invalid(client, user, other_user):
    task = TaskFactory(user=user)
    foreign_project = ProjectFactory(user=other_user)

    response = client.patch(
        f"{API}tasks/{task.pk}/", {"project": foreign_project.pk}, format="json"
    )

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"project": ["No such project of yours."]}
    task.refresh_from_db()
    assert task.project is None
    assert Event.objects.count() == 0


def test_delete_a_task_is_soft_and_keeps_its_sessions(client, user):
    task = TaskFactory(user=user)
    session = FinishedSessionFactory(user=user, task=task)

    response = client.delete(f"{API}tasks/{task.pk}/")

    assert response.status_code == 204
    assert_problem(client.get(f"{API}tasks/{task.pk}/"), 404, "not_found")
    assert client.get(API + "tasks/").json()["results"] == []
    task.refresh_from_db()
    assert task.deleted_at is not None
    history = client.get(API + "sessions/").json()["results"]
    assert [(s["id"], s["task"], s["elapsed_seconds"]) for s in history] == [
        (session.pk, task.pk, 1500)
    ]
    assert Session.objects.get().deleted_at is None
    [event] = events(user)
    assert (event.seq, event.type, event.data) == (1, "task.deleted", {"task": {"id": task.pk}})


@pytest.mark.parametrize(
    ("method", "payload"), [("get", None), ("patch", {"title": "Mine"}), ("delete", None)]
)
def test_another_users_task_is_not_found(client, other_user, method, payload):
    task = TaskFactory(user=other_user, title="Theirs")

    response = getattr(client, method)(f"{API}tasks/{task.pk}/", payload, format="json")

    assert_problem(response, 404, "not_found")
    task.refresh_from_db()
    assert (task.title, task.deleted_at) == ("Theirs", None)
    assert Event.objects.count() == 0


def test_each_change_records_exactly_one_event(client, user):
    project_id = client.post(API + "projects/", {"name": "P"}, format="json").json()["id"]
    client.patch(f"{API}projects/{project_id}/", {"name": "Q"}, format="json")
    task_id = client.post(API + "tasks/", {"title": "T", "project": project_id}).json()["id"]
    client.patch(f"{API}tasks/{task_id}/", {"title": "U"}, format="json")
    client.delete(f"{API}tasks/{task_id}/")
    client.delete(f"{API}projects/{project_id}/")

    assert event_types(user) == [
        (1, "project.created"),
        (2, "project.updated"),
        (3, "task.created"),
        (4, "task.updated"),
        (5, "task.deleted"),
        (6, "project.deleted"),
    ]


# --- today_focus_seconds -----------------------------------------------------------


def finished(user, task, start: datetime.datetime, seconds: int, **fields) -> Session:
    return FinishedSessionFactory(
        user=user, task=task, started_at=start, planned_seconds=seconds, **fields
    )


def test_today_focus_seconds_counts_todays_focus_and_stopwatch_time(client, user):
    day_start = put_day_boundary_far_from_now(user, zone="America/New_York")
    task = TaskFactory(user=user)
    other_task = TaskFactory(user=user)
    hour = datetime.timedelta(hours=1)
    finished(user, task, day_start + hour, 1500)  # focus today: 1500
    FinishedSessionFactory(
        user=user,
        task=task,
        kind="stopwatch",
        planned_seconds=None,
        started_at=day_start + 2 * hour,
        ended_at=day_start + 2 * hour + datetime.timedelta(seconds=600),
    )  # stopwatch today: 600
    finished(user, task, day_start - datetime.timedelta(minutes=10), 1800)  # 1200 of it today
    finished(user, task, day_start - 3 * hour, 1500)  # yesterday
    finished(user, task, day_start + 3 * hour, 300, kind="short_break")  # a break
    finished(user, task, day_start + 4 * hour, 1500, deleted_at=timezone.now())  # deleted
    finished(user, other_task, day_start + 5 * hour, 1500)  # another task
    running = client.post(API + "sessions/", {"task": task.pk}, format="json").json()
    move_into_past(running["id"], 120)  # running for 2 minutes: 120

    listed = client.get(API + "tasks/").json()["results"]
    single = client.get(f"{API}tasks/{task.pk}/").json()

    assert single["today_focus_seconds"] == 1500 + 600 + 1200 + 120
    assert [t["today_focus_seconds"] for t in listed] == [1500 + 600 + 1200 + 120, 1500]


def test_today_focus_seconds_stops_at_the_target_of_an_unnoticed_completion(client, user):
    put_day_boundary_far_from_now(user)
    task = TaskFactory(user=user)
    running = client.post(
        API + "sessions/", {"task": task.pk, "planned_seconds": 600}, format="json"
    ).json()
    move_into_past(running["id"], 900)

    response = client.get(f"{API}tasks/{task.pk}/")

    assert response.json()["today_focus_seconds"] == 600


def test_today_focus_seconds_excludes_paused_time(client, user):
    put_day_boundary_far_from_now(user)
    task = TaskFactory(user=user)
    session = client.post(API + "sessions/", {"task": task.pk}, format="json").json()
    move_into_past(session["id"], 300)
    client.post(f"{API}sessions/{session['id']}/pause/")
    move_into_past(session["id"], 600)

    response = client.get(f"{API}tasks/{task.pk}/")

    assert response.json()["today_focus_seconds"] == 300


@pytest.mark.parametrize("count", [3, 30])
def test_list_tasks_costs_the_same_queries_whatever_the_page_size(
    client, user, count, django_assert_max_num_queries
):
    project = ProjectFactory(user=user)
    for _ in range(count):
        task = TaskFactory(user=user, project=project)
        FinishedSessionFactory(user=user, task=task)

    with django_assert_max_num_queries(3):
        response = client.get(API + "tasks/", {"page_size": 50})

    assert len(response.json()["results"]) == count
