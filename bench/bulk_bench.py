"""Bulk changes: `POST sessions/bulk/` on 500 sessions (the most one request takes).

For each run it seeds a fresh user with --sessions finished sessions (bulk inserts,
a benchmark seed) and two tags, then times, through Django's test client in this
process, one request of each kind on all of them: add a tag, rename, remove the tag,
set a task, delete. Prints one JSON object: per kind the median and worst wall time
of --runs runs and the statements the request sent. With --webhook the user has a
webhook endpoint too, so each event also writes its outbox row (the reaction every
event runs).

    DATABASE_URL=postgres://... .venv/bin/python -m bench.bulk_bench [--webhook]
"""

import argparse
import datetime
import json
import os
import statistics
import sys
import time
import uuid

import django

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pomodoro.env import use_settings_from_environment

use_settings_from_environment()
django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.services import user_create  # noqa: E402
from accounts.tokens import token_pair_for  # noqa: E402
from integrations.services import webhook_create  # noqa: E402
from sessions_app.models import Session, Tag, Task  # noqa: E402

PATH = "/api/v1/sessions/bulk/"
START = datetime.datetime(2025, 1, 6, 7, 0, tzinfo=datetime.UTC)


def seeded_client(count: int, *, webhook: bool) -> tuple[Client, list[int], dict]:
    user = user_create(
        email=f"bulk-{uuid.uuid4().hex[:10]}@example.com", password="bench passphrase 1"
    )
    if webhook:
        webhook_create(user=user, url="https://hooks.example.com/bench", event_types=["*"])
    tags = Tag.objects.bulk_create(Tag(user=user, name=f"tag {n}") for n in range(2))
    task = Task.objects.create(user=user, title="Bench task")
    sessions = Session.objects.bulk_create(
        Session(
            user=user,
            kind=Session.Kind.FOCUS,
            state=Session.State.COMPLETED,
            planned_seconds=1500,
            started_at=START + datetime.timedelta(minutes=30 * n),
            ended_at=START + datetime.timedelta(minutes=30 * n + 25),
            closed_running_time=datetime.timedelta(minutes=25),
            tag_ids=[tags[1].pk],
        )
        for n in range(count)
    )
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token_pair_for(user)['access']}"
    ids = [session.pk for session in sessions]
    return client, ids, {"tag": tags[0].pk, "task": task.pk}


def bodies(ids: list[int], refs: dict) -> dict[str, dict]:
    update = {"ids": ids, "action": "update"}
    return {
        "add a tag": {**update, "changes": {"add_tags": [refs["tag"]]}},
        "rename": {**update, "changes": {"name": "Renamed in bulk"}},
        "remove a tag": {**update, "changes": {"remove_tags": [refs["tag"]]}},
        "set a task": {**update, "changes": {"task": refs["task"]}},
        "delete": {"ids": ids, "action": "delete"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--webhook", action="store_true")
    args = parser.parse_args()
    settings.DEBUG = False
    timings: dict[str, list[float]] = {}
    statements: dict[str, int] = {}
    client, ids, refs = seeded_client(1, webhook=args.webhook)
    for body in bodies(ids, refs).values():  # warm: the first request imports modules
        client.post(PATH, body, content_type="application/json")
    for _ in range(args.runs):
        client, ids, refs = seeded_client(args.sessions, webhook=args.webhook)
        for kind, body in bodies(ids, refs).items():
            connection.queries_log.clear()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.post(PATH, body, content_type="application/json")
                timings.setdefault(kind, []).append(time.perf_counter() - started)
            assert response.status_code == 200, response.content
            assert response.json() == {"count": args.sessions}, response.json()
            statements[kind] = len(queries)
    print(
        json.dumps(
            {
                "sessions": args.sessions,
                "runs": args.runs,
                "webhook": args.webhook,
                "results": {
                    kind: {
                        "median_ms": round(statistics.median(seconds) * 1000, 1),
                        "worst_ms": round(max(seconds) * 1000, 1),
                        "statements": statements[kind],
                    }
                    for kind, seconds in timings.items()
                },
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
