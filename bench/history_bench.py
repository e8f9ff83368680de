"""History search and filters: `GET sessions/` with `project`, `tag`, `source`, `q`
on a user with 100,000 sessions, among neighbours with histories of their own.

Seeds (once) the bench user with --sessions finished sessions (default 100,000) and
--neighbours other users with a quarter of that each, written with bulk inserts (a
benchmark seed, not the timer's path): names and descriptions drawn from a small
vocabulary plus a rare word every 5,000 sessions, 30 tasks in 5 projects, 12 tags
(0 to 2 a session) and one rare tag on 10 sessions, a tenth of the sessions manual.
Then, for each common filter, it prints the plan PostgreSQL chooses for the first
page (EXPLAIN ANALYZE of the page's query) and times the whole request through
Django's test client (median of --runs).

    DATABASE_URL=postgres://... .venv/bin/python -m bench.history_bench [--explain]
"""

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import time

import django

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pomodoro.env import use_settings_from_environment

use_settings_from_environment()
django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import user_create  # noqa: E402
from accounts.tokens import token_pair_for  # noqa: E402
from sessions_app.models import Project, Session, Tag, Task  # noqa: E402

EMAIL = "history-bench{}@example.com"
PATH = "/api/v1/sessions/"
FIRST_DAY = datetime.datetime(2020, 1, 6, 7, 0, tzinfo=datetime.UTC)
WORDS = [
    "review",
    "draft",
    "meeting",
    "call",
    "email",
    "planning",
    "reading",
    "writing",
    "chapter",
    "report",
    "design",
    "refactor",
    "tests",
    "invoice",
    "budget",
    "sprint",
    "notes",
    "research",
    "outline",
    "slides",
    "interview",
]
RARE_WORD = "zanzibar"  # in one session of 5,000


def seed_user(index: int, count: int) -> User:
    """User `index` with `count` finished sessions, seeded once."""
    email = EMAIL.format(index)
    user = User.objects.filter(email=email).first()
    if user is not None and Session.objects.filter(user=user).count() >= count:
        return user
    if user is None:
        user = user_create(email=email, password="bench passphrase 1", display_name=email)
    rng = random.Random(index)
    with transaction.atomic():
        Session.objects.filter(user=user).delete()
        Task.objects.filter(user=user).delete()
        Project.objects.filter(user=user).delete()
        Tag.objects.filter(user=user).delete()
        projects = Project.objects.bulk_create(
            Project(user=user, name=f"Project {n}") for n in range(5)
        )
        tasks = Task.objects.bulk_create(
            Task(user=user, title=f"{rng.choice(WORDS)} task {n}", project=projects[n % 5])
            for n in range(30)
        )
        tags = Tag.objects.bulk_create(Tag(user=user, name=f"tag {n}") for n in range(12))

        def session(number: int) -> Session:
            started = FIRST_DAY + datetime.timedelta(minutes=35 * number)
            task = tasks[number % 30] if number % 3 else None
            words = rng.sample(WORDS, 3)
            if number % 5000 == 17:
                words[1] = RARE_WORD
            return Session(
                user=user,
                kind=Session.Kind.FOCUS,
                state=Session.State.COMPLETED,
                source=Session.Source.MANUAL if number % 10 == 0 else Session.Source.TIMER,
                name=" ".join(words[:2]),
                description=f"{words[2]} and more" if number % 4 == 0 else "",
                task=task,
                project_id=task.project_id if task else projects[number % 5].pk,
                tag_ids=sorted({tags[t].pk for t in rng.sample(range(12), number % 3)}),
                planned_seconds=1500,
                started_at=started,
                ended_at=started + datetime.timedelta(seconds=1500),
                closed_running_time=datetime.timedelta(seconds=1500),
            )

        Session.objects.bulk_create((session(n) for n in range(count)), batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sessions_app_session; ANALYZE sessions_app_task")
    return user


def rare_tag_of(user: User) -> int:
    """A tag on 10 of the user's sessions only, spread over the history."""
    tag, created = Tag.objects.get_or_create(user=user, name="rare")
    if created:
        ids = list(Session.objects.filter(user=user).order_by("pk").values_list("pk", flat=True))
        chosen = ids[:: len(ids) // 10][:10]
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE sessions_app_session SET tag_ids = tag_ids || %s::bigint "
                "WHERE id = ANY(%s)",
                [tag.pk, chosen],
            )
            cursor.execute("ANALYZE sessions_app_session")
    return tag.pk


def page_sql(user: User, query: dict) -> tuple[str, list]:
    """The SQL of the first page the view reads for `query`, from the view itself."""
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token_pair_for(user)['access']}"
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PATH, query)
    assert response.status_code == 200, response.content
    selects = [q["sql"] for q in queries.captured_queries if "sessions_app_session" in q["sql"]]
    return selects[-1]


def explain(sql: str) -> tuple[str, float]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) " + sql)
        lines = [row[0] for row in cursor.fetchall()]
    execution = next(line for line in lines if line.startswith("Execution Time"))
    return "\n".join(lines), float(execution.split(":")[1].split()[0])


def timed_request(user: User, query: dict, runs: int) -> tuple[float, int, int]:
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token_pair_for(user)['access']}"
    client.get(PATH, query)  # warm
    seconds = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(PATH, query)
            seconds.append(time.perf_counter() - started)
    return statistics.median(seconds) * 1000, len(response.json()["results"]), len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--neighbours", type=int, default=4)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--explain", action="store_true", help="print each plan in full")
    args = parser.parse_args()

    started = time.perf_counter()
    user = seed_user(0, args.sessions)
    for index in range(1, args.neighbours + 1):
        seed_user(index, args.sessions // 4)
    seeded = time.perf_counter() - started
    project = Project.objects.filter(user=user).order_by("pk").first().pk
    tag = Tag.objects.filter(user=user).order_by("pk").first().pk
    rare_tag = rare_tag_of(user)
    cases = {
        "no filter": {},
        "project": {"project": project},
        "tag": {"tag": tag},
        "source=manual": {"source": "manual"},
        "project+tag": {"project": project, "tag": tag},
        "rare tag": {"tag": rare_tag},
        "q rare word": {"q": RARE_WORD},
        "q common word": {"q": "review"},
        "q task title": {"q": "task 7"},
        "q two letters": {"q": "zz"},
        "month + tag": {"period": "month", "date": "2024-03-10", "tag": tag},
    }
    results = {}
    for label, query in cases.items():
        plan, execution_ms = explain(page_sql(user, query))
        request_ms, rows, statements = timed_request(user, query, args.runs)
        results[label] = {
            "request_ms": round(request_ms, 1),
            "page_query_ms": round(execution_ms, 2),
            "rows": rows,
            "statements": statements,
        }
        if args.explain:
            print(f"--- {label} {query}\n{plan}\n", file=sys.stderr)
    print(
        json.dumps(
            {
                "sessions_of_user": Session.objects.filter(user=user).count(),
                "sessions_in_table": Session.objects.count(),
                "seed_seconds": round(seeded, 1),
                "results": results,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
