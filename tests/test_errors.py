"""One error shape: every error under /api/ is application/problem+json with a contract code."""

import pytest

from events.models import Event
from sessions_app.models import Project
from tests.conftest import assert_problem
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login/"


def test_an_unknown_api_path_is_404_not_found(client):
    response = client.get("/api/v1/no-such-thing/")

    body = assert_problem(response, 404, "not_found")
    assert body["detail"] == "No such endpoint. Paths end with a slash."


def test_an_unknown_api_path_is_404_not_found_without_authentication(api_client):
    assert_problem(api_client.get("/api/v1/no-such-thing/"), 404, "not_found")


def test_an_api_path_without_its_trailing_slash_is_404_not_a_redirect(api_client):
    # a POST cannot follow a redirect without losing its body, so none is offered
    response = api_client.post("/api/v1/auth/login", {"email": "a@example.com", "password": "x"})

    assert_problem(response, 404, "not_found")


def test_an_unknown_method_is_405_method_not_allowed(api_client):
    response = api_client.put(LOGIN, {"email": "ann@example.com", "password": "secret"})

    body = assert_problem(response, 405, "method_not_allowed")
    assert body["detail"] == 'Method "PUT" not allowed.'
    assert response["Allow"] == "POST, OPTIONS"


def test_a_body_that_is_not_json_is_415_unsupported_media_type(api_client):
    response = api_client.post(LOGIN, "email=ann@example.com", content_type="text/plain")

    body = assert_problem(response, 415, "unsupported_media_type")
    assert body["detail"] == 'Unsupported media type "text/plain" in request.'


def test_malformed_json_is_400_invalid_with_errors(api_client):
    response = api_client.post(LOGIN, '{"email": "ann@', content_type="application/json")

    body = assert_problem(response, 400, "invalid")
    assert list(body["errors"]) == ["non_field_errors"]
    assert len(body["errors"]["non_field_errors"]) == 1
    assert body["errors"]["non_field_errors"][0].startswith("JSON parse error - ")
    assert body["detail"] == body["errors"]["non_field_errors"][0]


def test_a_validation_error_lists_the_errors_of_each_field(api_client):
    response = api_client.post("/api/v1/auth/register/", {"email": "nope"})

    body = assert_problem(response, 400, "invalid")
    assert body == {
        "type": "about:blank",
        "status": 400,
        "code": "invalid",
        "title": "Bad Request",
        "detail": "Some of the submitted values are not valid.",
        "errors": {
            "email": ["Enter a valid email address."],
            "password": ["This field is required."],
        },
    }


def test_a_missing_token_is_401_not_authenticated_with_www_authenticate(api_client):
    response = api_client.get("/api/v1/me/")

    body = assert_problem(response, 401, "not_authenticated")
    assert body["detail"] == "Authentication credentials were not provided."
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_forged_token_is_401_token_not_valid_with_www_authenticate(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")

    response = api_client.get("/api/v1/me/")

    assert_problem(response, 401, "token_not_valid")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_another_users_project_is_404_not_403(client, other_user):
    # given a project of someone else
    project = ProjectFactory(user=other_user, name="Secret plans")
    url = f"/api/v1/projects/{project.pk}/"

    # when the caller reads, changes or deletes it
    read = client.get(url)
    changed = client.patch(url, {"name": "Mine now"})
    deleted = client.delete(url)

    # then it does not exist for them, and it is untouched
    for response in (read, changed, deleted):
        assert_problem(response, 404, "not_found")
    project.refresh_from_db()
    assert (project.name, project.deleted_at) == ("Secret plans", None)
    assert Event.objects.count() == 0


def test_a_project_id_that_is_not_a_number_is_404_not_found(client):
    response = client.get("/api/v1/projects/first/")

    assert_problem(response, 404, "not_found")


def test_a_rejected_request_changes_nothing(client, user):
    # given a valid project body followed by a field that is not valid
    response = client.post("/api/v1/projects/", {"name": "x" * 1000})

    assert_problem(response, 400, "invalid")
    assert Project.objects.filter(user=user).count() == 0
    assert Event.objects.filter(user=user).count() == 0


def test_errors_render_as_html_for_the_browsable_api(api_client):
    response = api_client.get("/api/v1/me/", HTTP_ACCEPT="text/html")

    assert response.status_code == 401
    assert response["Content-Type"] == "text/html; charset=utf-8"


def test_a_host_not_served_is_a_problem_under_the_api(client, settings):
    # Django refuses it before any view or middleware of ours runs (handler400)
    settings.DEBUG = False

    response = client.get("/api/v1/me/", HTTP_HOST="not-served.example")

    body = assert_problem(response, 400, "invalid")
    assert body["detail"] == "The request was refused before it was read."
    assert body["errors"] == {}  # as every 400 invalid has them (ValidationProblem)


def test_a_host_not_served_elsewhere_keeps_djangos_page(client, settings):
    settings.DEBUG = False

    response = client.get("/admin/", HTTP_HOST="not-served.example")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
