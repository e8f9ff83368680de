"""Counts the SQL statements each timer action sends, authentication included."""

import json
import os
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
        client.post(f"/api/v1/sessions/{active.json()['id']}/stop/")
    with CaptureQueriesContext(connection) as create:
        session = client.post("/api/v1/sessions/", {}, content_type="application/json").json()
    counts["create"] = len(create)
    for action in ("pause", "start", "stop"):
        with CaptureQueriesContext(connection) as queries:
            client.post(f"/api/v1/sessions/{session['id']}/{action}/")
        counts[action] = len(queries)
        if action == "pause" and os.environ.get("BENCH_SHOW_SQL"):
            for query in queries:
                print(query["sql"][:160], file=sys.stderr)
    print(json.dumps(counts))


if __name__ == "__main__":
    main(sys.argv[1])
