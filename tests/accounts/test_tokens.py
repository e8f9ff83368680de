"""Personal access tokens (me/tokens/): made, listed, used, scoped, expired, revoked."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.crypto import salted_hmac
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import PersonalAccessToken, User
from accounts.secrets import secret_hash
from accounts.services import personal_token_create
from events.models import Event
from sessions_app.models import Project
from tests.conftest import assert_problem, client_for
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/me/tokens/"
ME = "/api/v1/me/"
PROJECTS = "/api/v1/projects/"
READ_ONLY = "This token has the read scope: it cannot change anything."
TOO_LONG = "Ensure this field has no more than 100 characters."
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def pat_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def make_token(user, scope="write", **fields) -> tuple[PersonalAccessToken, str]:
    return personal_token_create(user=user, name=f"{scope} script", scope=scope, **fields)


# --- making, listing, revoking ---------------------------------------------------------------


def test_creating_a_token_shows_it_once_and_stores_only_its_hash(client, user):
    response = client.post(TOKENS, {"name": "CI export", "scope": "read"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    secret = body.pop("token")
    stored = PersonalAccessToken.objects.get()
    assert body == {
        "id": stored.pk,
        "name": "CI export",
        "scope": "read",
        "prefix": secret[:12],
        "created_at": body["created_at"],
        "last_used_at": None,
        "expires_at": None,
    }
    assert ISO_Z.match(body["created_at"])
    assert re.fullmatch(r"pat_[A-Za-z0-9_-]{43}", secret)
    assert stored.token_hash == secret_hash(secret, purpose="pat")
    assert secret not in {stored.token_hash, stored.prefix, stored.name}
    # the list never shows it again
    listed = client.get(TOKENS).json()
    assert listed == {"results": [body], "next": None, "previous": None}


def test_a_token_with_an_expiry_in_the_past_is_refused(client):
    past = (timezone.now() - datetime.timedelta(minutes=1)).isoformat()

    response = client.post(TOKENS, {"name": "x", "scope": "read", "expires_at": past})

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"expires_at": ["Choose a time in the future."]}
    assert PersonalAccessToken.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"name": "x", "scope": "admin"}, {"scope": ['"admin" is not a valid choice.']}),
        ({"scope": "read"}, {"name": ["This field is required."]}),
        ({"name": "x" * 101, "scope": "read"}, {"name": [TOO_LONG]}),
    ],
)
def test_an_invalid_token_request_is_400_and_makes_nothing(client, payload, errors):
    body = assert_problem(client.post(TOKENS, payload, format="json"), 400, "invalid")

    assert body["errors"] == errors
    assert PersonalAccessToken.objects.count() == 0


def test_the_list_is_newest_first_and_only_the_callers(client, user, other_user):
    older, _ = make_token(user, "read")
    newer, _ = make_token(user, "write")
    make_token(other_user)

    ids = [token["id"] for token in client.get(TOKENS).json()["results"]]

    assert ids == [newer.pk, older.pk]


def test_deleting_a_token_revokes_it_at_once(client, user):
    token, secret = make_token(user)
    assert pat_client(secret).get(ME).status_code == 200

    response = client.delete(f"{TOKENS}{token.pk}/")

    assert response.status_code == 204
    assert_problem(pat_client(secret).get(ME), 401, "token_not_valid")


def test_another_users_token_is_404_and_stays(client, other_user):
    token, secret = make_token(other_user)

    assert_problem(client.delete(f"{TOKENS}{token.pk}/"), 404, "not_found")

    assert pat_client(secret).get(ME).status_code == 200


# --- using one ---------------------------------------------------------------------------


def test_a_token_works_wherever_an_access_token_does(user):
    _, secret = make_token(user)

    me = pat_client(secret).get(ME)
    created = pat_client(secret).post(PROJECTS, {"name": "From a script"}, format="json")

    assert me.json()["id"] == user.pk
    assert created.status_code == 201
    assert Project.objects.get().user == user


def test_an_unknown_token_is_401_with_the_bearer_challenge():
    response = pat_client("pat_" + "x" * 43).get(ME)

    assert_problem(response, 401, "token_not_valid")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_malformed_header_is_401(user):
    _, secret = make_token(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret} extra")

    assert_problem(client.get(ME), 401, "token_not_valid")


def test_an_expired_token_is_401(user):
    token, secret = make_token(user, expires_at=timezone.now() + datetime.timedelta(hours=1))
    assert pat_client(secret).get(ME).status_code == 200
    PersonalAccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())

    assert_problem(pat_client(secret).get(ME), 401, "token_not_valid")


def test_a_disabled_users_token_is_401(user):
    _, secret = make_token(user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert_problem(pat_client(secret).get(ME), 401, "token_not_valid")


def test_last_used_at_is_written_at_most_once_a_minute(user):
    token, secret = make_token(user)
    client = pat_client(secret)

    client.get(ME)
    token.refresh_from_db()
    first_use = token.last_used_at
    with CaptureQueriesContext(connection) as queries:
        client.get(ME)
    token.refresh_from_db()

    assert first_use is not None
    assert token.last_used_at == first_use
    assert not [query for query in queries if query["sql"].startswith("UPDATE")]
    a_minute_ago = first_use - datetime.timedelta(seconds=61)
    PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=a_minute_ago)
    client.get(ME)
    token.refresh_from_db()
    assert token.last_used_at > first_use


def test_authenticating_by_token_costs_the_queries_of_a_jwt(user, django_assert_num_queries):
    token, secret = make_token(user)
    PersonalAccessToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    jwt_client = client_for(user)
    with CaptureQueriesContext(connection) as by_jwt:
        jwt_client.get(ME)

    with django_assert_num_queries(len(by_jwt)):
        pat_client(secret).get(ME)


def test_writes_by_token_share_the_users_rate_limit(user, rate_limits):
    rate_limits(writes_user="2/minute")
    _, secret = make_token(user)
    for index in range(2):
        assert pat_client(secret).post(PROJECTS, {"name": f"p{index}"}).status_code == 201

    assert_problem(pat_client(secret).post(PROJECTS, {"name": "p2"}), 429, "throttled")
    assert_problem(client_for(user).post(PROJECTS, {"name": "p3"}), 429, "throttled")
    assert Project.objects.count() == 2


# --- the read scope ------------------------------------------------------------------------


def test_a_read_token_reads(user):
    ProjectFactory(user=user, name="Mine")
    _, secret = make_token(user, "read")

    response = pat_client(secret).get(PROJECTS)

    assert [project["name"] for project in response.json()["results"]] == ["Mine"]
    assert pat_client(secret).head(ME).status_code == 200
    assert pat_client(secret).options(ME).status_code == 200


def write_operations() -> list[tuple[str, str]]:
    """Every write of the API that a token can be used for, from the OpenAPI schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            uses_tokens = any("personalAccessToken" in way for way in operation.get("security", []))
            if method in {"post", "put", "patch", "delete"} and uses_tokens:
                operations.append((method, re.sub(r"\{[^}]+\}", "1", path)))
    return operations


def test_the_schema_walk_finds_the_writes():
    operations = write_operations()

    assert ("post", "/api/v1/sessions/") in operations
    assert ("delete", "/api/v1/me/") in operations
    assert ("post", "/api/v1/me/tokens/") in operations
    assert len(operations) >= 30


def row_counts() -> tuple[int, int, int]:
    return User.objects.count(), PersonalAccessToken.objects.count(), Project.objects.count()


@pytest.mark.parametrize(("method", "path"), write_operations())
def test_a_read_token_is_refused_every_write_and_changes_nothing(user, method, path):
    _, secret = make_token(user, "read")
    rows = row_counts()

    response = getattr(pat_client(secret), method)(path, {}, format="json")

    body = assert_problem(response, 403, "permission_denied")
    assert body["detail"] == READ_ONLY
    assert (
        User.objects.count(),
        PersonalAccessToken.objects.count(),
        Project.objects.count(),
    ) == rows
    assert Event.objects.filter(user=user).count() == 0


def test_a_user_with_tokens_of_both_scopes_writes_with_the_write_one(user):
    _, read_secret = make_token(user, "read")
    _, write_secret = make_token(user, "write")

    refused = pat_client(read_secret).post(PROJECTS, {"name": "x"})
    accepted = pat_client(write_secret).post(PROJECTS, {"name": "x"})

    assert (refused.status_code, accepted.status_code) == (403, 201)
    assert Project.objects.filter(user=user).count() == 1


def test_the_stored_hash_is_djangos_salted_hmac_so_existing_tokens_still_verify(settings):
    for key in ("first-secret-key-0123456789-abcdefghij", "second-secret-key-0123456789-abcdef"):
        settings.SECRET_KEY = key
        expected = salted_hmac("accounts.secrets.pat", "pat_abc", algorithm="sha256").hexdigest()
        assert secret_hash("pat_abc", purpose="pat") == expected
