"""Report benchmark: GET analytics/report/ for the heavy user of bench/analytics_bench.py.

Uses (or makes) the analytics bench's seed (`analytics_bench.seed`: 10,000 users, the
heavy one with three years of daily use), then gives the heavy user's sessions what
reports group by: each session its task's project, and tags (3 tags; a session in two
of three gets one or two of them). Then times, in this process through Django's test
client (the whole request: middleware, JWT authentication, view, serialization), the
reports of the last 365 days (366 days, `to` today): grouped by project and tag (the
target: p99 under 50 ms), by month and project, by day, by task, and the first as CSV.
Prints one JSON object.

    DJANGO_ENV=production DATABASE_URL=postgres://... .venv/bin/python -m bench.report_bench
"""

import argparse
import datetime
import gc
import json
import os
import sys
import time

import django

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pomodoro.env import use_settings_from_environment

use_settings_from_environment()
django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from accounts import timeframes  # noqa: E402
from accounts.models import User  # noqa: E402
from accounts.tokens import token_pair_for  # noqa: E402
from bench.analytics_bench import (  # noqa: E402
    HEAVY_EMAIL,
    WARM_UP,
    StatementCounter,
    figures,
    seed,
)
from sessions_app.models import Session, Tag  # noqa: E402

API = "/api/v1/"
TARGET_P99_MS = 50
TAG_NAMES = ("deep", "review", "café")


def tag_heavy_history(heavy: User) -> dict:
    """Projects from tasks and tags on the heavy user's sessions (idempotent)."""
    with transaction.atomic():
        tags = [Tag.objects.get_or_create(user=heavy, name=name)[0] for name in TAG_NAMES]
        ids = [tag.pk for tag in tags]
        with connection.cursor() as cursor:
            cursor.execute(
                """UPDATE sessions_app_session s
                   SET project_id = t.project_id
                   FROM sessions_app_task t
                   WHERE s.task_id = t.id AND s.user_id = %s
                     AND s.project_id IS DISTINCT FROM t.project_id""",
                [heavy.pk],
            )
            cursor.execute(
                """UPDATE sessions_app_session
                   SET tag_ids = CASE id %% 3 WHEN 0 THEN ARRAY[]::bigint[]
                                             WHEN 1 THEN ARRAY[%s]::bigint[]
                                             ELSE ARRAY[%s, %s]::bigint[] END
                   WHERE user_id = %s
                     AND tag_ids IS DISTINCT FROM CASE id %% 3 WHEN 0 THEN ARRAY[]::bigint[]
                                             WHEN 1 THEN ARRAY[%s]::bigint[]
                                             ELSE ARRAY[%s, %s]::bigint[] END""",
                [ids[0], ids[1], ids[2], heavy.pk, ids[0], ids[1], ids[2]],
            )
        connection.cursor().execute("ANALYZE sessions_app_session")
    return {
        "sessions_with_project": Session.objects.filter(user=heavy, project__isnull=False).count(),
        "sessions_with_tags": Session.objects.filter(user=heavy).exclude(tag_ids=[]).count(),
    }


def measure(token: str, heavy: User, requests: int) -> dict:
    today = timeframes.today(heavy)
    year = {"from": (today - datetime.timedelta(days=365)).isoformat(), "to": today.isoformat()}
    cases = {
        "year_by_project_tag": {**year, "group_by": "project,tag"},
        "year_by_month_project": {**year, "group_by": "month,project"},
        "year_by_day": {**year, "group_by": "day"},
        "year_by_task": {**year, "group_by": "task"},
        "year_by_project_tag_csv": {**year, "group_by": "project,tag", "format": "csv"},
    }
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get(API + "analytics/report/", cases["year_by_project_tag"])  # imports, connection
    # As gunicorn.conf.py's post_worker_init does in each worker: the start-up objects out
    # of the collector's reach (docs/benchmarks.md, "Tails: the garbage collector").
    gc.collect()
    gc.freeze()
    results = {}
    for name, params in cases.items():
        path = API + "analytics/report/"

        def get(params=params, path=path):
            response = client.get(path, params)
            assert response.status_code == 200, response.content[:300]
            if response.streaming:
                b"".join(response.streaming_content)
            return response

        for _ in range(WARM_UP):
            get()
        statements = StatementCounter()
        with connection.execute_wrapper(statements):
            body = get()
        timings = []
        for _ in range(requests):
            started = time.perf_counter()
            get()
            timings.append(time.perf_counter() - started)
        target = TARGET_P99_MS if name == "year_by_project_tag" else None
        results[name] = figures(timings, target) | {"sql_statements": statements.count}
        if not body.streaming:
            data = body.json()
            results[name]["total_seconds"] = data["total_seconds"]
            results[name]["groups"] = len(data["groups"])
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    result: dict = {"seed": seed(users=args.users, active_share=0.2)}
    heavy = User.objects.get(email=HEAVY_EMAIL)
    result["tags"] = tag_heavy_history(heavy)
    token = token_pair_for(heavy)["access"]
    result["where"] = "in process: django.test.Client, whole Django request, no HTTP server"
    result["in_process"] = measure(token, heavy, args.requests)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
