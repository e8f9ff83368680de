"""The Django admin of the timer engine: changelists, filters, and ending stuck sessions."""

import pytest
from django.test import Client

from sessions_app.models import Session
from tests.factories import FinishedSessionFactory, ProjectFactory, TaskFactory, UserFactory
from tests.sessions_app.timer_helpers import API, event_types, events

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    operator = UserFactory(is_staff=True, is_superuser=True)
    admin_client = Client()
    admin_client.force_login(operator)
    return admin_client


@pytest.mark.parametrize(
    "path",
    [
        "/admin/sessions_app/session/",
        "/admin/sessions_app/session/?state__exact=running&kind__exact=focus",
        "/admin/sessions_app/session/?state__exact=completed&kind__exact=stopwatch",
        "/admin/sessions_app/session/?q=user",
        "/admin/sessions_app/task/",
        "/admin/sessions_app/task/?archived__exact=1",
        "/admin/sessions_app/project/",
        "/admin/events/event/",
        "/admin/events/event/?type=session.started",
    ],
)
def test_staff_can_open_the_changelists(staff_client, client, user, path):
    project = ProjectFactory(user=user)
    TaskFactory(user=user, project=project)
    FinishedSessionFactory(user=user)
    client.post(API + "sessions/", {}, format="json")

    response = staff_client.get(path)

    assert response.status_code == 200


def test_staff_can_open_a_session(staff_client, user):
    session = FinishedSessionFactory(user=user)

    response = staff_client.get(f"/admin/sessions_app/session/{session.pk}/change/")

    assert response.status_code == 200


def test_a_non_staff_user_cannot_open_the_admin(user):
    visitor = Client()
    visitor.force_login(user)

    response = visitor.get("/admin/sessions_app/session/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_end_sessions_action_stops_an_active_session_through_the_services(
    staff_client, client, user
):
    active = client.post(API + "sessions/", {}, format="json").json()
    finished = FinishedSessionFactory(user=user)

    response = staff_client.post(
        "/admin/sessions_app/session/",
        {"action": "end_sessions", "_selected_action": [active["id"], finished.pk]},
    )

    assert response.status_code == 302
    stopped = Session.objects.get(pk=active["id"])
    assert stopped.state == "interrupted"
    assert stopped.ended_at is not None
    assert stopped.version == 2
    assert Session.objects.get(pk=finished.pk).version == 1
    assert event_types(user) == [(1, "session.started"), (2, "session.stopped")]
    assert events(user)[1].data["session"]["state"] == "interrupted"
    assert client.get(API + "sessions/active/").status_code == 204


def test_sessions_cannot_be_deleted_behind_the_services_back(staff_client, user):
    session = FinishedSessionFactory(user=user)
    changelist = staff_client.get("/admin/sessions_app/session/")
    assert "delete_selected" not in changelist.content.decode()

    response = staff_client.post(
        "/admin/sessions_app/session/",
        {"action": "delete_selected", "_selected_action": [session.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert Session.objects.filter(pk=session.pk).exists()
