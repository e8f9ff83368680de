"""docker-compose.yml and deploy/nginx.conf hold together: what the proxy routes to exists,
every long-running container has a health check, the application waits for the
migrations, and the servers run as measured (docs/benchmarks.md). No Docker engine is
needed: the files are read as text and YAML."""

import re
from pathlib import Path

import pytest
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())
NGINX = (PROJECT_DIR / "deploy" / "nginx.conf").read_text()
SERVICES = COMPOSE["services"]
APPLICATION = ("web-http", "web-ws", "worker", "webhook-worker")


def test_every_long_running_service_has_a_health_check():
    for name, service in SERVICES.items():
        if name == "migrate":
            continue
        assert service.get("healthcheck", {}).get("test"), name


def test_the_application_starts_after_the_migrations_succeeded():
    assert SERVICES["migrate"]["command"] == ["python", "manage.py", "migrate", "--no-input"]
    assert SERVICES["migrate"]["restart"] == "no"
    for name in APPLICATION:
        depends_on = SERVICES[name]["depends_on"]
        assert depends_on["migrate"] == {"condition": "service_completed_successfully"}, name
        assert depends_on["db"] == {"condition": "service_healthy"}, name
        assert depends_on["redis"] == {"condition": "service_healthy"}, name


def test_the_servers_are_the_measured_set_up():
    http = SERVICES["web-http"]["command"]
    assert http[:2] == ["gunicorn", "pomodoro.wsgi:application"]
    assert not any(arg.startswith(("-k", "--worker-class")) for arg in http)  # sync workers
    ws = SERVICES["web-ws"]["command"]
    assert ws[:2] == ["uvicorn", "pomodoro.asgi:application"]
    assert any(arg.startswith("--timeout-graceful-shutdown") for arg in ws)
    assert SERVICES["worker"]["command"][:3] == ["python", "manage.py", "run_timer_worker"]


@pytest.mark.parametrize("worker", ["worker", "webhook-worker"])
def test_the_worker_health_check_reads_the_file_the_worker_touches(worker):
    command = SERVICES[worker]["command"]
    heartbeat = next(arg.split("=", 1)[1] for arg in command if arg.startswith("--heartbeat-file"))
    assert heartbeat in " ".join(SERVICES[worker]["healthcheck"]["test"])


def test_the_proxy_routes_sockets_to_uvicorn_and_the_rest_to_gunicorn():
    upstreams = dict(re.findall(r"set \$(\w+) http://([\w-]+):8000;", NGINX))
    assert upstreams == {"web_http": "web-http", "web_ws": "web-ws"}
    assert set(upstreams.values()) <= set(SERVICES)
    ws_location = NGINX[NGINX.index("location /ws/") :]
    ws_location = ws_location[: ws_location.index("}")]
    assert "proxy_pass $web_ws;" in ws_location
    assert "proxy_pass $web_http;" in NGINX[NGINX.index("location / {") :]
    server_level = NGINX[NGINX.index("server {") : NGINX.index("location ")]
    for header in (
        "Host $http_host",
        "X-Forwarded-For $proxy_add_x_forwarded_for",
        "X-Forwarded-Proto $scheme",
        "X-Request-Id $request_id",
        "Upgrade $http_upgrade",
        "Connection $connection_upgrade",
    ):
        assert f"proxy_set_header {header};" in server_level


def test_no_location_drops_the_servers_proxy_headers():
    """A proxy_set_header inside a location makes nginx ignore every server-level one
    there: Host (ALLOWED_HOSTS), X-Forwarded-For (rate limits per client) and the rest."""
    locations = re.findall(r"location [^{]*\{([^}]*)\}", NGINX)
    assert len(locations) >= 3
    assert not [body for body in locations if "proxy_set_header" in body]
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in SERVICES["proxy"]["volumes"]
    assert SERVICES["proxy"]["ports"] == ["8000:8000"]


def test_only_the_proxy_publishes_a_port():
    published = [name for name, service in SERVICES.items() if service.get("ports")]
    assert published == ["proxy"]


def test_the_proxy_body_limit_is_above_the_applications():
    from django.conf import settings

    limit = re.search(r"client_max_body_size (\d+)k;", NGINX)
    assert limit is not None
    application_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    assert int(limit.group(1)) * 1024 >= application_limit
