"""POST sessions/bulk/: many sessions changed or deleted at once, all or nothing, each
with its usual event."""

import pytest

from events.models import Event
from integrations.models import WebhookDelivery
from integrations.services import webhook_create
from sessions_app.models import Session
from tests.conftest import assert_problem
from tests.factories import FinishedSessionFactory, ProjectFactory, TagFactory, TaskFactory
from tests.sessions_app.timer_helpers import API, event_types, events, make_due, session_row

pytestmark = pytest.mark.django_db

BULK = API + "sessions/bulk/"


def bulk(client, **body):
    return client.post(BULK, body, format="json")


def rows(sessions) -> dict:
    return {session.pk: session_row(session.pk) for session in sessions}


def finished(user, count: int, **fields) -> list[Session]:
    return [FinishedSessionFactory(user=user, **fields) for _ in range(count)]


def test_update_changes_every_session_with_one_event_each(client, user):
    task = TaskFactory(user=user, project=ProjectFactory(user=user))
    sessions = finished(user, 3)

    response = bulk(
        client,
        ids=[s.pk for s in reversed(sessions)],
        action="update",
        changes={"task": task.pk, "name": "Report", "description": "draft"},
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"count": 3}
    stored = Session.objects.order_by("pk").values_list(
        "task_id", "project_id", "name", "description", "version"
    )
    assert list(stored) == [(task.pk, task.project_id, "Report", "draft", 2)] * 3
    recorded = events(user)
    assert [(e.type, e.data["session"]["id"]) for e in recorded] == [
        ("session.updated", s.pk) for s in sessions
    ]
    first = recorded[0].data["session"]
    assert (first["task"], first["project"], first["name"], first["version"]) == (
        task.pk,
        task.project_id,
        "Report",
        2,
    )


def test_add_and_remove_tags(client, user):
    a, b, c = TagFactory(user=user), TagFactory(user=user), TagFactory(user=user)
    one = FinishedSessionFactory(user=user, tag_ids=[a.pk])
    two = FinishedSessionFactory(user=user, tag_ids=[b.pk, c.pk])
    three = FinishedSessionFactory(user=user, tag_ids=[c.pk])

    response = bulk(
        client,
        ids=[one.pk, two.pk, three.pk],
        action="update",
        changes={"add_tags": [c.pk, a.pk], "remove_tags": [b.pk]},
    )

    assert response.json() == {"count": 3}
    assert dict(Session.objects.values_list("pk", "tag_ids")) == {
        one.pk: [a.pk, c.pk],
        two.pk: [a.pk, c.pk],
        three.pk: [a.pk, c.pk],
    }
    assert [e.data["session"]["tags"] for e in events(user)] == [[a.pk, c.pk]] * 3


def test_sessions_already_as_asked_are_left_alone(client, user):
    tag = TagFactory(user=user)
    tagged = FinishedSessionFactory(user=user, tag_ids=[tag.pk])
    plain = FinishedSessionFactory(user=user)

    response = bulk(
        client, ids=[tagged.pk, plain.pk], action="update", changes={"add_tags": [tag.pk]}
    )

    assert response.json() == {"count": 1}
    assert dict(Session.objects.values_list("pk", "version")) == {tagged.pk: 1, plain.pk: 2}
    assert [e.data["session"]["id"] for e in events(user)] == [plain.pk]


def test_delete_soft_deletes_each_with_its_event(client, user):
    sessions = finished(user, 3)

    response = bulk(client, ids=[s.pk for s in sessions] + [sessions[0].pk], action="delete")

    assert response.json() == {"count": 3}
    assert Session.objects.filter(deleted_at__isnull=True).count() == 0
    assert [(e.type, e.data["session"]["id"]) for e in events(user)] == [
        ("session.deleted", s.pk) for s in sessions
    ]
    assert client.get(API + "sessions/").json()["results"] == []


def test_delete_stops_the_active_session_first(client, user):
    old = FinishedSessionFactory(user=user)
    active = client.post(API + "sessions/", {}, format="json").json()

    response = bulk(client, ids=[old.pk, active["id"]], action="delete")

    assert response.json() == {"count": 2}
    assert [(e.type, e.data["session"]["id"]) for e in events(user)] == [
        ("session.started", active["id"]),
        ("session.stopped", active["id"]),
        ("session.deleted", active["id"]),
        ("session.deleted", old.pk),
    ]
    stored = Session.objects.get(pk=active["id"])
    assert (stored.state, stored.deleted_at is not None) == ("interrupted", True)


def test_update_completes_a_due_active_session_first(client, user):
    tag = TagFactory(user=user)
    active = client.post(API + "sessions/", {"planned_seconds": 60}, format="json").json()
    make_due(active["id"], seconds_ago=5)

    response = bulk(client, ids=[active["id"]], action="update", changes={"add_tags": [tag.pk]})

    assert response.json() == {"count": 1}
    assert event_types(user) == [
        (1, "session.started"),
        (2, "session.completed"),
        (3, "badge.earned"),  # a first pomodoro
        (4, "session.updated"),
    ]
    stored = Session.objects.get(pk=active["id"])
    assert (stored.state, stored.tag_ids, stored.version) == ("completed", [tag.pk], 3)


def test_one_session_of_another_user_is_404_and_changes_nothing(client, user, other_user):
    mine = finished(user, 2)
    theirs = FinishedSessionFactory(user=other_user)
    before = rows([*mine, theirs])

    for body in (
        {"action": "delete"},
        {"action": "update", "changes": {"name": "x"}},
    ):
        response = bulk(client, ids=[mine[0].pk, theirs.pk, mine[1].pk], **body)

        assert_problem(response, 404, "not_found")
        assert rows([*mine, theirs]) == before
        assert Event.objects.count() == 0


def test_a_deleted_session_is_404(client, user):
    kept = FinishedSessionFactory(user=user)
    gone = FinishedSessionFactory(user=user)
    bulk(client, ids=[gone.pk], action="delete")
    before = rows([kept])

    assert_problem(bulk(client, ids=[kept.pk, gone.pk], action="delete"), 404, "not_found")
    assert rows([kept]) == before
    assert len(events(user)) == 1


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"ids": [], "action": "delete"}, ["ids"]),
        ({"ids": list(range(1, 502)), "action": "delete"}, ["ids"]),
        ({"ids": [1], "action": "archive"}, ["action"]),
        ({"ids": [1], "action": "update"}, ["changes"]),
        ({"ids": [1], "action": "update", "changes": {}}, ["changes"]),
        ({"ids": [1], "action": "delete", "changes": {"name": "x"}}, ["changes"]),
    ],
)
def test_bad_bodies_are_refused(client, user, body, errors):
    session = FinishedSessionFactory(user=user)
    body["ids"] = [session.pk if i == 1 else i for i in body["ids"]]
    before = rows([session])

    problem = assert_problem(bulk(client, **body), 400, "invalid")

    assert list(problem["errors"]) == errors
    assert rows([session]) == before
    assert Event.objects.count() == 0


def test_references_that_are_not_yours_are_400_and_change_nothing(client, user, other_user):
    sessions = finished(user, 2)
    before = rows(sessions)
    mine = TagFactory(user=user)
    theirs = TagFactory(user=other_user)

    response = bulk(
        client,
        ids=[s.pk for s in sessions],
        action="update",
        changes={
            "task": TaskFactory(user=other_user).pk,
            "add_tags": [mine.pk],
            "remove_tags": [theirs.pk],
        },
    )

    problem = assert_problem(response, 400, "invalid")
    assert problem["errors"] == {
        "task": ["No such task of yours."],
        "tags": [f"No such tag of yours: {theirs.pk}."],
    }
    assert rows(sessions) == before
    assert Event.objects.count() == 0


def test_a_tag_both_added_and_removed_is_refused(client, user):
    session = FinishedSessionFactory(user=user)
    tag = TagFactory(user=user)

    problem = assert_problem(
        bulk(
            client,
            ids=[session.pk],
            action="update",
            changes={"add_tags": [tag.pk], "remove_tags": [tag.pk]},
        ),
        400,
        "invalid",
    )

    assert problem["errors"] == {"changes": [f"Tags both added and removed: {tag.pk}."]}
    assert Event.objects.count() == 0


def test_more_than_twenty_tags_on_a_session_is_refused(client, user):
    tags = [TagFactory(user=user).pk for _ in range(21)]
    full = FinishedSessionFactory(user=user, tag_ids=tags[:20])
    before = rows([full])

    problem = assert_problem(
        bulk(client, ids=[full.pk], action="update", changes={"add_tags": [tags[20]]}),
        400,
        "invalid",
    )

    assert list(problem["errors"]) == ["changes"]
    assert rows([full]) == before


@pytest.mark.parametrize("count", [5, 40])
def test_statements_do_not_grow_with_the_sessions(client, user, count, django_assert_num_queries):
    """One lock, one UPDATE, one statement inserting all the events and their webhook
    rows (events_record), whatever the number of sessions."""
    webhook_create(user=user, url="https://hooks.example.com/x", event_types=["*"])
    tag = TagFactory(user=user)
    ids = [s.pk for s in finished(user, count)]

    with django_assert_num_queries(7):
        response = bulk(client, ids=ids, action="update", changes={"add_tags": [tag.pk]})

    assert response.json() == {"count": count}
    assert Session.objects.filter(tag_ids__contains=[tag.pk]).count() == count
    recorded = events(user)
    assert [e.seq for e in recorded] == list(range(1, count + 1))
    assert list(WebhookDelivery.objects.order_by("pk").values_list("event_seq", "type")) == [
        (e.seq, "session.updated") for e in recorded
    ]
