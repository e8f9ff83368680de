"""Counts the SQL statements each timer action sends, authentication included."""

import datetime
import functools
import json
import os
import random
import sys

import django

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pomodoro.env import use_settings_from_environment

use_settings_from_environment()
django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def main(tokens_file: str) -> None:
    with open(tokens_file) as handle:
        token = json.load(handle)[0]
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    counts = {}
    # The timer benchmark may have left this user's last cycle open.
    active = client.get("/api/v1/sessions/active/")
    if active.status_code == 200:
        client.post(f"/api/v1/sessions/{active.json()['id']}/stop/", content_type=JSON)
    with CaptureQueriesContext(connection) as create:
        session = client.post("/api/v1/sessions/", {}, content_type="application/json").json()
    counts["create"] = len(create)
    for action in ("pause", "start", "stop"):
        with CaptureQueriesContext(connection) as queries:
            # With a JSON type, as clients send: the test client's default is a multipart
            # body, which stop (it takes an optional body) refuses with 415.
            client.post(f"/api/v1/sessions/{session['id']}/{action}/", content_type=JSON)
        counts[action] = len(queries)
        if action == "pause" and os.environ.get("BENCH_SHOW_SQL"):
            for query in queries:
                print(query["sql"][:160], file=sys.stderr)
    counts.update(_correction_counts(client))
    print(json.dumps(counts))


def _correction_counts(client: Client) -> dict[str, int]:
    """A stopwatch's resume (it reads its limit), a stop at a past moment, and the
    corrections of an active session's start and of an ended session's times (a manual
    entry at a random minute of a year ago, so that reruns find the time free)."""
    counts = {}
    post = functools.partial(client.post, content_type=JSON)
    session = post("/api/v1/sessions/", {"kind": "stopwatch"}).json()
    url = f"/api/v1/sessions/{session['id']}/"
    post(url + "pause/")
    with CaptureQueriesContext(connection) as queries:
        resumed = post(url + "start/").json()
    counts["start_stopwatch"] = len(queries)
    with CaptureQueriesContext(connection) as queries:
        client.patch(url, {"started_at": resumed["started_at"]}, content_type=JSON)
    counts["patch_started_at_unchanged"] = len(queries)
    with CaptureQueriesContext(connection) as queries:
        post(url + "stop/", {"at": resumed["server_time"]})
    counts["stop_at"] = len(queries)
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(
        days=365, minutes=random.randrange(500_000)
    )
    entry = post(
        "/api/v1/sessions/log/",
        {"started_at": start.isoformat(), "ended_at": (start + HALF_HOUR).isoformat()},
    ).json()
    with CaptureQueriesContext(connection) as queries:
        client.patch(
            f"/api/v1/sessions/{entry['id']}/",
            {"ended_at": (start + HALF_HOUR - MINUTE).isoformat()},
            content_type=JSON,
        )
    counts["patch_ended_times"] = len(queries)
    return counts


JSON = "application/json"
MINUTE = datetime.timedelta(minutes=1)
HALF_HOUR = datetime.timedelta(minutes=30)


if __name__ == "__main__":
    main(sys.argv[1])
