"""JSON bodies are type-strict (pomodoro/validation.py): a value of the wrong JSON type is a
400 `invalid` naming its field and changes nothing, where DRF alone would coerce it (0 into
the text "0", "yes" into true, "25" or 5.0 into an integer). Query parameters stay text."""

import pytest
from rest_framework import serializers

from integrations.models import Webhook
from pomodoro.validation import NOT_AN_OBJECT, validated
from tests.conftest import assert_problem, client_for
from tests.factories import (
    FinishedSessionFactory,
    ProjectFactory,
    TagFactory,
    TaskFactory,
    UserFactory,
)
from tests.schema_inventory import api_schema, request_body_properties
from tests.teams.helpers import team_with
from tests.test_input_limits import VALID_BODIES, client_as, snapshot

pytestmark = pytest.mark.django_db

# What each JSON type is sent instead, and the message it gets.
WRONG_VALUES = {
    "string": ([0, 1.5, True, ["x"], {"x": "y"}], "Not a valid string."),
    "integer": (["25", 5.0, True, [1]], "A valid integer is required."),
    "boolean": ([1, 0, "true", "yes"], "Must be a valid boolean."),
    "array": (
        ["task.created", 1, {"x": "y"}, True],
        lambda value: f'Expected a list of items but got type "{type(value).__name__}".',
    ),
    "object": (
        ["name", 1, True, ["x"]],
        lambda value: NOT_AN_OBJECT.format(type=type(value).__name__),
    ),
}
ANONYMOUS_PATHS = {
    "/api/v1/auth/register/",
    "/api/v1/auth/login/",
    "/api/v1/auth/refresh/",
    "/api/v1/auth/password/reset/",
    "/api/v1/auth/password/reset/confirm/",
}
GUEST_PATHS = {"/api/v1/auth/claim/"}
STRICT_VALID_BODIES = {
    **VALID_BODIES,
    "/api/v1/teams/{team_id}/members/{user_id}/": {"role": "admin"},
}


def body_fields() -> list[tuple[str, str, str, str, bool]]:
    """(method, path, field, JSON type, nullable) of every writable field of every request
    body in the OpenAPI schema, so that a new field is covered without being listed."""
    return [
        (method, path, name, prop["type"], bool(prop.get("nullable")))
        for method, path, name, prop in request_body_properties(api_schema())
        if not prop.get("readOnly")
    ]


BODY_FIELDS = body_fields()


def test_the_schema_lists_every_body_field():
    # a smoke check of the inventory the parametrized test below runs on
    assert len(BODY_FIELDS) >= 57
    assert {json_type for _, _, _, json_type, _ in BODY_FIELDS} == set(WRONG_VALUES)


@pytest.fixture
def path_ids(user) -> dict:
    project = ProjectFactory(user=user)
    member = UserFactory()
    return {
        "project": project.pk,
        "task": TaskFactory(user=user, project=project).pk,
        "tag": TagFactory(user=user).pk,
        "session": FinishedSessionFactory(user=user).pk,
        "team_id": team_with(user, member).pk,
        "user_id": member.pk,
        "webhook_id": Webhook.objects.create(
            user=user, url="https://hooks.example.com/x", secret="whsec_x"
        ).pk,
    }


def url(path: str, ids: dict) -> str:
    kind = path.split("/")[3]  # /api/v1/<kind>/{id}/
    named = {"projects": "project", "tasks": "task", "tags": "tag", "sessions": "session"}
    return path.format(id=ids.get(named.get(kind)), **ids)


@pytest.mark.parametrize(
    ("method", "path", "field", "json_type", "nullable"),
    BODY_FIELDS,
    ids=[f"{method} {path} {field}" for method, path, field, _, _ in BODY_FIELDS],
)
def test_a_body_value_of_the_wrong_json_type_is_400_invalid_and_changes_nothing(
    user, path_ids, method, path, field, json_type, nullable
):
    who = "anonymous" if path in ANONYMOUS_PATHS else "guest" if path in GUEST_PATHS else "user"
    client = client_as(who, user)
    wrong_values, message = WRONG_VALUES[json_type]
    sent = [(value, message(value) if callable(message) else message) for value in wrong_values]
    if not nullable:
        sent.append((None, "This field may not be null."))
    for value, expected in sent:
        # given a body that is valid but for one value of the wrong type
        body = {**STRICT_VALID_BODIES.get(path, {}), field: value}
        before = snapshot()

        # when it is sent
        response = getattr(client, method)(url(path, path_ids), body)

        # then the field is named, and nothing changed
        problem = assert_problem(response, 400, "invalid")
        assert problem["errors"] == {field: [expected]}, (value, problem["errors"])
        assert snapshot() == before, value


def test_every_type_error_of_a_body_is_reported_at_once(client):
    response = client.post("/api/v1/tasks/", {"title": 7, "archived": "no", "project": "1"})

    problem = assert_problem(response, 400, "invalid")
    assert problem["errors"] == {
        "title": ["Not a valid string."],
        "archived": ["Must be a valid boolean."],
        "project": ["A valid integer is required."],
    }


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("week_starts_on", 6, 6),
        ("day_starts_at", "04:30", "04:30"),
        ("leaderboard_opt_out", True, True),
        ("display_name", "", ""),
    ],
)
def test_a_body_value_of_the_right_json_type_is_accepted(client, field, value, stored):
    response = client.patch("/api/v1/me/", {field: value})

    assert response.status_code == 200, response.content
    assert response.json()[field] == stored


def test_a_null_is_accepted_where_the_field_allows_it(client, user):
    task = TaskFactory(user=user, daily_goal_minutes=30)

    response = client.patch(f"/api/v1/tasks/{task.pk}/", {"daily_goal_minutes": None})

    assert response.status_code == 200, response.content
    task.refresh_from_db()
    assert task.daily_goal_minutes is None


def test_query_parameters_are_text_and_are_still_read_as_their_types(client, user):
    TaskFactory(user=user, title="Open")
    TaskFactory(user=user, title="Done", archived=True)

    response = client.get("/api/v1/tasks/", {"archived": "true"})

    assert response.status_code == 200, response.content
    assert [task["title"] for task in response.json()["results"]] == ["Done"]
    events = client_for(user).get("/api/v1/events/", {"after": "0"})
    assert events.status_code == 200, events.content


def test_a_text_over_its_limit_with_whitespace_around_it_is_refused_as_sent(client):
    before = snapshot()

    response = client.post("/api/v1/teams/", {"name": "\u0085" + "x" * 100})

    problem = assert_problem(response, 400, "invalid")
    assert problem["errors"] == {"name": ["Ensure this field has no more than 100 characters."]}
    assert snapshot() == before


@pytest.mark.parametrize(
    ("path", "params", "field", "message"),
    [
        ("/api/v1/leaderboard/", {"period": ""}, "period", "This field may not be blank."),
        ("/api/v1/sessions/", {"to": ""}, "to", "This field may not be blank."),
        ("/api/v1/sessions/export/", {"format": ""}, "format", "This field may not be blank."),
        ("/api/v1/tasks/", {"archived": "null"}, "archived", "Must be a valid boolean."),
        ("/api/v1/tasks/", {"page_size": "null"}, "page_size", None),
        ("/api/v1/projects/", {"page_size": "0"}, "page_size", None),
        ("/api/v1/projects/", {"page_size": "2.0"}, "page_size", None),
    ],
)
def test_a_query_parameter_given_as_no_value_is_400_invalid_not_read_as_absent(
    client, path, params, field, message
):
    response = client.get(path, params)

    problem = assert_problem(response, 400, "invalid")
    assert list(problem["errors"]) == [field]
    if message is not None:
        assert problem["errors"][field] == [message]


class Nested(serializers.Serializer):
    count = serializers.IntegerField()


class WithNesting(serializers.Serializer):
    tags = serializers.ListField(child=serializers.CharField())
    inner = Nested()
    rows = Nested(many=True)


def test_nested_serializers_and_lists_are_checked_item_by_item():
    body = {"tags": ["a", 1], "inner": {"count": "2"}, "rows": [{"count": 1}, {"count": 1.0}]}

    with pytest.raises(serializers.ValidationError) as raised:
        validated(WithNesting, body)

    assert raised.value.detail == {
        "tags": {1: ["Not a valid string."]},
        "inner": {"count": ["A valid integer is required."]},
        "rows": {1: {"count": ["A valid integer is required."]}},
    }
