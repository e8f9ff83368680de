"""Every answer is the one /api/schema/ documents, errors included (docs/api.md, "Fuzzing").

For every operation of the generated schema and every status it documents, a real request
provokes that status through the test client on PostgreSQL, and the answer is checked
against the documentation of that status: its content type is one documented, its body
validates against the schema for that content type, and the headers documented as
required are there. The schema is the closed one (fuzz/closed_schema.py), so an answer
carrying a member that its schema does not list fails. A documented status that no case
here provokes fails too, unless UNPROVOKED says why it cannot be.
"""

import copy
import datetime
import hashlib
import json
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import jsonschema_rs
import pytest
from django.db import OperationalError, connection
from psycopg import errors as pg_errors
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.tokens import token_pair_for
from fuzz.closed_schema import closed
from integrations import services as webhook_services
from pomodoro import idempotency
from pomodoro.body_limit import body_limit
from pomodoro.settings.base import RATE_LIMIT_DEFAULTS
from teams import services as team_services
from tests.conftest import client_for
from tests.factories import (
    PASSWORD,
    FinishedSessionFactory,
    ProjectFactory,
    TagFactory,
    TaskFactory,
    UserFactory,
)
from tests.schema_inventory import api_schema, json_schema
from tests.teams.helpers import team_with

pytestmark = pytest.mark.django_db

# As served: JSON (the generator's own objects hold lazy and safe strings).
SCHEMA = closed(json.loads(json.dumps(api_schema(), default=str)))
METHODS = ("get", "post", "put", "patch", "delete")
MISSING_ID = 987654321


def operations() -> list[tuple[str, str, dict]]:
    return [
        (method, path, operation)
        for path, path_item in SCHEMA["paths"].items()
        for method, operation in path_item.items()
        if method in METHODS
    ]


# --- Checking an answer against its documentation -------------------------------------


def body_of(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def schema_errors(schema: dict, instance: object, document: dict = SCHEMA) -> list[str]:
    """What is wrong with `instance` by `schema`, a schema of the OpenAPI `document`."""

    def errors(schema: dict) -> list[str]:
        validator = jsonschema_rs.Draft202012Validator(
            json_schema(document, schema), validate_formats=True
        )
        return [f"at {list(e.instance_path)}: {e.message}" for e in validator.iter_errors(instance)]

    found = errors(schema)
    # A oneOf of problem shapes says only that no shape fits: the shape its `code` names
    # says what is wrong.
    mapping = schema.get("discriminator", {}).get("mapping", {})
    if found and isinstance(instance, dict) and instance.get("code") in mapping:
        found = errors({"$ref": mapping[instance["code"]]}) or found
    return found


def assert_documented(response, method: str, path: str) -> None:
    """The answer is one the schema documents for `method` `path`, exactly."""
    status = str(response.status_code)
    documented = SCHEMA["paths"][path][method]["responses"].get(status)
    assert documented is not None, f"{method.upper()} {path} answered undocumented {status}"
    body = body_of(response)
    content = documented.get("content", {})
    if not content:
        assert body == b"", body
    else:
        media_type = response["Content-Type"].split(";")[0].strip()
        assert media_type in content, (media_type, list(content))
        instance = json.loads(body) if media_type.endswith("json") else body.decode()
        errors = schema_errors(content[media_type]["schema"], instance)
        assert not errors, (method, path, status, errors, instance)
    for name, header in documented.get("headers", {}).items():
        if header.get("required"):
            assert response.has_header(name), (method, path, status, name)
        if response.has_header(name):
            value = response[name]
            typed = int(value) if header["schema"]["type"] == "integer" else value
            assert not schema_errors(header["schema"], typed), (name, value)


# --- The world the requests act on ----------------------------------------------------


class World:
    """The signed-in user and their objects, each made (as users make them) when a case
    first needs it; and the settings, which pytest-django restores after the test."""

    def __init__(self, user, settings, rate_limits):
        self.user = user
        self.settings = settings
        self.rate_limits = rate_limits  # the fixture: rate_limits(scope="1/minute")
        self.client = client_for(user)

    @cached_property
    def project(self) -> int:
        return ProjectFactory(user=self.user).pk

    @cached_property
    def task(self) -> int:
        return TaskFactory(user=self.user, project_id=self.project).pk

    @cached_property
    def tag(self) -> int:
        return TagFactory(user=self.user, name="deep work").pk

    @cached_property
    def finished(self) -> int:
        """A completed session."""
        return FinishedSessionFactory(user=self.user).pk

    @cached_property
    def member(self):
        """A plain member of `team`."""
        return UserFactory()

    @cached_property
    def team(self) -> int:
        return team_with(self.user, self.member).pk

    @cached_property
    def pat(self) -> int:
        token, _secret = account_services.personal_token_create(
            user=self.user, name="script", scope="write"
        )
        return token.pk

    @cached_property
    def webhook(self) -> int:
        return webhook_services.webhook_create(
            user=self.user, url="https://hooks.example.com/pomodoro", event_types=["*"]
        ).pk

    @cached_property
    def calendar(self) -> str:
        return account_services.calendar_feed_create(user=self.user)

    @cached_property
    def invite(self) -> str:
        return team_services.invite_create(user=self.user, team_id=self.team, max_uses=10).code

    def url(self, path: str, **ids) -> str:
        """`path` with its parameters naming the user's objects, unless given in `ids`."""
        kind = path.split("/")[3]  # /api/v1/<kind>/...
        own = {"projects": "project", "tasks": "task", "tags": "tag", "sessions": "finished"}
        named = {
            "id": own.get(kind),
            "team_id": "team",
            "code": "invite",
            "token_id": "pat",
            "token": "calendar",
            "webhook_id": "webhook",
        }
        for _, name, _, _ in string.Formatter().parse(path):
            if name and name not in ids:
                ids[name] = self.member.pk if name == "user_id" else getattr(self, named[name])
        return path.format(**ids)

    def session(self, **body) -> int:
        """A new session of the user (running unless start is false), through the API."""
        response = self.client.post(API + "/sessions/", body)
        assert response.status_code == 201, response.content
        return response.json()["id"]


@pytest.fixture
def world(user, settings, rate_limits) -> World:
    rate_limits(**dict.fromkeys(RATE_LIMIT_DEFAULTS))  # off, unless a case turns them on
    return World(user, settings, rate_limits)


# --- Cases: one request that provokes one documented status ---------------------------

Send = Callable[[World], object]


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    status: int
    label: str
    send: Send

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.path} {self.status} {self.label}"


API = "/api/v1"
CASES: list[Case] = []


def case(method: str, path: str, status: int, label: str = "") -> Callable[[Send], Send]:
    def register(send: Send) -> Send:
        CASES.append(Case(method, API + path, status, label, send))
        return send

    return register


def call(client: APIClient, method: str, url: str, body=None, **headers):
    if method in ("get", "delete"):
        return getattr(client, method)(url, **headers)
    if isinstance(body, bytes):  # a CSV upload (sessions/import/)
        return client.generic(method.upper(), url, body, content_type="text/csv", **headers)
    return getattr(client, method)(url, body if body is not None else {}, format="json", **headers)


# Bodies that a write accepts, for the cases that need one to pass validation.
def valid_body(world: World, method: str, path: str) -> dict | bytes:
    return {
        (API + "/auth/register/"): {"email": "new@example.com", "password": PASSWORD},
        (API + "/auth/login/"): {"email": world.user.email, "password": PASSWORD},
        (API + "/auth/claim/"): {"email": "claimed@example.com", "password": PASSWORD},
        (API + "/auth/refresh/"): {"refresh": token_pair_for(world.user)["refresh"]},
        (API + "/auth/logout/"): {"refresh": token_pair_for(world.user)["refresh"]},
        (API + "/projects/"): {"name": "Thesis"},
        (API + "/tasks/"): {"title": "Write"},
        (API + "/tags/"): {"name": "reading"},
        (API + "/sessions/bulk/"): {
            "ids": [world.finished],
            "action": "update",
            "changes": {"name": "Renamed"},
        },
        (API + "/sessions/log/"): {
            "started_at": "2026-01-05T09:00:00Z",
            "ended_at": "2026-01-05T09:25:00Z",
        },
        (API + "/sessions/import/"): (
            b"User,Email,Client,Project,Task,Description,Billable,Start date,Start time,"
            b"End date,End time,Duration,Tags\n"
            b",,,Thesis,,Draft,No,2026-01-05,09:00:00,2026-01-05,09:25:00,00:25:00,deep\n"
        ),
        (API + "/teams/"): {"name": "Squad"},
        (API + "/teams/join/"): {"code": world.invite},
        (API + "/teams/{team_id}/members/{user_id}/"): {"role": "admin"},
        (API + "/auth/password/change/"): {
            "current_password": PASSWORD,
            "new_password": "a-whole-new-passphrase",
        },
        (API + "/auth/password/reset/"): {"email": world.user.email},
        (API + "/auth/password/reset/confirm/"): {
            "token": account_services.password_reset_token(world.user),
            "new_password": "a-whole-new-passphrase",
        },
        (API + "/me/tokens/"): {"name": "script", "scope": "read"},
        (API + "/webhooks/"): {"url": "https://hooks.example.com/pomodoro"},
        (API + "/webhooks/{webhook_id}/"): {"active": False},
        (API + "/me/"): {"password": PASSWORD} if method == "delete" else {},
    }.get(path, {})


# -- Success answers --


def _sent_valid(method: str, path: str, client=None):
    def send(w):
        url = w.url(API + path)
        return call(client or w.client, method, url, valid_body(w, method, API + path))

    return send


@case("delete", "/me/", 204)
def _(w):
    guest = account_services.guest_create()[0]
    return client_for(guest).delete(API + "/me/", {}, format="json")


@case("delete", "/me/", 400, "wrong password")
def _(w):
    return w.client.delete(API + "/me/", {"password": "not the password"}, format="json")


for _method, _path, _status in [
    ("post", "/auth/password/change/", 200),
    ("post", "/auth/password/reset/", 202),
    ("post", "/auth/password/reset/confirm/", 204),
    ("get", "/me/export/", 200),
    ("get", "/me/tokens/", 200),
    ("post", "/me/tokens/", 201),
    ("delete", "/me/tokens/{token_id}/", 204),
    ("post", "/me/calendar/", 201),
    ("delete", "/me/calendar/", 204),
    ("get", "/calendar/{token}.ics", 200),
    ("get", "/webhooks/", 200),
    ("post", "/webhooks/", 201),
    ("get", "/webhooks/{webhook_id}/", 200),
    ("patch", "/webhooks/{webhook_id}/", 200),
    ("delete", "/webhooks/{webhook_id}/", 204),
    ("get", "/webhooks/{webhook_id}/deliveries/", 200),
    ("post", "/webhooks/{webhook_id}/test/", 202),
]:
    case(_method, _path, _status)(_sent_valid(_method, _path))


@case("get", "/analytics/heatmap/", 200)
def _(w):
    return w.client.get(API + "/analytics/heatmap/", {"from": "2026-01-01", "to": "2026-01-07"})


@case("post", "/sessions/import/", 200)
def _(w):
    return call(
        w.client,
        "post",
        API + "/sessions/import/",
        valid_body(w, "post", API + "/sessions/import/"),
    )


@case("get", "/analytics/report/", 200)
def _(w):
    w.session()
    today = datetime.date.today()
    return w.client.get(
        API + "/analytics/report/",
        {
            "from": (today - datetime.timedelta(days=1)).isoformat(),
            "to": today.isoformat(),
            "group_by": "task,day",
        },
    )


@case("get", "/analytics/report/", 400, "to more than 366 days after from")
def _(w):
    return w.client.get(
        API + "/analytics/report/", {"from": "2025-01-01", "to": "2026-01-03", "group_by": "day"}
    )


@case("get", "/analytics/streak/", 200)
def _(w):
    return w.client.get(API + "/analytics/streak/")


@case("get", "/analytics/summary/", 200)
def _(w):
    return w.client.get(API + "/analytics/summary/", {"period": "week"})


@case("post", "/auth/claim/", 200)
def _(w):
    guest = client_for(UserFactory(email=None, is_guest=True))
    return guest.post(API + "/auth/claim/", valid_body(w, "post", API + "/auth/claim/"))


@case("post", "/auth/guest/", 201)
def _(w):
    return APIClient().post(API + "/auth/guest/")


@case("post", "/auth/login/", 200)
def _(w):
    return APIClient().post(API + "/auth/login/", valid_body(w, "post", API + "/auth/login/"))


@case("post", "/auth/login/", 401, "wrong password")
def _(w):
    return APIClient().post(API + "/auth/login/", {"email": w.user.email, "password": "wrong!"})


@case("post", "/auth/logout/", 204)
def _(w):
    return APIClient().post(API + "/auth/logout/", valid_body(w, "post", API + "/auth/logout/"))


@case("post", "/auth/logout/", 401, "forged token")
def _(w):
    return APIClient().post(API + "/auth/logout/", {"refresh": "not-a-token"})


@case("post", "/auth/refresh/", 200)
def _(w):
    return APIClient().post(API + "/auth/refresh/", valid_body(w, "post", API + "/auth/refresh/"))


@case("post", "/auth/refresh/", 401, "forged token")
def _(w):
    return APIClient().post(API + "/auth/refresh/", {"refresh": "not-a-token"})


@case("post", "/auth/register/", 201)
def _(w):
    return APIClient().post(API + "/auth/register/", valid_body(w, "post", API + "/auth/register/"))


@case("get", "/events/", 200)
def _(w):
    w.session()
    return w.client.get(API + "/events/", {"after": 0})


@case("get", "/leaderboard/", 200)
def _(w):
    return w.client.get(API + "/leaderboard/", {"period": "week"})


@case("get", "/me/", 200)
def _(w):
    return w.client.get(API + "/me/")


@case("patch", "/me/", 200)
def _(w):
    return w.client.patch(API + "/me/", {"display_name": "Ada", "day_starts_at": "04:30"})


@case("get", "/me/settings/", 200)
def _(w):
    return w.client.get(API + "/me/settings/")


@case("patch", "/me/settings/", 200)
def _(w):
    return w.client.patch(API + "/me/settings/", {"daily_goal_minutes": 120})


@case("get", "/projects/", 200)
def _(w):
    return w.client.get(API + "/projects/", {"page_size": 1})


@case("post", "/projects/", 201)
def _(w):
    return w.client.post(API + "/projects/", {"name": "Thesis", "color": "#aabbcc"})


@case("get", "/projects/{id}/", 200)
def _(w):
    return w.client.get(w.url(API + "/projects/{id}/"))


@case("patch", "/projects/{id}/", 200)
def _(w):
    return w.client.patch(w.url(API + "/projects/{id}/"), {"description": "Chapter one"})


@case("delete", "/projects/{id}/", 204)
def _(w):
    return w.client.delete(w.url(API + "/projects/{id}/"))


@case("get", "/tags/", 200)
def _(w):
    w.tag  # noqa: B018 (made on first use)
    return w.client.get(API + "/tags/", {"page_size": 1})


@case("post", "/tags/", 201)
def _(w):
    return w.client.post(API + "/tags/", {"name": "reading", "color": "#aabbcc"})


@case("post", "/tags/", 400, "name taken, ignoring case")
def _(w):
    w.tag  # noqa: B018 (made on first use)
    return w.client.post(API + "/tags/", {"name": "DEEP WORK"})


@case("get", "/tags/{id}/", 200)
def _(w):
    return w.client.get(w.url(API + "/tags/{id}/"))


@case("patch", "/tags/{id}/", 200)
def _(w):
    return w.client.patch(w.url(API + "/tags/{id}/"), {"color": "#123456"})


@case("patch", "/tags/{id}/", 400, "name taken, ignoring case")
def _(w):
    TagFactory(user=w.user, name="reading")
    return w.client.patch(w.url(API + "/tags/{id}/"), {"name": "Reading"})


@case("delete", "/tags/{id}/", 204)
def _(w):
    FinishedSessionFactory(user=w.user, tag_ids=[w.tag])
    return w.client.delete(w.url(API + "/tags/{id}/"))


@case("post", "/realtime/ticket/", 201)
def _(w):
    return w.client.post(API + "/realtime/ticket/")


@case("get", "/sessions/", 200)
def _(w):
    w.session()
    return w.client.get(API + "/sessions/", {"page_size": 1})


@case("post", "/sessions/", 201)
def _(w):
    return w.client.post(API + "/sessions/", {"task": w.task, "name": "Draft"})


@case("post", "/sessions/", 400, "no such task")
def _(w):
    return w.client.post(API + "/sessions/", {"task": MISSING_ID})


@case("post", "/sessions/", 409, "active_session_exists")
def _(w):
    w.session(start=False)
    response = w.client.post(API + "/sessions/", {})
    assert "active_session" in response.json()
    return response


@case("post", "/sessions/", 201, "replayed for its Idempotency-Key")
def _(w):
    first = w.client.post(API + "/sessions/", {}, HTTP_IDEMPOTENCY_KEY="once")
    response = w.client.post(API + "/sessions/", {}, HTTP_IDEMPOTENCY_KEY="once")
    assert response["Idempotent-Replayed"] == "true"
    assert response["ETag"] == first["ETag"]
    return response


@case("post", "/projects/", 201, "with rate limits on")
def _(w):
    w.rate_limits()  # the production defaults
    response = w.client.post(API + "/projects/", {"name": "Thesis"})
    assert response["RateLimit-Remaining"] == str(int(response["RateLimit-Limit"]) - 1)
    return response


@case("get", "/sessions/{id}/", 200)
def _(w):
    return w.client.get(w.url(API + "/sessions/{id}/"))


@case("patch", "/sessions/{id}/", 200)
def _(w):
    return w.client.patch(w.url(API + "/sessions/{id}/"), {"name": "Renamed"})


@case("patch", "/sessions/{id}/", 200, "with a project and tags")
def _(w):
    body = {"task": w.task, "project": w.project, "tags": [w.tag]}
    response = w.client.patch(w.url(API + "/sessions/{id}/"), body)
    assert (response.json()["project"], response.json()["tags"]) == (w.project, [w.tag])
    return response


@case("patch", "/sessions/{id}/", 400, "a tag that is not yours")
def _(w):
    return w.client.patch(w.url(API + "/sessions/{id}/"), {"tags": [MISSING_ID]})


@case("patch", "/sessions/{id}/", 412, "version_mismatch")
def _(w):
    response = w.client.patch(
        w.url(API + "/sessions/{id}/"), {"name": "Renamed"}, HTTP_IF_MATCH='"99"'
    )
    assert "session" in response.json()
    return response


def finished_started_at(w) -> datetime.datetime:
    return datetime.datetime.fromisoformat(
        w.client.get(w.url(API + "/sessions/{id}/")).json()["started_at"]
    )


@case("patch", "/sessions/{id}/", 200, "corrected times")
def _(w):
    ended_at = finished_started_at(w) + datetime.timedelta(minutes=10)
    return w.client.patch(w.url(API + "/sessions/{id}/"), {"ended_at": ended_at.isoformat()})


@case("patch", "/sessions/{id}/", 400, "an end in the future")
def _(w):
    return w.client.patch(w.url(API + "/sessions/{id}/"), {"ended_at": "2999-01-01T00:00:00Z"})


@case("patch", "/sessions/{id}/", 409, "overlap")
def _(w):
    started_at = finished_started_at(w)
    entry = {
        "started_at": (started_at - datetime.timedelta(minutes=30)).isoformat(),
        "ended_at": (started_at - datetime.timedelta(minutes=10)).isoformat(),
    }
    assert w.client.post(API + "/sessions/log/", entry).status_code == 201
    corrected = (started_at - datetime.timedelta(minutes=20)).isoformat()
    response = w.client.patch(w.url(API + "/sessions/{id}/"), {"started_at": corrected})
    assert "overlapping_session" in response.json()
    return response


@case("post", "/sessions/{id}/stop/", 200, "at a past moment")
def _(w):
    session = w.session(kind="stopwatch")
    return w.client.post(
        w.url(API + "/sessions/{id}/stop/", id=session),
        {"at": w.client.get(w.url(API + "/sessions/{id}/", id=session)).json()["started_at"]},
    )


@case("post", "/sessions/{id}/stop/", 400, "at in the future")
def _(w):
    session = w.session()
    return w.client.post(
        w.url(API + "/sessions/{id}/stop/", id=session), {"at": "2999-01-01T00:00:00Z"}
    )


@case("delete", "/sessions/{id}/", 204)
def _(w):
    return w.client.delete(w.url(API + "/sessions/{id}/", id=w.session()))


def transition(action: str, *, start: bool | None):
    """POST sessions/{id}/<action>/ on a new running or paused session, or (None) on the
    finished one."""

    def send(w: World):
        session = w.finished if start is None else w.session(start=start)
        return w.client.post(w.url(f"{API}/sessions/{{id}}/{action}/", id=session))

    return send


for action, status, start in [
    ("start", 200, False),
    ("pause", 200, True),
    ("stop", 200, True),
    ("reset", 201, True),
]:
    case("post", f"/sessions/{{id}}/{action}/", status)(transition(action, start=start))
for action in ("start", "pause", "reset"):
    case("post", f"/sessions/{{id}}/{action}/", 409, "invalid_transition")(
        transition(action, start=None)
    )


@case("get", "/sessions/active/", 200)
def _(w):
    w.session()
    return w.client.get(API + "/sessions/active/")


@case("get", "/sessions/active/", 204, "none active")
def _(w):
    return w.client.get(API + "/sessions/active/")


@case("get", "/sessions/export/", 200, "csv")
def _(w):
    return w.client.get(API + "/sessions/export/", {"format": "csv"})


@case("get", "/sessions/export/", 200, "json")
def _(w):
    return w.client.get(API + "/sessions/export/", {"format": "json"})


@case("post", "/sessions/log/", 201)
def _(w):
    return w.client.post(API + "/sessions/log/", valid_body(w, "post", API + "/sessions/log/"))


@case("post", "/sessions/log/", 400, "no such task")
def _(w):
    body = {**valid_body(w, "post", API + "/sessions/log/"), "task": MISSING_ID}
    return w.client.post(API + "/sessions/log/", body)


@case("post", "/sessions/log/", 409, "overlap")
def _(w):
    body = valid_body(w, "post", API + "/sessions/log/")
    assert w.client.post(API + "/sessions/log/", body).status_code == 201
    response = w.client.post(API + "/sessions/log/", body)
    assert "overlapping_session" in response.json()
    return response


@case("post", "/sessions/bulk/", 200)
def _(w):
    body = {"ids": [w.finished], "action": "update", "changes": {"add_tags": [w.tag]}}
    response = w.client.post(API + "/sessions/bulk/", body)
    assert response.json() == {"count": 1}
    return response


@case("post", "/sessions/bulk/", 200, "delete")
def _(w):
    return w.client.post(API + "/sessions/bulk/", {"ids": [w.finished], "action": "delete"})


@case("post", "/sessions/bulk/", 400, "a task that is not yours")
def _(w):
    body = {"ids": [w.finished], "action": "update", "changes": {"task": MISSING_ID}}
    return w.client.post(API + "/sessions/bulk/", body)


@case("post", "/sessions/bulk/", 404, "a session that is not yours")
def _(w):
    return w.client.post(
        API + "/sessions/bulk/", {"ids": [w.finished, MISSING_ID], "action": "delete"}
    )


@case("get", "/sessions/next/", 200)
def _(w):
    return w.client.get(API + "/sessions/next/")


@case("get", "/tasks/", 200)
def _(w):
    return w.client.get(API + "/tasks/", {"archived": "false"})


@case("post", "/tasks/", 201)
def _(w):
    return w.client.post(API + "/tasks/", {"title": "Write", "project": w.project})


@case("post", "/tasks/", 400, "no such project")
def _(w):
    return w.client.post(API + "/tasks/", {"title": "Write", "project": MISSING_ID})


@case("get", "/tasks/{id}/", 200)
def _(w):
    return w.client.get(w.url(API + "/tasks/{id}/"))


@case("patch", "/tasks/{id}/", 200)
def _(w):
    return w.client.patch(w.url(API + "/tasks/{id}/"), {"daily_goal_minutes": 50})


@case("delete", "/tasks/{id}/", 204)
def _(w):
    return w.client.delete(w.url(API + "/tasks/{id}/"))


@case("get", "/teams/", 200)
def _(w):
    return w.client.get(API + "/teams/")


@case("post", "/teams/", 201)
def _(w):
    return w.client.post(API + "/teams/", {"name": "Squad"})


@case("post", "/teams/", 409, "limit_reached")
def _(w):
    assert w.team  # the one team the user may be in
    w.settings.TEAMS_PER_USER = 1
    return w.client.post(API + "/teams/", {"name": "Squad"})


@case("get", "/teams/{team_id}/", 200)
def _(w):
    return w.client.get(w.url(API + "/teams/{team_id}/"))


@case("patch", "/teams/{team_id}/", 200)
def _(w):
    return w.client.patch(w.url(API + "/teams/{team_id}/"), {"name": "Renamed"})


@case("delete", "/teams/{team_id}/", 204)
def _(w):
    return w.client.delete(w.url(API + "/teams/{team_id}/"))


@case("get", "/teams/{team_id}/invites/", 200)
def _(w):
    return w.client.get(w.url(API + "/teams/{team_id}/invites/"))


@case("post", "/teams/{team_id}/invites/", 201)
def _(w):
    return w.client.post(w.url(API + "/teams/{team_id}/invites/"), {"max_uses": 5})


@case("delete", "/teams/{team_id}/invites/{code}/", 204)
def _(w):
    return w.client.delete(w.url(API + "/teams/{team_id}/invites/{code}/"))


@case("get", "/teams/{team_id}/leaderboard/", 200)
def _(w):
    return w.client.get(w.url(API + "/teams/{team_id}/leaderboard/"), {"period": "week"})


@case("get", "/teams/{team_id}/members/", 200)
def _(w):
    return w.client.get(w.url(API + "/teams/{team_id}/members/"))


@case("patch", "/teams/{team_id}/members/{user_id}/", 200)
def _(w):
    return w.client.patch(w.url(API + "/teams/{team_id}/members/{user_id}/"), {"role": "admin"})


@case("patch", "/teams/{team_id}/members/{user_id}/", 409, "last owner steps down")
def _(w):
    url = w.url(API + "/teams/{team_id}/members/{user_id}/", user_id=w.user.pk)
    return w.client.patch(url, {"role": "member"})


@case("delete", "/teams/{team_id}/members/{user_id}/", 204)
def _(w):
    return w.client.delete(w.url(API + "/teams/{team_id}/members/{user_id}/"))


@case("delete", "/teams/{team_id}/members/{user_id}/", 409, "last owner leaves")
def _(w):
    return w.client.delete(w.url(API + "/teams/{team_id}/members/{user_id}/", user_id=w.user.pk))


@case("get", "/teams/{team_id}/status/", 200)
def _(w):
    url = w.url(API + "/teams/{team_id}/status/")
    w.session()
    return w.client.get(url)


@case("post", "/teams/join/", 201)
def _(w):
    return client_for(UserFactory()).post(API + "/teams/join/", {"code": w.invite})


@case("post", "/teams/join/", 200, "already a member")
def _(w):
    return client_for(w.member).post(API + "/teams/join/", {"code": w.invite})


@case("post", "/teams/join/", 400, "unknown code")
def _(w):
    return w.client.post(API + "/teams/join/", {"code": "no-such-code"})


@case("post", "/teams/join/", 409, "limit_reached")
def _(w):
    w.settings.TEAM_MAX_MEMBERS = 2
    return client_for(UserFactory()).post(API + "/teams/join/", {"code": w.invite})


# A plain member may read the team but not manage it.
for method, path in [
    ("patch", "/teams/{team_id}/"),
    ("delete", "/teams/{team_id}/"),
    ("get", "/teams/{team_id}/invites/"),
    ("post", "/teams/{team_id}/invites/"),
    ("delete", "/teams/{team_id}/invites/{code}/"),
    ("patch", "/teams/{team_id}/members/{user_id}/"),
    ("delete", "/teams/{team_id}/members/{user_id}/"),
]:

    def as_plain_member(w, method=method, path=API + path):
        # the member acts on the owner, where the path names a member
        url = w.url(path, user_id=w.user.pk)
        return call(client_for(w.member), method, url, valid_body(w, method, path) or {"name": "X"})

    case(method, path, 403, "a plain member")(as_plain_member)


# -- What every operation of a shape answers, from the schema --


def requires_auth(operation: dict) -> bool:
    return {} not in operation.get("security", [{}])


def parameter_names(operation: dict, location: str) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == location]


def idempotent(operation: dict) -> bool:
    return "Idempotency-Key" in parameter_names(operation, "header")


def generic_cases(method: str, path: str, operation: dict) -> list[Case]:
    documented = set(operation["responses"])
    template = path
    cases = []

    def add(status: int, label: str, send: Send) -> None:
        if str(status) in documented:
            cases.append(Case(method, template, status, label, send))

    def key(operation=operation) -> dict:
        return {"HTTP_IDEMPOTENCY_KEY": "documented-answers"} if idempotent(operation) else {}

    if requires_auth(operation):
        add(401, "no token", lambda w: call(APIClient(), method, w.url(template)))
        add(401, "forged token", lambda w: call(forged(), method, w.url(template)))

        def csrf(w):
            client = APIClient(enforce_csrf_checks=True)
            client.force_login(w.user)
            return call(client, method, w.url(template), valid_body(w, method, template))

        if method != "get":
            add(403, "cookie without CSRF token", csrf)

    if parameter_names(operation, "path"):
        missing = dict.fromkeys(
            ("id", "team_id", "user_id", "token_id", "webhook_id"), MISSING_ID
        ) | {
            "code": "no-such-code",
            "token": "cal_no-such-feed",
        }
        add(404, "no such object", lambda w: call(w.client, method, template.format(**missing)))
    elif "cursor" in parameter_names(operation, "query"):
        add(404, "bad cursor", lambda w: w.client.get(w.url(template), {"cursor": "not-a-cursor"}))

    raw = dict(key())

    def sent_raw(data, content_type):
        return lambda w: w.client.generic(
            method.upper(), w.url(template), data, content_type=content_type, **raw
        )

    takes_json = "application/json" in operation.get("requestBody", {}).get("content", {})
    if "requestBody" in operation or idempotent(operation):
        if takes_json or "requestBody" not in operation:
            add(400, "not JSON", sent_raw("{", "application/json"))
        else:
            add(400, "an unknown CSV header", sent_raw("Date,Hours\n", "text/csv"))
        add(415, "not JSON", sent_raw("name=x", "application/x-www-form-urlencoded"))
    query = [name for name in parameter_names(operation, "query") if name != "cursor"]
    if query:

        def empty_parameter(w):
            url = f"{w.url(template)}?{query[0]}="
            return call(w.client, method, url, valid_body(w, method, template) or None)

        add(400, f"empty {query[0]}", empty_parameter)
    if method in ("post", "put", "patch"):
        too_large = b"x" * (body_limit(template) + 1)
        add(413, "too large", sent_raw(too_large, "application/json" if takes_json else "text/csv"))

    if idempotent(operation):

        def reused(w):
            url, body = w.url(template), valid_body(w, method, template)
            call(w.client, method, url, body, **key())
            other = body + b"\n" if isinstance(body, bytes) else {**body, "name": "another"}
            return call(w.client, method, url, other, **key())

        def in_progress(w):
            url, body = w.url(template), valid_body(w, method, template)
            covered = body
            if isinstance(body, bytes):  # an upload: its digest and query (sessions/import/)
                covered = {"file_sha256": hashlib.sha256(body).hexdigest(), "query": {}}
            fingerprint = idempotency.request_fingerprint(
                method=method.upper(), path=url, body=covered
            )
            idempotency.idempotency_claim(
                user=w.user, key="documented-answers", fingerprint=fingerprint
            )
            return call(w.client, method, url, body, **key())

        add(422, "idempotency_key_reused", reused)
        add(409, "idempotency_in_progress", in_progress)

    def throttled(w):
        w.rate_limits(**dict.fromkeys(RATE_LIMIT_DEFAULTS, "0/minute"))
        return call(
            client_as_needed(w, template), method, w.url(template), valid_body(w, method, template)
        )

    if method != "get":
        add(429, "throttled", throttled)

    def failing(cause: Exception | None):
        def send(w):
            def execute(execute, sql, params, many, context):
                if cause is None:
                    raise OperationalError("terminating connection due to administrator command")
                raise OperationalError(str(cause)) from cause

            client = client_as_needed(w, template)
            url, body = w.url(template), valid_body(w, method, template)
            with connection.execute_wrapper(execute):
                return call(client, method, url, body)

        return send

    add(500, "a deadlock", failing(pg_errors.DeadlockDetected("deadlock detected")))
    add(503, "database gone", failing(None))
    return cases


def forged() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    return client


def client_as_needed(w: World, path: str) -> APIClient:
    if path == API + "/auth/claim/":
        return client_for(UserFactory(email=None, is_guest=True))
    return w.client


for method, path, operation in operations():
    CASES.extend(generic_cases(method, path, operation))

# Documented, and not provoked here, with the reason.
UNPROVOKED: dict[tuple[str, str, str], str] = {
    (method, API + "/auth/password/reset/", status): (
        "the account lookup and the email run after the answer (same timing whether or not "
        "the account exists), so no database failure can reach the request"
    )
    for method, status in (("post", "500"), ("post", "503"))
}
CASES[:] = [case for case in CASES if (case.method, case.path, str(case.status)) not in UNPROVOKED]


# --- The tests ------------------------------------------------------------------------


def test_every_documented_status_of_every_operation_is_provoked():
    provoked = {(c.method, c.path, str(c.status)) for c in CASES}
    documented = {
        (method, path, status)
        for method, path, operation in operations()
        for status in operation["responses"]
    }
    assert documented - provoked == set(UNPROVOKED)
    assert provoked - documented == set(), "a case provokes an undocumented status"


@pytest.mark.parametrize("answer", CASES, ids=[c.id for c in CASES])
def test_the_answer_is_the_documented_one(answer, world):
    response = answer.send(world)

    assert response.status_code == answer.status, body_of(response)
    assert_documented(response, answer.method, answer.path)


# --- The check has teeth ----------------------------------------------------------------


def without_member(component: str, member: str) -> dict:
    document = copy.deepcopy(SCHEMA)
    schema = document["components"]["schemas"][component]
    del schema["properties"][member]
    schema["required"] = [name for name in schema.get("required", []) if name != member]
    return document


def test_an_error_member_the_schema_stops_listing_fails_the_check(world):
    w = world
    w.session(start=False)
    body = w.client.post(API + "/sessions/", {}).json()
    documented = SCHEMA["paths"][API + "/sessions/"]["post"]["responses"]["409"]
    schema = documented["content"]["application/problem+json"]["schema"]
    assert schema_errors(schema, body) == []

    errors = schema_errors(
        schema, body, without_member("ActiveSessionExistsProblem", "active_session")
    )

    assert len(errors) == 1 and "'active_session' was unexpected" in errors[0], errors


def test_a_success_member_the_schema_stops_listing_fails_the_check(world):
    body = world.client.get(world.url(API + "/sessions/{id}/")).json()
    schema = {"$ref": "#/components/schemas/Session"}
    assert schema_errors(schema, body) == []

    errors = schema_errors(schema, body, without_member("Session", "server_time"))

    assert len(errors) == 1 and "'server_time' was unexpected" in errors[0], errors


def test_answers_are_closed_and_requests_open():
    components = SCHEMA["components"]["schemas"]
    # answers: a member not listed is an error
    assert components["Session"]["additionalProperties"] is False
    assert components["ActiveSessionExistsProblem"]["additionalProperties"] is False
    # a request may carry members the API ignores, and the fuzzer sends some
    assert "additionalProperties" not in components["SessionCreateInputRequest"]
    # a map keeps its own value schema
    assert components["FieldErrors"]["additionalProperties"] != False  # noqa: E712


def test_nullable_becomes_null_among_the_types():
    schema = {"$ref": "#/components/schemas/Session"}
    session = {"ended_at": None}
    errors = schema_errors(schema, session)
    assert not [error for error in errors if "ended_at" in error], errors
    assert [error for error in schema_errors(schema, {"ended_at": 5}) if "ended_at" in error]
