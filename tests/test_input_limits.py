"""Every text a client can send has a length limit, enforced before anything is written:
one over the limit is a 400 `invalid` naming the field, and changes nothing."""

import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import CalendarFeed, PersonalAccessToken, User
from events.models import Event
from integrations.models import Webhook, WebhookDelivery
from sessions_app.models import Project, Session, Tag, Task
from teams.models import Invite, Membership, Team
from tests.conftest import assert_problem, client_for
from tests.factories import FinishedSessionFactory, ProjectFactory, TaskFactory, UserFactory
from tests.schema_inventory import api_schema, request_body_properties
from tests.teams.helpers import team_with

pytestmark = pytest.mark.django_db

PASSWORD = "a sturdy passphrase 42"


def too_long_email(max_length: int) -> str:
    domain = "@example.com"
    return "a" * (max_length + 1 - len(domain)) + domain


# (method, path, field, longest accepted, who sends it: "user", "guest" or "anonymous")
TEXT_FIELDS = [
    ("post", "/api/v1/auth/register/", "email", 254, "anonymous"),
    ("post", "/api/v1/auth/register/", "password", 128, "anonymous"),
    ("post", "/api/v1/auth/register/", "display_name", 100, "anonymous"),
    ("post", "/api/v1/auth/register/", "timezone", 64, "anonymous"),
    ("post", "/api/v1/auth/login/", "email", 254, "anonymous"),
    ("post", "/api/v1/auth/login/", "password", 128, "anonymous"),
    ("post", "/api/v1/auth/refresh/", "refresh", 2048, "anonymous"),
    ("post", "/api/v1/auth/logout/", "refresh", 2048, "user"),
    ("post", "/api/v1/auth/claim/", "email", 254, "guest"),
    ("post", "/api/v1/auth/claim/", "password", 128, "guest"),
    ("patch", "/api/v1/me/", "display_name", 100, "user"),
    ("patch", "/api/v1/me/", "timezone", 64, "user"),
    ("post", "/api/v1/projects/", "name", 100, "user"),
    ("post", "/api/v1/projects/", "description", 1000, "user"),
    ("post", "/api/v1/projects/", "color", 7, "user"),
    ("patch", "/api/v1/projects/{project}/", "name", 100, "user"),
    ("patch", "/api/v1/projects/{project}/", "description", 1000, "user"),
    ("post", "/api/v1/tasks/", "title", 200, "user"),
    ("patch", "/api/v1/tasks/{task}/", "title", 200, "user"),
    ("post", "/api/v1/sessions/", "name", 200, "user"),
    ("post", "/api/v1/sessions/", "description", 2000, "user"),
    ("patch", "/api/v1/sessions/{session}/", "name", 200, "user"),
    ("patch", "/api/v1/sessions/{session}/", "description", 2000, "user"),
    ("post", "/api/v1/sessions/log/", "name", 200, "user"),
    ("post", "/api/v1/sessions/log/", "description", 2000, "user"),
    ("post", "/api/v1/teams/", "name", 100, "user"),
    ("patch", "/api/v1/teams/{team}/", "name", 100, "user"),
    ("post", "/api/v1/teams/join/", "code", 64, "user"),
    ("post", "/api/v1/webhooks/", "url", 2000, "user"),
    ("patch", "/api/v1/webhooks/{webhook_id}/", "url", 2000, "user"),
]

VALID_BODIES = {
    "/api/v1/auth/register/": {"email": "new@example.com", "password": PASSWORD},
    "/api/v1/auth/login/": {"email": "new@example.com", "password": PASSWORD},
    "/api/v1/auth/claim/": {"email": "claimed@example.com", "password": PASSWORD},
    "/api/v1/tasks/": {"title": "Write"},
    "/api/v1/projects/": {"name": "Thesis"},
    "/api/v1/tags/": {"name": "reading"},
    "/api/v1/sessions/bulk/": {"ids": [1], "action": "delete"},
    "/api/v1/sessions/log/": {
        "started_at": "2026-01-05T09:00:00Z",
        "ended_at": "2026-01-05T09:25:00Z",
    },
    "/api/v1/teams/": {"name": "Squad"},
    "/api/v1/auth/password/change/": {
        "current_password": PASSWORD,
        "new_password": "another sturdy passphrase 9",
    },
    "/api/v1/auth/password/reset/": {"email": "new@example.com"},
    "/api/v1/auth/password/reset/confirm/": {
        "token": "MQ-abc-def",
        "new_password": "another sturdy passphrase 9",
    },
    "/api/v1/me/tokens/": {"name": "script", "scope": "read"},
    "/api/v1/webhooks/": {"url": "https://hooks.example.com/pomodoro"},
}


def snapshot() -> tuple:
    """Every row a request could have changed."""
    models = (
        User,
        Project,
        Task,
        Tag,
        Session,
        Event,
        Team,
        Membership,
        Invite,
        PersonalAccessToken,
        CalendarFeed,
        Webhook,
        WebhookDelivery,
    )
    return (
        *(list(model.objects.order_by("pk").values()) for model in models),
        OutstandingToken.objects.count(),
        BlacklistedToken.objects.count(),
    )


@pytest.fixture
def objects(user) -> dict:
    project = ProjectFactory(user=user)
    return {
        "project": project.pk,
        "task": TaskFactory(user=user, project=project).pk,
        "session": FinishedSessionFactory(user=user).pk,
        "team": team_with(user).pk,
        "webhook_id": Webhook.objects.create(
            user=user, url="https://hooks.example.com/x", secret="whsec_x"
        ).pk,
    }


def client_as(who: str, user):
    if who == "user":
        return client_for(user)
    if who == "guest":
        return client_for(UserFactory(email=None, is_guest=True))
    return client_for(user).__class__()  # an APIClient with no credentials


@pytest.mark.parametrize(
    ("method", "path", "field", "max_length", "who"),
    TEXT_FIELDS,
    ids=[f"{method} {path} {field}" for method, path, field, _, _ in TEXT_FIELDS],
)
def test_a_text_over_its_limit_is_400_invalid_and_changes_nothing(
    user, objects, method, path, field, max_length, who
):
    # given a body that is valid but for one text one character over its limit
    client = client_as(who, user)
    too_long = too_long_email(max_length) if field == "email" else "x" * (max_length + 1)
    body = {**VALID_BODIES.get(path, {}), field: too_long}
    before = snapshot()

    # when it is sent
    response = getattr(client, method)(path.format(**objects), body)

    # then the field is named, and nothing changed
    problem = assert_problem(response, 400, "invalid")
    assert list(problem["errors"]) == [field], problem["errors"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("path", "field", "max_length"),
    [
        ("/api/v1/projects/", "name", 100),
        ("/api/v1/projects/", "description", 1000),
        ("/api/v1/tasks/", "title", 200),
        ("/api/v1/sessions/", "description", 2000),
        ("/api/v1/teams/", "name", 100),
    ],
)
def test_a_text_at_its_limit_is_accepted(client, path, field, max_length):
    body = {**VALID_BODIES.get(path, {}), field: "é" * max_length}

    response = client.post(path, body)

    assert response.status_code == 201, response.content
    assert response.json().get(field, body[field]) == body[field]


def test_an_idempotency_key_over_128_characters_is_400_invalid_and_changes_nothing(client):
    before = snapshot()

    response = client.post("/api/v1/sessions/", {}, HTTP_IDEMPOTENCY_KEY="k" * 129)

    problem = assert_problem(response, 400, "invalid")
    assert problem["errors"] == {"Idempotency-Key": ["Must be 1 to 128 characters."]}
    assert snapshot() == before


def test_every_string_a_request_body_accepts_is_bounded_in_the_schema():
    # A new text field without max_length would show here as an unbounded string.
    schema = api_schema()
    unbounded = []
    for method, path, name, prop in request_body_properties(schema):
        if prop.get("type") != "string" or prop.get("readOnly"):
            continue
        # bounded: a length, a closed set, or a fixed-shape format or pattern
        if not (
            "maxLength" in prop
            or "enum" in prop
            or prop.get("format") in {"date", "date-time", "time"}
            or prop.get("pattern", "").endswith("$")
        ):
            unbounded.append(f"{method.upper()} {path} {name}")
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                # If-Match must be a quoted version of at most 19 digits (sessions_app.api)
                if (
                    parameter["in"] == "header"
                    and parameter["name"] != "If-Match"
                    and "maxLength" not in parameter["schema"]
                ):
                    unbounded.append(f"{method.upper()} {path} header {parameter['name']}")

    assert unbounded == []
