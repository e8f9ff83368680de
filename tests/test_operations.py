"""Operator surface: probes, OpenAPI schema and docs, admin, browsable API, production settings."""

import json
import os
import re
import subprocess
import sys

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client, override_settings
from drf_spectacular.drainage import GENERATOR_STATS

from accounts.models import TimerSettings, User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
ACCOUNT_PATHS = {
    "/api/v1/auth/register/": {"post"},
    "/api/v1/auth/login/": {"post"},
    "/api/v1/auth/refresh/": {"post"},
    "/api/v1/auth/logout/": {"post"},
    "/api/v1/auth/guest/": {"post"},
    "/api/v1/auth/claim/": {"post"},
    "/api/v1/me/": {"get", "patch", "delete"},
    "/api/v1/me/settings/": {"get", "patch"},
    "/api/v1/auth/password/change/": {"post"},
    "/api/v1/auth/password/reset/": {"post"},
    "/api/v1/auth/password/reset/confirm/": {"post"},
    "/api/v1/me/export/": {"get"},
    "/api/v1/me/tokens/": {"get", "post"},
    "/api/v1/me/tokens/{token_id}/": {"delete"},
    "/api/v1/me/calendar/": {"post", "delete"},
    "/api/v1/calendar/{token}.ics": {"get"},
}


# --- probes ------------------------------------------------------------------------


def test_healthz_answers_ok(api_client):
    response = api_client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}


def test_readyz_answers_ok_when_every_dependency_answers(api_client):
    response = api_client.get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "channel_layer": "ok", "cache": "ok"},
    }


def test_readyz_answers_503_naming_an_unreachable_cache(api_client):
    cache_down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": UNREACHABLE_REDIS,
        }
    }

    with override_settings(CACHES=cache_down):
        response = api_client.get("/readyz")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["code"], body["detail"]) == ("not_ready", "Not ready: cache unreachable.")
    assert body["checks"] == {
        "database": "ok",
        "channel_layer": "ok",
        "cache": "failing: ConnectionError",
    }


def test_readyz_answers_503_naming_an_unreachable_channel_layer(api_client):
    layer_down = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [UNREACHABLE_REDIS]},
        }
    }

    with override_settings(CHANNEL_LAYERS=layer_down):
        response = api_client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert (body["code"], body["detail"]) == ("not_ready", "Not ready: channel_layer unreachable.")
    assert body["checks"] == {
        "database": "ok",
        "channel_layer": "failing: ConnectionError",
        "cache": "ok",
    }


# --- OpenAPI schema and docs ---------------------------------------------------------


def test_schema_is_openapi_3_in_json_with_every_account_endpoint(api_client):
    response = api_client.get("/api/schema/?format=json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi+json"
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Pomodoro API"
    for path, methods in ACCOUNT_PATHS.items():
        assert set(schema["paths"][path]) == methods, path
    assert schema["components"]["securitySchemes"]["jwtAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert schema["components"]["securitySchemes"]["personalAccessToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal access token (pat_...), made at /api/v1/me/tokens/.",
    }
    assert schema["paths"]["/api/v1/me/"]["get"]["security"] == [
        {"personalAccessToken": []},
        {"jwtAuth": []},
        {"cookieAuth": []},
    ]


def test_schema_is_served_as_yaml_by_default(api_client):
    response = api_client.get("/api/schema/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi; charset=utf-8"
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")


def test_schema_generates_without_warnings_or_errors():
    # drf-spectacular keeps the warnings of every generation in this process; count this one's
    GENERATOR_STATS.reset()

    # raises SchemaGenerationError if generating or validating the schema warned
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)


def asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


@pytest.mark.parametrize(
    ("url", "assets"),
    [
        (
            "/api/docs/",
            [
                "/static/drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png",
                "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css",
                "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
                "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-standalone-preset.js",
                # Swagger UI's start-up script, served by the view itself (not inline)
                "/api/docs/?script=",
            ],
        ),
        ("/api/redoc/", ["/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"]),
    ],
)
def test_docs_are_served_from_local_static_files_only(api_client, url, assets):
    response = api_client.get(url)

    assert response.status_code == 200
    html = response.content.decode()
    assert asset_urls(html) == assets
    for asset in assets:
        if asset.startswith(settings.STATIC_URL):
            assert finders.find(asset.removeprefix(settings.STATIC_URL)) is not None
    for outside in ("://", "cdn", "jsdelivr", "unpkg", "googleapis"):
        assert outside not in html.lower(), outside


# --- admin -------------------------------------------------------------------------


@pytest.fixture
def admin_client(db) -> Client:
    admin = UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    return client


def test_admin_login_page_answers(db):
    assert Client().get("/admin/login/").status_code == 200


def test_admin_sends_anonymous_visitors_to_its_login_page(db):
    response = Client().get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/"


def test_admin_refuses_a_user_who_is_not_staff(user):
    client = Client()
    client.force_login(user)

    response = client.get("/admin/accounts/user/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/accounts/user/"


def test_admin_lists_users_with_search_and_filters(admin_client):
    ann = UserFactory(email="ann@example.com", display_name="Ann")
    UserFactory(email="anna@example.com", display_name="Anna", is_active=False)
    UserFactory(email="bob@example.com", display_name="Bob")

    response = admin_client.get("/admin/accounts/user/", {"q": "ann", "is_active__exact": "1"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [ann]


def test_admin_lists_timer_settings_with_search_and_filters(admin_client):
    ann = UserFactory(email="ann@example.com")
    TimerSettings.objects.filter(user=ann).update(auto_start_breaks=True)
    UserFactory(email="anna@example.com")

    response = admin_client.get(
        "/admin/accounts/timersettings/", {"q": "ann", "auto_start_breaks__exact": "1"}
    )

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [TimerSettings.objects.get(user=ann)]


def test_admin_opens_a_users_change_page(admin_client, user):
    response = admin_client.get(f"/admin/accounts/user/{user.pk}/change/")

    assert response.status_code == 200
    assert user.email in response.content.decode()


def test_a_user_added_in_the_admin_has_settings_and_logs_in(admin_client, api_client):
    # given an operator adding an account with the add form as a browser submits it
    form = {
        "email": "New.Person@Example.com",
        "usable_password": "true",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "timer_settings-TOTAL_FORMS": "1",
        "timer_settings-INITIAL_FORMS": "0",
        "timer_settings-MIN_NUM_FORMS": "0",
        "timer_settings-MAX_NUM_FORMS": "1",
        "timer_settings-0-focus_minutes": "25",
        "timer_settings-0-short_break_minutes": "5",
        "timer_settings-0-long_break_minutes": "15",
        "timer_settings-0-long_break_every": "4",
    }

    # when it is saved
    response = admin_client.post("/admin/accounts/user/add/", form)

    # then the account is like one registered through the API
    assert response.status_code == 302, response.content
    added = User.objects.get(email="new.person@example.com")
    assert TimerSettings.objects.filter(user=added, focus_minutes=25).count() == 1
    login = api_client.post(
        "/api/v1/auth/login/", {"email": "New.Person@Example.com", "password": PASSWORD}
    )
    assert login.status_code == 200, login.content
    me_settings = api_client.get(
        "/api/v1/me/settings/", HTTP_AUTHORIZATION=f"Bearer {login.json()['access']}"
    )
    assert me_settings.status_code == 200
    assert me_settings.json()["focus_minutes"] == 25


# --- browsable API -----------------------------------------------------------------


def test_the_browsable_api_renders_for_a_session_login(user):
    client = Client()
    client.force_login(user)

    response = client.get("/api/v1/me/", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert user.email in response.content.decode()


def test_a_session_login_reads_the_api_as_json(user):
    client = Client()
    client.force_login(user)

    response = client.get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json()["id"] == user.pk


# --- production settings -----------------------------------------------------------

GOOD_SECRET_KEY = "k3yF0rTests-" + "x9Qz7Lm2Vb" * 6
GOOD_JWT_SIGNING_KEY = "jwtKeyForTests-" + "p4Wn8Rt1Yc" * 6


def run_manage(tmp_path, *args: str, **variables: str | None) -> subprocess.CompletedProcess:
    """manage.py in a child process with a clean production environment plus `variables`
    (None removes one)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name
        not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ENV", "DATABASE_URL", "REDIS_URL", "DEBUG"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="pomodoro.settings.production",
        SECRET_KEY=GOOD_SECRET_KEY,
        JWT_SIGNING_KEY=GOOD_JWT_SIGNING_KEY,
        ALLOWED_HOSTS="api.example.com",
        METRICS_TOKEN="metrics-scrape-secret",
        DATA_DIR=str(tmp_path),
    )
    for name, value in variables.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_checks(tmp_path):
    result = run_manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "System check identified no issues (0 silenced).\n"
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"SECRET_KEY": None}, "Set SECRET_KEY to a random string of at least 50 characters."),
        ({"SECRET_KEY": "short"}, "Set SECRET_KEY to a random string of at least 50 characters."),
        ({"JWT_SIGNING_KEY": None}, "Set JWT_SIGNING_KEY to its own secret, not SECRET_KEY."),
        (
            {"JWT_SIGNING_KEY": GOOD_SECRET_KEY},
            "Set JWT_SIGNING_KEY to its own secret, not SECRET_KEY.",
        ),
        (
            {"ALLOWED_HOSTS": None},
            "Set ALLOWED_HOSTS to the host names this service answers to.",
        ),
        (
            {"METRICS_TOKEN": None},
            "Set METRICS_TOKEN, or METRICS_INTERNAL_ONLY=true if /metrics is reachable only "
            "inside your network (docs/operations.md#metrics).",
        ),
        (
            # DJANGO_ENV=production alone selects the production settings
            {"DJANGO_SETTINGS_MODULE": None, "DJANGO_ENV": "production", "SECRET_KEY": None},
            "Set SECRET_KEY to a random string of at least 50 characters.",
        ),
    ],
)
def test_production_settings_refuse_to_start_without_real_secrets(tmp_path, variables, message):
    result = run_manage(tmp_path, "check", **variables)

    assert result.returncode == 1
    assert f"django.core.exceptions.ImproperlyConfigured: {message}" in result.stderr
    assert result.stdout == ""


PRINT_SETTING = "from django.conf import settings; print(repr(settings.{}))"


def test_production_metrics_may_go_without_a_token_when_said_internal_only(tmp_path):
    result = run_manage(
        tmp_path,
        "shell",
        "--verbosity",
        "0",
        "-c",
        PRINT_SETTING.format("METRICS_TOKEN"),
        METRICS_TOKEN=None,
        METRICS_INTERNAL_ONLY="true",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "''\n"


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        (None, "[]"),
        ("https://app.example.com", "['https://app.example.com']"),
    ],
)
def test_production_websocket_origins_are_only_the_configured_ones(tmp_path, configured, expected):
    result = run_manage(
        tmp_path,
        "shell",
        "--verbosity",
        "0",
        "-c",
        PRINT_SETTING.format("WEBSOCKET_ALLOWED_ORIGINS"),
        WEBSOCKET_ALLOWED_ORIGINS=configured,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{expected}\n"


# --- Redis for scaling out ------------------------------------------------------------

SHARDED_LAYER_ROUND_TRIP = """
import asyncio, json
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache

async def round_trip():
    layer = get_channel_layer()
    delivered = 0
    for n in range(12):
        channel = await layer.new_channel("shards.")
        await layer.group_add(f"shard-test-{n}", channel)
        await layer.group_send(f"shard-test-{n}", {"type": "ping", "n": n})
        message = await asyncio.wait_for(layer.receive(channel), 5)
        delivered += message["n"] == n
        await layer.group_discard(f"shard-test-{n}", channel)
    return delivered

cache.set("shard-test-key", "here", 60)
print(json.dumps({
    "hosts": [host["address"] for host in settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]],
    "cache": settings.CACHES["default"]["LOCATION"],
    "delivered": asyncio.run(round_trip()),
}))
"""


@pytest.mark.redis
def test_the_channel_layer_shards_over_listed_hosts_and_the_cache_has_its_own(tmp_path):
    """CHANNEL_LAYER_REDIS_URLS and CACHE_REDIS_URL (docs/scaling.md): two channel-layer
    hosts (two databases of the test Redis stand for two servers) deliver every group's
    message, and the cache writes to its own Redis."""
    import redis

    base = settings.REDIS_URL.rsplit("/", 1)[0]
    shards = [f"{base}/12", f"{base}/13"]
    cache_url = f"{base}/14"
    redis.Redis.from_url(cache_url).delete("pomodoro-shards:1:shard-test-key")

    result = run_manage(
        tmp_path,
        "shell",
        "--verbosity",
        "0",
        "-c",
        SHARDED_LAYER_ROUND_TRIP,
        DJANGO_SETTINGS_MODULE="pomodoro.settings.base",
        REDIS_URL=settings.REDIS_URL,
        REDIS_KEY_PREFIX="pomodoro-shards",
        CHANNEL_LAYER_REDIS_URLS=",".join(shards),
        CACHE_REDIS_URL=cache_url,
    )

    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"hosts": shards, "cache": cache_url, "delivered": 12}
    assert redis.Redis.from_url(cache_url).get("pomodoro-shards:1:shard-test-key") is not None
