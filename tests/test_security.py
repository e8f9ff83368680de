"""Security hardening (docs/security.md): response headers and the Content-Security-Policy,
CORS, production cookies, request body limits, strict JSON, and errors that give nothing
away. Field length limits: tests/test_input_limits.py."""

import asyncio
import json
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client, override_settings

from events.models import Event
from pomodoro.asgi import application as asgi_application
from pomodoro.settings.base import csp_hash
from sessions_app.models import Project, Session
from tests.conftest import assert_problem
from tests.factories import ProjectFactory, UserFactory
from tests.test_operations import run_manage
from tests.urls_failing import SECRET_TEXT

pytestmark = pytest.mark.django_db

LIMIT = settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def policy_of(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


EXPECTED_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "script-src-attr": [
        "'unsafe-hashes'",
        csp_hash('document.getElementById("logoutForm").submit()'),
    ],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "worker-src": ["'self'", "blob:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


# --- headers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/me/", "/api/docs/", "/api/redoc/", "/admin/login/", "/healthz"]
)
def test_every_response_carries_the_security_headers(api_client, path):
    response = api_client.get(path)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert policy_of(response) == EXPECTED_POLICY


def test_an_error_answer_carries_the_security_headers_too(api_client):
    response = api_client.get("/api/v1/no-such-thing/")

    assert_problem(response, 404, "not_found")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert policy_of(response) == EXPECTED_POLICY


def test_the_web_app_and_its_static_files_get_the_policy(api_client):
    # the page from its view; its modules from WhiteNoise, which answers before the views
    for path in ("/", "/static/web/app.js"):
        response = api_client.get(path)

        assert response.status_code == 200
        assert policy_of(response) == EXPECTED_POLICY


def test_the_policy_lets_the_web_app_open_its_websocket():
    # CSP Level 3: 'self' in connect-src matches ws:/wss: to the page's own host
    # (tests/web/ run the web app in Chromium under this policy).
    assert settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["connect-src"] == ["'self'"]


class ScriptAudit(HTMLParser):
    """What in a page could run as script: <script> elements, on* attributes, javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.scripts: list[dict] = []
        self.handlers: list[str] = []
        self.javascript_urls: list[str] = []
        self._in_script: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attributes.items():
            if name.startswith("on"):
                self.handlers.append(value or "")
            if name in {"href", "src", "action"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.javascript_urls.append(value)
        if tag == "script":
            self._in_script = {**attributes, "text": ""}
            self.scripts.append(self._in_script)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script is not None:
            self._in_script["text"] += data


def is_same_origin(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "" and parts.netloc == ""


def page_text(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.fixture
def staff_client(db) -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    ("path", "as_staff"),
    [
        ("/api/docs/", False),
        ("/api/redoc/", False),
        ("/admin/login/", False),
        ("/api-auth/login/", False),
        ("/", False),
        ("/reset-password/", False),
        ("/admin/", True),
        ("/admin/accounts/user/", True),
        ("/admin/accounts/user/add/", True),
        ("/admin/sessions_app/session/", True),
        ("/api/v1/me/", True),  # the browsable API, for a session login
    ],
)
def test_pages_run_only_scripts_the_policy_allows(staff_client, path, as_staff):
    # given a page the service serves, read as the browser would
    client = staff_client if as_staff else Client()
    response = client.get(path, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    audit = ScriptAudit()
    audit.feed(page_text(response))

    # then every script is a file from this origin (or inert data), never inline
    for script in audit.scripts:
        if script.get("type") == "application/json":
            continue  # data, not run
        assert script.get("src") and is_same_origin(script["src"]), script
        assert script["text"].strip() == "", script
    # and every inline event handler is one the policy allows by its hash
    allowed = policy_of(response)["script-src-attr"]
    assert all(csp_hash(handler) in allowed for handler in audit.handlers), audit.handlers
    assert audit.javascript_urls == []


def test_the_admin_change_form_runs_only_scripts_the_policy_allows(staff_client, user):
    response = staff_client.get(f"/admin/accounts/user/{user.pk}/change/")
    audit = ScriptAudit()
    audit.feed(page_text(response))

    assert response.status_code == 200
    assert all(is_same_origin(s.get("src", "")) for s in audit.scripts), audit.scripts
    assert audit.handlers == []


def test_swagger_ui_start_up_script_is_served_as_a_file(api_client):
    response = api_client.get("/api/docs/?script=")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    script = response.content.decode()
    assert "SwaggerUIBundle({" in script
    assert 'url: "/api/schema/"' in script


# --- production: HSTS, HTTPS and cookies ------------------------------------------------

PRODUCTION_PROBE = """
import json
from django.conf import settings
from django.test import Client

secure = Client(HTTP_HOST="api.example.com", HTTP_X_FORWARDED_PROTO="https")
login_page = secure.get("/admin/login/")
api_error = secure.get("/api/v1/no-such-thing/")
plain_http = Client(HTTP_HOST="api.example.com").get("/api/v1/me/")
csrf = login_page.cookies["csrftoken"]
print("PROBE " + json.dumps({
    "hsts": [login_page["Strict-Transport-Security"], api_error["Strict-Transport-Security"]],
    "plain_http": [plain_http.status_code, plain_http["Location"]],
    "csrf_cookie": [bool(csrf["secure"]), bool(csrf["httponly"]), csrf["samesite"]],
    "session_cookie": [
        settings.SESSION_COOKIE_SECURE,
        settings.SESSION_COOKIE_HTTPONLY,
        settings.SESSION_COOKIE_SAMESITE,
    ],
    "debug": settings.DEBUG,
}))
"""


def test_production_sends_hsts_redirects_to_https_and_secures_its_cookies(tmp_path):
    result = run_manage(tmp_path, "shell", "-c", PRODUCTION_PROBE)

    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.startswith("PROBE ")]
    probe = json.loads(line.removeprefix("PROBE "))
    assert probe == {
        "hsts": ["max-age=31536000; includeSubDomains; preload"] * 2,
        "plain_http": [301, "https://api.example.com/api/v1/me/"],
        "csrf_cookie": [True, True, "Lax"],
        "session_cookie": [True, True, "Lax"],
        "debug": False,
    }


def test_development_sends_no_hsts(api_client):
    # HSTS pins a browser to HTTPS for a year: only production.py turns it on
    assert "Strict-Transport-Security" not in api_client.get("/healthz", secure=True)


# --- CORS -------------------------------------------------------------------------------

APP_ORIGIN = "https://app.example.com"


def test_no_origin_is_allowed_cross_origin_by_default(client):
    response = client.get("/api/v1/me/", HTTP_ORIGIN=APP_ORIGIN)

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


@override_settings(CORS_ALLOWED_ORIGINS=[APP_ORIGIN])
def test_a_configured_origin_may_read_the_api_and_its_headers(client):
    response = client.get("/api/v1/me/", HTTP_ORIGIN=APP_ORIGIN)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "Access-Control-Allow-Credentials" not in response
    exposed = {name.strip() for name in response["Access-Control-Expose-Headers"].split(",")}
    assert exposed == {
        "Content-Disposition",
        "ETag",
        "Idempotent-Replayed",
        "Location",
        "RateLimit-Limit",
        "RateLimit-Remaining",
        "RateLimit-Reset",
        "Retry-After",
        "WWW-Authenticate",
        "X-Request-ID",
    }


@override_settings(CORS_ALLOWED_ORIGINS=[APP_ORIGIN])
def test_another_origin_gets_no_cors_headers(client):
    response = client.get("/api/v1/me/", HTTP_ORIGIN="https://evil.example.net")

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


@override_settings(CORS_ALLOWED_ORIGINS=[APP_ORIGIN])
def test_a_preflight_from_a_configured_origin_allows_the_contract_headers(api_client):
    response = api_client.options(
        "/api/v1/sessions/",
        HTTP_ORIGIN=APP_ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type, idempotency-key",
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "POST" in response["Access-Control-Allow-Methods"].split(", ")
    allowed = set(response["Access-Control-Allow-Headers"].split(", "))
    assert {"authorization", "content-type", "idempotency-key", "if-match"} <= allowed
    assert response["Access-Control-Max-Age"] == "86400"


@override_settings(CORS_ALLOWED_ORIGINS=[APP_ORIGIN])
def test_a_preflight_from_another_origin_is_not_allowed(api_client):
    response = api_client.options(
        "/api/v1/sessions/",
        HTTP_ORIGIN="https://evil.example.net",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )

    assert "Access-Control-Allow-Origin" not in response


@override_settings(CORS_ALLOWED_ORIGINS=[APP_ORIGIN])
def test_cors_covers_the_api_only_not_the_admin(api_client):
    response = api_client.get("/admin/login/", HTTP_ORIGIN=APP_ORIGIN)

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


# --- request body size ------------------------------------------------------------------


def project_body_of_size(size: int) -> str:
    """A JSON project body of exactly `size` bytes."""
    empty = json.dumps({"name": "", "description": ""})
    return json.dumps({"name": "Big", "description": "x" * (size - len(empty) - 3)})


def assert_payload_too_large(response) -> None:
    body = assert_problem(response, 413, "payload_too_large")
    assert body == {
        "type": "about:blank",
        "status": 413,
        "code": "payload_too_large",
        "title": "Payload too large",
        "detail": f"The request body is larger than {LIMIT} bytes, the most this API accepts.",
        "max_bytes": LIMIT,
    }


def test_the_body_limit_is_64_kib():
    assert LIMIT == 64 * 1024


def test_a_body_over_the_limit_is_413_and_changes_nothing(client, user):
    body = project_body_of_size(LIMIT + 1)
    assert len(body) == LIMIT + 1

    response = client.post("/api/v1/projects/", body, content_type="application/json")

    assert_payload_too_large(response)
    assert Project.objects.filter(user=user).count() == 0
    assert Event.objects.filter(user=user).count() == 0


def test_a_huge_body_is_413(client, user):
    body = project_body_of_size(20 * 1024 * 1024)

    response = client.post("/api/v1/projects/", body, content_type="application/json")

    assert_payload_too_large(response)
    assert Project.objects.filter(user=user).count() == 0


def test_a_body_at_the_limit_is_read_and_validated(client, user):
    # the limit is on bytes, not on fields: this one reaches the serializer
    response = client.post(
        "/api/v1/projects/", project_body_of_size(LIMIT), content_type="application/json"
    )

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {
        "description": ["Ensure this field has no more than 1000 characters."]
    }


def test_an_oversized_body_is_refused_from_its_content_length_without_being_read(client, user):
    # given a request that declares a body over the limit but carries only a few bytes: the
    # test client's input refuses (AssertionError) a read past what it holds
    response = client.post(
        "/api/v1/projects/",
        '{"name": "Small"}',
        content_type="application/json",
        CONTENT_LENGTH=str(10 * 1024 * 1024),
    )

    assert_payload_too_large(response)
    assert Project.objects.filter(user=user).count() == 0


@pytest.mark.parametrize("path", ["/admin/login/", "/api-auth/login/", "/api/v1/auth/login/"])
def test_an_oversized_form_or_login_outside_the_api_views_is_413_too(path):
    # before the CSRF check and the login form read the body
    response = Client().post(
        path, "username=" + "x" * LIMIT, content_type="application/x-www-form-urlencoded"
    )

    assert_payload_too_large(response)


def run_asgi(scope_path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]):
    """Drives the ASGI application as a server would: the request's body in `chunks`;
    answers (status, headers, body, number of chunks the application took)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": scope_path,
        "raw_path": scope_path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    messages = [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    taken = 0
    sent = []

    async def receive():
        nonlocal taken
        if taken < len(messages):
            taken += 1
            return messages[taken - 1]
        await asyncio.sleep(3600)  # the client waits for the answer

    async def send(message):
        sent.append(message)

    async def call():
        await asyncio.wait_for(asgi_application(scope, receive, send), timeout=30)

    asyncio.run(call())
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), json.loads(body), taken


def test_asgi_refuses_an_oversized_content_length_before_reading_a_byte():
    status, headers, body, taken = run_asgi(
        "/api/v1/projects/",
        [(b"content-type", b"application/json"), (b"content-length", b"10485760")],
        [b"x" * 65536] * 160,
    )

    assert (status, body["code"], body["max_bytes"]) == (413, "payload_too_large", LIMIT)
    assert headers[b"content-type"] == b"application/problem+json"
    assert taken == 0


def test_asgi_refuses_a_chunked_body_once_it_passes_the_limit():
    # no Content-Length: the body is counted as it arrives, and the rest is never read
    status, _headers, body, taken = run_asgi(
        "/api/v1/projects/", [(b"content-type", b"application/json")], [b"x" * 16384] * 100
    )

    assert (status, body["code"]) == (413, "payload_too_large")
    assert taken == LIMIT // 16384 + 1


@pytest.mark.parametrize(
    "headers", [[(b"content-length", b"17")], []], ids=["content-length", "chunked"]
)
def test_asgi_hands_a_body_within_the_limit_to_django(headers):
    status, _headers, body, taken = run_asgi(
        "/api/v1/no-such-thing/",
        [(b"content-type", b"application/json"), *headers],
        [b'{"name":', b' "Small"}'],
    )

    assert (status, body["code"]) == (404, "not_found")
    assert taken == 2


SECURITY_HEADERS = [
    b"content-security-policy",
    b"x-content-type-options",
    b"referrer-policy",
    b"x-frame-options",
    b"cross-origin-opener-policy",
]


@pytest.mark.parametrize(
    "headers, chunks",
    [([(b"content-length", b"10485760")], [b"x"]), ([], [b"x" * 16384] * 5)],
    ids=["content-length", "chunked"],
)
def test_asgi_refusal_carries_the_request_id_and_the_security_headers_django_adds(headers, chunks):
    # answered before Django, so without its middleware: the headers are added by hand
    sent_id = [(b"x-request-id", b"client-id-413")]
    status, refused, body, _taken = run_asgi(
        "/api/v1/projects/", [(b"content-type", b"application/json"), *headers, *sent_id], chunks
    )
    _, generated, _, _ = run_asgi(
        "/api/v1/projects/", [(b"content-type", b"application/json"), *headers], chunks
    )
    _, django_headers, _, _ = run_asgi("/api/v1/no-such-thing/", [*sent_id], [b"{}"])
    from_django = {name.lower(): value for name, value in django_headers.items()}

    assert (status, body["code"]) == (413, "payload_too_large")
    assert refused[b"x-request-id"] == b"client-id-413"
    assert len(generated[b"x-request-id"]) == 32  # a new uuid4 hex, as for any request
    assert generated[b"x-request-id"] != refused[b"x-request-id"]
    assert {name: refused[name] for name in SECURITY_HEADERS} == {
        name: from_django[name] for name in SECURITY_HEADERS
    }
    assert refused[b"x-content-type-options"] == b"nosniff"
    assert refused[b"x-frame-options"] == b"DENY"


def test_a_post_to_an_unknown_api_path_from_a_browser_is_404_problem_not_a_csrf_page():
    # a browser-like client that enforces CSRF, as a real one would
    response = Client(enforce_csrf_checks=True).post(
        "/api/v1/no-such-thing/", {"name": "A"}, content_type="application/json"
    )

    assert_problem(response, 404, "not_found")


# --- strict JSON ------------------------------------------------------------------------

OUT_OF_RANGE = "JSON parse error - Out of range float values are not JSON compliant: "
EXTRA_DATA = "JSON parse error - Extra data: line 1 column 15 (char 14)"
LONE_SURROGATE = "JSON parse error - a string holds a lone UTF-16 surrogate (\\ud800-\\udfff)."


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"name": NaN}', OUT_OF_RANGE + "'NaN'"),
        (b'{"name": Infinity}', OUT_OF_RANGE + "'Infinity'"),
        (b'{"name": -Infinity}', OUT_OF_RANGE + "'-Infinity'"),
        (b'{"name": "A", "color": 1e400}', "JSON parse error - the number 1e400 is too large"),
        (b'{"name": "A", "name": "B"}', "JSON parse error - the key 'name' appears more than once"),
        (b'{"name": "\xff\xfe"}', "JSON parse error - the body is not valid UTF-8."),
        (b'["name", "A"]', "JSON parse error - the body must be a JSON object."),
        (b"null", "JSON parse error - the body must be a JSON object."),
        (b'"A"', "JSON parse error - the body must be a JSON object."),
        (b"[" * 20000 + b"]" * 20000, "JSON parse error - nested too deeply."),
        (b'{"name": "A"} {"name": "B"}', EXTRA_DATA),
        (b'{"name": "\\ud800"}', LONE_SURROGATE),
        (b'{"name": "A", "\\udfff": 1}', LONE_SURROGATE),
        (b'{"name": "A", "tags": [{"x": "ok \\ude00 no"}]}', LONE_SURROGATE),
    ],
    ids=[
        "NaN", "Infinity", "-Infinity", "overflowing number", "repeated key", "not UTF-8",
        "array", "null", "string", "deep nesting", "two documents",
        "lone surrogate value", "lone surrogate key", "nested lone surrogate",
    ],
)  # fmt: skip
def test_json_that_is_not_strictly_valid_is_400_invalid_and_changes_nothing(
    client, user, body, message
):
    response = client.post("/api/v1/projects/", body, content_type="application/json")

    problem = assert_problem(response, 400, "invalid")
    assert problem["detail"] == message
    assert problem["errors"] == {"non_field_errors": [message]}
    assert Project.objects.filter(user=user).count() == 0
    assert Event.objects.filter(user=user).count() == 0


def test_a_lone_surrogate_in_a_choice_is_400_invalid_not_a_500(client, user):
    # A choice field's error would echo the value, which the JSON renderer cannot encode.
    response = client.post(
        "/api/v1/sessions/", b'{"kind": "\\ud800"}', content_type="application/json"
    )

    problem = assert_problem(response, 400, "invalid")
    assert problem["detail"] == LONE_SURROGATE
    assert Session.objects.filter(user=user).count() == 0


def test_json_in_another_charset_is_400_invalid(client, user):
    response = client.post(
        "/api/v1/projects/",
        '{"name": "Café"}'.encode("latin-1"),
        content_type="application/json; charset=latin-1",
    )

    problem = assert_problem(response, 400, "invalid")
    assert problem["detail"] == 'JSON parse error - JSON is UTF-8, not "latin-1".'
    assert Project.objects.filter(user=user).count() == 0


def test_strict_json_still_accepts_ordinary_json(client, user):
    response = client.post(
        "/api/v1/projects/",
        '{"name": "Café ☕", "description": "1.5 \\u00e9 \\ud83c\\udf45"}'.encode(),
        content_type="application/json; charset=utf-8",
    )

    assert response.status_code == 201, response.content
    assert Project.objects.get(user=user).name == "Café ☕"
    # An escaped surrogate pair is one character, not a lone surrogate.
    assert Project.objects.get(user=user).description == "1.5 é 🍅"


# --- numbers that do not fit ------------------------------------------------------------


def test_an_id_too_long_for_a_bigint_is_an_unknown_path(client):
    response = client.get("/api/v1/projects/" + "9" * 5000 + "/")

    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize(
    "path",
    [
        "teams/{id}/",
        "teams/{id}/status/",
        "teams/{id}/leaderboard/",
        "teams/1/members/{id}/",
    ],
)
def test_a_team_or_member_id_too_long_for_a_bigint_is_an_unknown_path(client, path):
    # 20 digits: past a bigint
    response = client.get("/api/v1/" + path.format(id="9" * 20))

    assert_problem(response, 404, "not_found")


def test_an_if_match_version_too_long_for_a_bigint_is_400_invalid(client, user):
    session = client.post("/api/v1/sessions/", {}).json()

    response = client.patch(
        f"/api/v1/sessions/{session['id']}/",
        {"name": "Renamed"},
        HTTP_IF_MATCH='"' + "9" * 5000 + '"',
    )

    body = assert_problem(response, 400, "invalid")
    assert body["errors"] == {"If-Match": ['Send the ETag you read, such as "3".']}
    assert Session.objects.get(pk=session["id"]).name == ""


# --- no stack traces or SQL in answers ----------------------------------------------------


@pytest.mark.parametrize("debug", [False, True], ids=["DEBUG off", "DEBUG on"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/test-only/drf-view-fails/",
        "/api/v1/test-only/django-view-fails/",
        "/api/v1/test-only/bad-sql/",
    ],
)
@pytest.mark.django_db(transaction=True)
def test_a_failure_is_a_500_problem_with_no_trace_or_sql(api_client, settings, path, debug):
    settings.ROOT_URLCONF = "tests.urls_failing"
    settings.DEBUG = debug

    response = api_client.get(path)

    body = assert_problem(response, 500, "server_error")
    assert body["detail"] == "Something went wrong on our side."
    text = response.content.decode()
    for leak in (SECRET_TEXT, "Traceback", "SELECT", "no_such_table", ".py", "File "):
        assert leak not in text, leak


# --- resource consumption -----------------------------------------------------------------


def test_a_page_never_holds_more_than_200_items_whatever_the_client_asks(client, user):
    ProjectFactory.create_batch(201, user=user)

    response = client.get("/api/v1/projects/", {"page_size": 100_000})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 200
    assert response.json()["next"] is not None
