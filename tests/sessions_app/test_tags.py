"""Tags through the REST API: CRUD, names unique ignoring case, ownership, events, and
deletion taking a tag off its sessions."""

import pytest

from events.models import Event
from sessions_app.models import Session, Tag
from tests.conftest import assert_problem
from tests.factories import FinishedSessionFactory, TagFactory
from tests.sessions_app.timer_helpers import API, events

pytestmark = pytest.mark.django_db

TAGS = API + "tags/"


def test_create_a_tag(client, user):
    response = client.post(TAGS, {"name": "deep work"}, format="json")

    assert response.status_code == 201
    tag = Tag.objects.get()
    assert response.json() == {"id": tag.pk, "name": "deep work", "color": "#6b7280"}
    assert tag.user == user
    [event] = events(user)
    assert (event.seq, event.type, event.data) == (1, "tag.created", {"tag": response.json()})


def test_create_a_tag_with_a_color(client):
    response = client.post(TAGS, {"name": "admin", "color": "#112233"}, format="json")

    assert response.status_code == 201
    assert response.json() == {"id": Tag.objects.get().pk, "name": "admin", "color": "#112233"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 51}, "name"),
        ({"name": "ok", "color": "blue"}, "color"),
    ],
)
def test_a_bad_tag_is_refused_and_nothing_is_written(client, user, payload, field):
    body = assert_problem(client.post(TAGS, payload, format="json"), 400, "invalid")

    assert list(body["errors"]) == [field]
    assert Tag.objects.count() == 0
    assert Event.objects.count() == 0


def test_names_are_unique_per_user_ignoring_case(client, user):
    TagFactory(user=user, name="Writing")

    body = assert_problem(client.post(TAGS, {"name": "wRITING"}, format="json"), 400, "invalid")

    assert body["errors"] == {
        "name": ["You already have a tag with this name (names ignore case)."]
    }
    assert list(Tag.objects.values_list("name", flat=True)) == ["Writing"]
    assert Event.objects.count() == 0


def test_another_user_may_use_the_same_name(client, other_user):
    TagFactory(user=other_user, name="writing")

    assert client.post(TAGS, {"name": "Writing"}, format="json").status_code == 201
    assert Tag.objects.count() == 2


def test_renaming_onto_another_tag_name_is_refused(client, user):
    TagFactory(user=user, name="reading")
    tag = TagFactory(user=user, name="writing")

    body = assert_problem(
        client.patch(f"{TAGS}{tag.pk}/", {"name": "READING"}, format="json"), 400, "invalid"
    )

    assert list(body["errors"]) == ["name"]
    tag.refresh_from_db()
    assert tag.name == "writing"
    assert Event.objects.count() == 0


def test_rename_a_tag_changing_only_its_case(client, user):
    tag = TagFactory(user=user, name="writing")

    response = client.patch(f"{TAGS}{tag.pk}/", {"name": "Writing"}, format="json")

    assert response.status_code == 200
    assert response.json() == {"id": tag.pk, "name": "Writing", "color": "#6b7280"}
    [event] = events(user)
    assert (event.type, event.data) == ("tag.updated", {"tag": response.json()})


def test_an_update_that_changes_nothing_records_no_event(client, user):
    tag = TagFactory(user=user, name="writing")

    response = client.patch(f"{TAGS}{tag.pk}/", {"name": "writing"}, format="json")

    assert response.status_code == 200
    assert Event.objects.count() == 0


def test_list_and_read_own_tags_only(client, user, other_user):
    mine = [TagFactory(user=user, name="b"), TagFactory(user=user, name="a")]
    theirs = TagFactory(user=other_user)

    listed = client.get(TAGS).json()
    assert listed["results"] == [{"id": t.pk, "name": t.name, "color": "#6b7280"} for t in mine]
    assert client.get(f"{TAGS}{mine[0].pk}/").json()["name"] == "b"
    assert_problem(client.get(f"{TAGS}{theirs.pk}/"), 404, "not_found")
    assert_problem(
        client.patch(f"{TAGS}{theirs.pk}/", {"name": "x"}, format="json"), 404, "not_found"
    )
    assert_problem(client.delete(f"{TAGS}{theirs.pk}/"), 404, "not_found")
    assert Tag.objects.filter(pk=theirs.pk).values_list("name", flat=True).get() == theirs.name
    assert Event.objects.count() == 0


def test_delete_a_tag_takes_it_off_its_sessions(client, user):
    kept, gone = TagFactory(user=user), TagFactory(user=user)
    tagged = [
        FinishedSessionFactory(user=user, tag_ids=[kept.pk, gone.pk]),
        FinishedSessionFactory(user=user, tag_ids=[gone.pk]),
    ]
    untouched = FinishedSessionFactory(user=user, tag_ids=[kept.pk])

    response = client.delete(f"{TAGS}{gone.pk}/")

    assert response.status_code == 204
    assert not Tag.objects.filter(pk=gone.pk).exists()
    rows = dict(Session.objects.values_list("pk", "tag_ids"))
    assert rows == {tagged[0].pk: [kept.pk], tagged[1].pk: [], untouched.pk: [kept.pk]}
    versions = dict(Session.objects.values_list("pk", "version"))
    assert versions == {tagged[0].pk: 2, tagged[1].pk: 2, untouched.pk: 1}
    [event] = events(user)
    assert (event.type, event.data) == (
        "tag.deleted",
        {"tag": {"id": gone.pk}, "sessions": sorted(s.pk for s in tagged)},
    )
    assert client.get(f"{API}sessions/{tagged[0].pk}/").json()["tags"] == [kept.pk]


def test_a_name_with_a_comma_is_refused(client, user):
    """Exports and imports list a session's tags in one comma-separated cell."""
    body = assert_problem(client.post(TAGS, {"name": "a, b"}, format="json"), 400, "invalid")

    assert body["errors"] == {"name": ["A tag name cannot hold a comma."]}
    assert Tag.objects.count() == 0
