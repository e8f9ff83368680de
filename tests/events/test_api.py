"""The event log: GET events/?after=SEQ."""

import pytest

from events.models import Event
from sessions_app import projects
from tests.conftest import assert_problem
from tests.factories import ProjectFactory
from tests.sessions_app.timer_helpers import API, iso

pytestmark = pytest.mark.django_db


def record_changes(client) -> None:
    """One change of each kind: project, task, session, settings, profile."""
    project = client.post(API + "projects/", {"name": "P"}, format="json").json()
    client.post(API + "tasks/", {"title": "T", "project": project["id"]}, format="json")
    session = client.post(API + "sessions/", {}, format="json").json()
    client.post(f"{API}sessions/{session['id']}/pause/")
    client.patch(API + "me/settings/", {"focus_minutes": 40}, format="json")
    client.patch(API + "me/", {"display_name": "Ada"}, format="json")


def test_seq_counts_every_kind_of_change_without_gaps(client, user):
    record_changes(client)

    response = client.get(API + "events/")

    assert response.status_code == 200
    body = response.json()
    assert [(e["seq"], e["type"]) for e in body["results"]] == [
        (1, "project.created"),
        (2, "task.created"),
        (3, "session.started"),
        (4, "session.paused"),
        (5, "settings.updated"),
        (6, "profile.updated"),
    ]
    assert body["last_seq"] == 6


def test_events_after_a_seq_oldest_first(client, user):
    record_changes(client)
    stored = {event.seq: event for event in Event.objects.filter(user=user)}

    response = client.get(API + "events/", {"after": 3})

    body = response.json()
    assert body == {
        "results": [
            {
                "seq": seq,
                "type": stored[seq].type,
                "at": iso(stored[seq].at),
                "data": stored[seq].data,
            }
            for seq in (4, 5, 6)
        ],
        "last_seq": 6,
    }
    assert body["results"][0]["data"]["session"]["state"] == "paused"


def test_events_after_the_last_seq_is_empty(client, user):
    record_changes(client)

    response = client.get(API + "events/", {"after": 6})

    assert response.json() == {"results": [], "last_seq": 6}


def test_a_new_user_has_no_events(client):
    response = client.get(API + "events/")

    assert response.json() == {"results": [], "last_seq": 0}


def test_at_most_500_events_a_call(client, user):
    project = ProjectFactory(user=user, name="a")
    for number in range(501):
        projects.project_update(user=user, project_id=project.pk, name=f"name {number}")

    first = client.get(API + "events/").json()
    rest = client.get(API + "events/", {"after": first["results"][-1]["seq"]}).json()

    assert [e["seq"] for e in first["results"]] == list(range(1, 501))
    assert first["last_seq"] == 501
    assert [e["seq"] for e in rest["results"]] == [501]
    assert rest["last_seq"] == 501


def test_another_users_events_are_invisible(client, user, other_client, other_user):
    record_changes(other_client)
    client.post(API + "projects/", {"name": "Mine"}, format="json")

    response = client.get(API + "events/")

    body = response.json()
    assert [(e["seq"], e["type"]) for e in body["results"]] == [(1, "project.created")]
    assert body["results"][0]["data"]["project"]["name"] == "Mine"
    assert body["last_seq"] == 1


@pytest.mark.parametrize("after", ["-1", "first", "1.5"])
def test_an_invalid_after_is_refused(client, after):
    response = client.get(API + "events/", {"after": after})

    body = assert_problem(response, 400, "invalid")
    assert list(body["errors"]) == ["after"]


def test_events_need_authentication(api_client):
    assert_problem(api_client.get(API + "events/"), 401, "not_authenticated")
