"""The benchmarks are not run by the suite (they print figures; `make bench`), so a
model they import can move, or a column they write can appear, without any test
noticing: the publish benchmark imported Event from its old app, and the lean
reference's create failed on the tags column, for weeks. These keep them runnable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cpu_per_action import BENCH_ENVIRONMENT
from events.models import Event

ROOT = Path(__file__).resolve().parents[1]

IMPORT_ALL = """
import importlib, pkgutil
import bench, bench.reference
names = [f"bench.{m.name}" for m in pkgutil.iter_modules(bench.__path__)]
names += [f"bench.reference.{m.name}" for m in pkgutil.iter_modules(bench.reference.__path__)]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def test_every_benchmark_module_imports():
    """As `python -m bench.<name>` would, in a process of its own: they configure Django
    from the environment at import."""
    # scripts/bench's settings (production ones), on this run's servers.
    env = {**os.environ, **BENCH_ENVIRONMENT}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["DATABASE_URL"], env["REDIS_URL"] = os.environ["DATABASE_URL"], os.environ["REDIS_URL"]
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.strip().splitlines()[-1]) >= 20


@pytest.mark.django_db
def test_the_lean_reference_runs_the_cycle_and_answers_the_service_s_session_object(
    client, user, settings
):
    settings.ROOT_URLCONF = "bench.reference.urls"
    service = client.post("/api/v1/sessions/", {}, format="json").json()
    client.post(f"/api/v1/sessions/{service['id']}/stop/")

    created = client.post("/bench/reference/sessions/", {"kind": "focus"}, format="json")
    assert created.status_code == 201, created.content
    answers = [
        client.post(f"/bench/reference/sessions/{created.json()['id']}/{action}/")
        for action in ("pause", "start", "stop")
    ]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["state"] for a in answers] == ["paused", "running", "interrupted"]
    # the fields the service's session object has, less those a reference need not read
    print(sorted(set(service) - set(created.json())), sorted(set(created.json())))
    assert set(created.json()) >= set(service) - {"active_segment_started_at"}
    assert list(Event.objects.filter(user=user).order_by("seq").values_list("seq", flat=True)) == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]
