"""Analytics benchmark: server time of the reports on a database with years of history.

Seeds (once; reused while fresh) 10,000 users with bulk_create (a benchmark seed, not
the timer's path): one heavy user with three years of daily use up to now (9 sessions
a day, about 10,000 in all: 25-minute focus sessions, some paused once or interrupted,
breaks, a few deleted, tasks with goals, one running now), and the others with a
little recent activity each in a spread of time zones and day starts; a share of them
(`--active-share`) with focus time in the last hours, another share earlier this week.

Then measures, in this process through Django's test client (the whole Django request:
middleware, JWT authentication, view, serialization; no HTTP server), the heavy user's
month summary and year heatmap and the global leaderboards (today cold, with the cache
entry deleted before each request, and warm; this week and all time cold), and streams
the heavy user's whole history as CSV and JSON (bench/export_bench.py). With --port it
also times the same requests through a running server. Prints one JSON object.

    DJANGO_ENV=production DATABASE_URL=postgres://... .venv/bin/python -m bench.analytics_bench
"""

import argparse
import asyncio
import datetime
import json
import os
import random
import statistics
import sys
import time
import zoneinfo

import django

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pomodoro.env import use_settings_from_environment

use_settings_from_environment()
django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts import timeframes  # noqa: E402
from accounts.models import TimerSettings, User  # noqa: E402
from accounts.tokens import token_pair_for  # noqa: E402
from bench import export_bench  # noqa: E402
from bench.httpload import Connection, percentile  # noqa: E402
from sessions_app.models import Project, Session, SessionSegment, Task  # noqa: E402

UTC = datetime.UTC
HEAVY_EMAIL = "analytics-heavy@example.com"
LIGHT_EMAIL = "analytics{}@example.com"
HEAVY_ZONE = "Europe/Paris"
HEAVY_DAYS = 3 * 365
# A heavy day from 08:00 local, a session every 35 minutes: F S F S F S F L F.
DAY_PLAN = ("focus", "short_break", "focus", "short_break", "focus", "short_break", "focus")
DAY_PLAN += ("long_break", "focus")
LENGTH = {"focus": 1500, "short_break": 300, "long_break": 900}
LIGHT_ZONES = (
    "UTC",
    "Europe/Paris",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)
# A seed is reused while its newest session is younger than this, so that "today"
# and "this week" still hold what was seeded for them.
FRESH_FOR = datetime.timedelta(hours=3)
TARGETS_MS = {"summary_month": 20, "heatmap_year": 50, "leaderboard_today": 100}
TARGET_EXPORT_ROWS_PER_S = 20_000
WARM_UP = 20  # requests before each case's measured ones
API = "/api/v1/"


# --- Seed --------------------------------------------------------------------------


def _users(count: int) -> tuple[User, list[User]]:
    """The heavy user and count - 1 light ones, created in bulk where missing."""
    emails = [HEAVY_EMAIL] + [LIGHT_EMAIL.format(n) for n in range(1, count)]
    existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    password = make_password("bench passphrase 1")
    missing = []
    for n, email in enumerate(emails):
        if email in existing:
            continue
        zone = HEAVY_ZONE if n == 0 else LIGHT_ZONES[n % len(LIGHT_ZONES)]
        missing.append(
            User(
                email=email,
                password=password,
                display_name="Heavy user" if n == 0 else f"Analytics {n}",
                timezone=zone,
                day_starts_at=datetime.time(4 if n % 5 == 1 else 0),
                week_starts_on=6 if n % 7 == 3 else 0,
                leaderboard_opt_out=n % 20 == 7,
            )
        )
    created = User.objects.bulk_create(missing, batch_size=2000)
    TimerSettings.objects.bulk_create(
        (TimerSettings(user=user) for user in created), batch_size=2000
    )
    heavy = User.objects.get(email=HEAVY_EMAIL)
    light = list(User.objects.filter(email__in=emails[1:]).only("pk", "email"))
    return heavy, light


def _heavy_tasks(heavy: User) -> list[Task]:
    tasks = list(Task.objects.filter(user=heavy).order_by("pk"))
    if tasks:
        return tasks
    projects = Project.objects.bulk_create(
        Project(user=heavy, name=name) for name in ("Thesis", 'Client "A", Ltd', "Home")
    )
    goals = (50, 25, 100, 30)
    return Task.objects.bulk_create(
        Task(
            user=heavy,
            title=f"Task {n}",
            project=projects[n % 3] if n % 4 else None,
            daily_goal_minutes=goals[n] if n < len(goals) else None,
        )
        for n in range(12)
    )


def _session(user, kind, start, seconds, **fields) -> Session:
    planned = None if kind == "stopwatch" else fields.pop("planned", seconds)
    return Session(
        user=user,
        kind=kind,
        state=fields.pop("state", Session.State.COMPLETED),
        planned_seconds=planned,
        started_at=start,
        ended_at=start + datetime.timedelta(seconds=seconds),
        closed_running_time=datetime.timedelta(seconds=seconds),
        **fields,
    )


def _heavy_history(heavy: User, tasks: list[Task], now: datetime.datetime) -> list[tuple]:
    """(session, [(start, end), ...]) for the heavy user's days up to now, oldest first."""
    zone = zoneinfo.ZoneInfo(HEAVY_ZONE)
    today = now.astimezone(zone).date()
    history = []
    focus_count = index = 0
    for day_number in range(HEAVY_DAYS):
        day = today - datetime.timedelta(days=HEAVY_DAYS - 1 - day_number)
        opening = datetime.datetime.combine(day, datetime.time(8), tzinfo=zone).astimezone(UTC)
        for slot, kind in enumerate(DAY_PLAN):
            start = opening + datetime.timedelta(minutes=35 * slot)
            index += 1
            fields = {"name": "" if index % 3 else f'Session {index}, part "{slot}"'}
            if index % 97 == 0:
                fields["deleted_at"] = start + datetime.timedelta(hours=1)
            seconds = LENGTH[kind]
            parts = [(0, seconds)]
            if kind == "focus":
                focus_count += 1
                task_number = focus_count % (len(tasks) + 1)
                fields["task"] = tasks[task_number] if task_number < len(tasks) else None
                if focus_count % 23 == 0:
                    fields["state"] = Session.State.INTERRUPTED
                    seconds, parts = 600, [(0, 600)]
                elif focus_count % 7 == 0:
                    parts = [(0, 720), (900, 1680)]  # paused three minutes
            session = _session(heavy, kind, start, seconds, **fields)
            session.ended_at = start + datetime.timedelta(seconds=parts[-1][1])
            if session.ended_at > now:
                return history
            history.append(
                (
                    session,
                    [
                        (
                            start + datetime.timedelta(seconds=a),
                            start + datetime.timedelta(seconds=b),
                        )
                        for a, b in parts
                    ],
                )
            )
    return history


def _light_history(users: list[User], now, active_share: float, rng) -> list[tuple]:
    """Two sessions in the last month for everyone; focus in the last hours for
    `active_share` of them, and earlier this week for as many others."""
    history = []
    minutes = datetime.timedelta(minutes=1)
    for n, user in enumerate(users):
        for _ in range(2):
            start = now - rng.randint(8 * 24 * 60, 30 * 24 * 60) * minutes
            history.append((_session(user, "focus", start, 1500), None))
        share = rng.random()
        if share < active_share:
            base = rng.randint(30, 14 * 60)
            for j in range(rng.randint(1, 4)):
                start = now - (base + 40 * j) * minutes
                kind = "stopwatch" if n % 9 == 0 else "focus"
                history.append((_session(user, kind, start, rng.randint(600, 1500)), None))
        elif share < 2 * active_share:
            for _ in range(rng.randint(1, 3)):
                start = now - rng.randint(26 * 60, 6 * 24 * 60) * minutes
                history.append((_session(user, "focus", start, 1500), None))
    return history


def seed(*, users: int, active_share: float) -> dict:
    """Creates what is missing and (re)writes the sessions unless a fresh seed is there."""
    started = time.perf_counter()
    now = timezone.now()
    heavy, light = _users(users)
    bench_users = User.objects.filter(email__startswith="analytics")
    newest = (
        Session.objects.filter(user__in=bench_users)
        .order_by("-started_at")
        .values_list("started_at", flat=True)
        .first()
    )
    reused = newest is not None and now - newest < FRESH_FOR
    if not reused:
        with transaction.atomic():
            SessionSegment.objects.filter(user__in=bench_users)._raw_delete(connection.alias)
            Session.objects.filter(user__in=bench_users)._raw_delete(connection.alias)
            tasks = _heavy_tasks(heavy)
            history = _heavy_history(heavy, tasks, now)
            running = _session(
                heavy, "focus", now - datetime.timedelta(minutes=10), 0, task=tasks[0]
            )
            running.state = Session.State.RUNNING
            running.ended_at = None
            running.running_since = running.started_at
            running.target_end_at = running.started_at + datetime.timedelta(seconds=1500)
            running.planned_seconds = 1500
            history.append((running, [(running.started_at, None)]))
            history += _light_history(light, now, active_share, random.Random(5))
            sessions = Session.objects.bulk_create([s for s, _ in history], batch_size=5000)
            SessionSegment.objects.bulk_create(
                (
                    SessionSegment(
                        session=session, user_id=session.user_id, started_at=a, ended_at=b
                    )
                    for session, (_, parts) in zip(sessions, history, strict=True)
                    for a, b in (parts or [(session.started_at, session.ended_at)])
                ),
                batch_size=5000,
            )
        connection.cursor().execute("ANALYZE")
    return {
        "users": User.objects.filter(email__startswith="analytics").count(),
        "heavy_sessions": Session.objects.filter(user=heavy).count(),
        "heavy_segments": SessionSegment.objects.filter(user=heavy).count(),
        "all_sessions": Session.objects.count(),
        "all_segments": SessionSegment.objects.count(),
        "seed_reused": reused,
        "seed_seconds": round(time.perf_counter() - started, 1),
    }


# --- Measure -----------------------------------------------------------------------


def figures(seconds: list[float], target_ms: float | None = None) -> dict:
    result = {
        "requests": len(seconds),
        "p50_ms": round(percentile(seconds, 0.50) * 1000, 2),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 2),
        "mean_ms": round(statistics.mean(seconds) * 1000, 2),
        "max_ms": round(max(seconds) * 1000, 2),
    }
    if target_ms is not None:
        result["target_p99_ms"] = target_ms
        result["met"] = result["p99_ms"] < target_ms
    return result


def cases(heavy: User) -> list[tuple[str, str, str | None]]:
    """(name, path, cache key deleted before each request, or None)."""
    today = timeframes.today(heavy)
    year_ago = today - datetime.timedelta(days=364)
    board = "analytics:leaderboard:{}"
    return [
        ("summary_month", f"{API}analytics/summary/?period=month", None),
        ("heatmap_year", f"{API}analytics/heatmap/?from={year_ago}&to={today}", None),
        ("leaderboard_today_cold", f"{API}leaderboard/?period=today", board.format("today")),
        ("leaderboard_today_warm", f"{API}leaderboard/?period=today", None),
        ("leaderboard_week_cold", f"{API}leaderboard/?period=week", board.format("week")),
        ("leaderboard_all_cold", f"{API}leaderboard/?period=all", board.format("all")),
    ]


def target_for(name: str) -> float | None:
    return next((ms for key, ms in TARGETS_MS.items() if name.startswith(key)), None)


class StatementCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def measure_in_process(token: str, heavy: User, requests: int) -> dict:
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    results = {}
    for name, path, cold_key in cases(heavy):
        for _ in range(WARM_UP):  # warm-up: imports, connections, the warm board's entry
            if cold_key:  # a cold case warms up the path it measures
                cache.delete(cold_key)
            client.get(path)
        statements = StatementCounter()
        if cold_key:
            cache.delete(cold_key)
        # Counted at the driver: the request's start resets Django's own query log.
        with connection.execute_wrapper(statements):
            client.get(path)
        timings = []
        for _ in range(requests):
            if cold_key:
                cache.delete(cold_key)
            started = time.perf_counter()
            response = client.get(path)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, (path, response.status_code)
        results[name] = figures(timings, target_for(name)) | {"sql_statements": statements.count}
    return results


async def measure_over_http(port: int, token: str, heavy: User, requests: int) -> dict:
    server = Connection("127.0.0.1", port)
    results = {}
    try:
        for name, path, cold_key in cases(heavy):
            # Enough for every worker of a freshly started server to have served the
            # path once, cold cases included (each worker's first board computation
            # loads its time zones and was the p99 of 200 requests).
            for _ in range(WARM_UP):
                if cold_key:
                    cache.delete(cold_key)
                await server.request("GET", path, token=token)
            timings = []
            for _ in range(requests):
                if cold_key:
                    cache.delete(cold_key)
                status, _, took = await server.request("GET", path, token=token)
                assert status == 200, (path, status)
                timings.append(took)
            results[name] = figures(timings, target_for(name))
    finally:
        await server.close()
    return results


def measure_export(token: str, heavy: User, runs: int) -> dict:
    """bench/export_bench.py's in-process streaming, on the heavy user's history."""
    rows = Session.objects.filter(user=heavy, deleted_at__isnull=True).count()
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    result = {}
    for file_format in ("csv", "json"):
        query = {"format": file_format}
        export_bench.stream_in_process(client, query, trace=False)  # warm-up
        timed = [export_bench.stream_in_process(client, query, trace=False) for _ in range(runs)]
        result[file_format] = export_bench.summary(timed, rows)
    result["csv"]["target_rows_per_s"] = TARGET_EXPORT_ROWS_PER_S
    result["csv"]["met"] = result["csv"]["rows_per_s_median"] > TARGET_EXPORT_ROWS_PER_S
    first = Session.objects.filter(user=heavy).order_by("started_at").first().started_at
    third_end = (first + datetime.timedelta(days=HEAVY_DAYS // 3)).isoformat()
    whole = export_bench.stream_in_process(client, {"format": "csv"}, trace=True)
    third = export_bench.stream_in_process(client, {"format": "csv", "to": third_end}, trace=True)
    result["memory"] = {
        "tracemalloc_peak_kb_all_rows": whole["tracemalloc_peak_kb"],
        "tracemalloc_peak_kb_third": third["tracemalloc_peak_kb"],
        "third_rows": third["rows"],
        "rss_growth_kb_all_rows": whole["rss_growth_kb"],
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--active-share", type=float, default=0.2)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--export-runs", type=int, default=3)
    parser.add_argument("--port", type=int, help="also time the requests through this server")
    args = parser.parse_args()

    result: dict = {"seed": seed(users=args.users, active_share=args.active_share)}
    heavy = User.objects.get(email=HEAVY_EMAIL)
    token = token_pair_for(heavy)["access"]
    result["where"] = "in process: django.test.Client, whole Django request, no HTTP server"
    result["in_process"] = measure_in_process(token, heavy, args.requests)
    if args.port:
        result["http"] = asyncio.run(measure_over_http(args.port, token, heavy, args.requests))
    result["export"] = measure_export(token, heavy, args.export_runs)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
