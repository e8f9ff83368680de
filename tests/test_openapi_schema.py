"""The OpenAPI schema says what the server answers: the shapes scripts/fuzz checks every
response against (docs/api.md, "Fuzzing"), pinned here for the findings it fixed."""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from pomodoro.exceptions import DomainError
from pomodoro.schema import PROBLEM_SHAPES
from teams import services as team_services
from tests.conftest import assert_problem

API = "/api/v1/"
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema: dict):
    for path, path_item in schema["paths"].items():
        for method, operation in path_item.items():
            if method in METHODS:
                yield path, method, operation


def test_every_error_is_documented_as_problem_json(schema):
    for path, method, operation in operations(schema):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response.get("content", {})) == ["application/problem+json"], (
                    method,
                    path,
                    status,
                )


def test_every_operation_documents_the_errors_of_its_shape(schema):
    for path, method, operation in operations(schema):
        documented = set(operation["responses"])
        locations = {parameter["in"] for parameter in operation.get("parameters", [])}
        if {} not in operation.get("security", [{}]):
            assert "401" in documented, (method, path)
        if "path" in locations:
            assert "404" in documented, (method, path)
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        if "requestBody" in operation or "Idempotency-Key" in names:
            assert {"400", "415"} <= documented, (method, path)
        if method in ("post", "patch"):
            assert "413" in documented, (method, path)
        assert {"500", "503"} <= documented, (method, path)


def test_path_ids_are_numbers(schema):
    for path, method, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"] in ("id", "team_id", "user_id"):
                assert parameter["schema"]["type"] == "integer", (method, path)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["projects/", "tasks/", "sessions/", "teams/", "teams/{team}/members/"]
)
def test_lists_are_documented_as_the_pages_they_answer(schema, client, user, path):
    membership = team_services.team_create(user=user, name="Pages")
    url = API + path.format(team=membership.team_id)
    template = "/api/v1/" + path.replace("{team}", "{team_id}")
    documented = schema["paths"][template]["get"]["responses"]["200"]["content"]
    reference = documented["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][reference.rsplit("/", 1)[1]]

    body = client.get(url).json()

    assert component["type"] == "object"
    assert set(component["required"]) == set(body) == {"results", "next", "previous"}
    assert component["properties"]["results"]["type"] == "array"


@pytest.mark.django_db
def test_day_starts_at_is_documented_as_the_hh_mm_it_answers(schema, client):
    field = schema["components"]["schemas"]["Profile"]["properties"]["day_starts_at"]
    assert "format" not in field  # OpenAPI's `time` is HH:MM:SS

    answered = client.get(API + "me/").json()["day_starts_at"]

    assert re.fullmatch(field["pattern"], answered), answered
    changed = client.patch(API + "me/", {"day_starts_at": "04:30"}).json()["day_starts_at"]
    assert changed == "04:30" and re.fullmatch(field["pattern"], changed)
    assert_problem(client.patch(API + "me/", {"day_starts_at": "4:30:00"}), 400, "invalid")


def test_every_error_of_ours_has_a_problem_shape_the_schema_can_name():
    def subclasses(cls):
        for subclass in cls.__subclasses__():
            yield subclass
            yield from subclasses(subclass)

    shaped = {shape.code for shape in PROBLEM_SHAPES.values()}
    assert {error.default_code for error in subclasses(DomainError)} <= shaped


def test_every_problem_shape_in_use_is_a_component(schema):
    components = schema["components"]["schemas"]
    for path, method, operation in operations(schema):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            body = response["content"]["application/problem+json"]["schema"]
            for ref in body.get("oneOf", [body]):
                name = ref["$ref"].rsplit("/", 1)[1]
                assert components[name] == PROBLEM_SHAPES[name].schema(), (method, path)


def test_answers_document_the_headers_they_carry(schema):
    for path, method, operation in operations(schema):
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        for status, response in operation["responses"].items():
            headers = response.get("headers", {})
            assert ("Idempotent-Replayed" in headers) == ("Idempotency-Key" in names), (
                method,
                path,
                status,
            )
            media = response.get("content", {}).get("application/json", {})
            if media.get("schema") == {"$ref": "#/components/schemas/Session"}:
                assert headers["ETag"]["required"] is True, (method, path, status)
