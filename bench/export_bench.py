"""Export benchmark: streams a heavy user's whole history as CSV and JSON.

Seeds (once) a user with about three years of daily use, ~10,000 finished sessions,
written straight with bulk_create (a benchmark seed, not the timer's path). Then
streams `GET /api/v1/sessions/export/` through Django's test client in this process
(or from a running server with --url) and prints one JSON object: rows/s per format
and, in process, how far the memory rises while streaming (RSS sampled at every
chunk, and tracemalloc's peak) for the whole history and for its first third, which
should be about the same if the export is flat.

    DJANGO_ENV=production DATABASE_URL=postgres://... .venv/bin/python -m bench.export_bench
"""

import argparse
import datetime
import gc
import json
import os
import statistics
import sys
import time
import tracemalloc
import urllib.request

import django

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pomodoro.env import use_settings_from_environment

use_settings_from_environment()
django.setup()

from django.db import transaction  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import user_create  # noqa: E402
from accounts.tokens import token_pair_for  # noqa: E402
from sessions_app.models import Project, Session, SessionSegment, Task  # noqa: E402

EMAIL = "export-bench@example.com"
PATH = "/api/v1/sessions/export/"
FIRST_DAY = datetime.datetime(2023, 1, 2, 7, 0, tzinfo=datetime.UTC)
NAMES = ("", "Deep work", 'Review, "final"', "=1+1 looks like a formula", "Café notes")


def seed(target: int) -> tuple[User, int]:
    """The bench user with at least `target` finished sessions: 9 a day from FIRST_DAY,
    25-minute focus sessions and 5-minute breaks, on a handful of tasks and projects."""
    user = User.objects.filter(email=EMAIL).first()
    if user is None:
        user = user_create(email=EMAIL, password="bench passphrase 1", display_name="Export bench")
        User.objects.filter(pk=user.pk).update(timezone="Europe/Paris")
        user.refresh_from_db()
    existing = Session.objects.filter(user=user, deleted_at__isnull=True).count()
    if existing >= target:
        return user, existing
    with transaction.atomic():
        Session.objects.filter(user=user).delete()
        projects = Project.objects.bulk_create(
            Project(user=user, name=f"Client {n}, Ltd") for n in range(3)
        )
        tasks = Task.objects.bulk_create(
            Task(user=user, title=f"Task {n}", project=projects[n % 3] if n % 4 else None)
            for n in range(12)
        )
        sessions = []
        for index in range(target):
            day, slot = divmod(index, 9)
            focus = slot % 2 == 0
            seconds = 1500 if focus else 300
            started = FIRST_DAY + datetime.timedelta(days=day, minutes=35 * slot)
            sessions.append(
                Session(
                    user=user,
                    kind=Session.Kind.FOCUS if focus else Session.Kind.SHORT_BREAK,
                    state=Session.State.COMPLETED,
                    name=NAMES[index % len(NAMES)],
                    task=tasks[index % len(tasks)] if focus else None,
                    planned_seconds=seconds,
                    started_at=started,
                    ended_at=started + datetime.timedelta(seconds=seconds),
                    closed_running_time=datetime.timedelta(seconds=seconds),
                )
            )
        Session.objects.bulk_create(sessions, batch_size=2000)
        SessionSegment.objects.bulk_create(
            (
                SessionSegment(
                    session=session,
                    user=user,
                    started_at=session.started_at,
                    ended_at=session.ended_at,
                )
                for session in sessions
            ),
            batch_size=2000,
        )
    return user, target


def row_marker(file_format: str) -> bytes:
    # Seeded names hold no line breaks, so every CSV line end is a row end.
    return b"\r\n" if file_format == "csv" else b'{"id": '


class RowCounter:
    """Counts rows in a stream read in arbitrary pieces (a marker may be split)."""

    def __init__(self, file_format: str):
        self.marker = row_marker(file_format)
        self.header = 1 if file_format == "csv" else 0
        self.tail = b""
        self.found = 0

    def feed(self, chunk: bytes) -> None:
        data = self.tail + chunk
        self.found += data.count(self.marker)
        # Shorter than the marker, so no marker is counted twice.
        self.tail = data[-(len(self.marker) - 1) :]

    @property
    def rows(self) -> int:
        return self.found - self.header


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def stream_in_process(client: Client, query: dict, *, trace: bool) -> dict:
    """Streams one export; answers rows, bytes, seconds, first chunk and memory rise."""
    gc.collect()
    if trace:
        tracemalloc.start()
    baseline = rss_kb()
    peak_rss = baseline
    counter = RowCounter(query["format"])
    size = 0
    started = time.perf_counter()
    response = client.get(PATH, query)
    assert response.status_code == 200, response.status_code
    first_chunk = None
    for chunk in response.streaming_content:
        if first_chunk is None:
            first_chunk = time.perf_counter() - started
        size += len(chunk)
        counter.feed(chunk)
        peak_rss = max(peak_rss, rss_kb())
    response.close()
    seconds = time.perf_counter() - started
    result = {
        "rows": counter.rows,
        "bytes": size,
        "seconds": round(seconds, 4),
        "first_chunk_ms": round((first_chunk or seconds) * 1000, 2),
        "rss_growth_kb": peak_rss - baseline,
    }
    if trace:
        result["tracemalloc_peak_kb"] = tracemalloc.get_traced_memory()[1] // 1024
        tracemalloc.stop()
    return result


def stream_over_http(url: str, token: str, query: dict) -> dict:
    request = urllib.request.Request(
        f"{url.rstrip('/')}{PATH}?format={query['format']}",
        headers={"Authorization": f"Bearer {token}"},
    )
    counter = RowCounter(query["format"])
    size = 0
    started = time.perf_counter()
    first_chunk = None
    with urllib.request.urlopen(request) as response:
        while chunk := response.read1(64 * 1024):
            if first_chunk is None:
                first_chunk = time.perf_counter() - started
            size += len(chunk)
            counter.feed(chunk)
    seconds = time.perf_counter() - started
    return {
        "rows": counter.rows,
        "bytes": size,
        "seconds": round(seconds, 4),
        "first_chunk_ms": round((first_chunk or seconds) * 1000, 2),
    }


def summary(runs: list[dict], expected_rows: int) -> dict:
    assert all(run["rows"] == expected_rows for run in runs), (runs, expected_rows)
    seconds = [run["seconds"] for run in runs]
    best = min(runs, key=lambda run: run["seconds"])
    figures = {
        "rows": expected_rows,
        "bytes": best["bytes"],
        "runs": len(runs),
        "median_seconds": round(statistics.median(seconds), 4),
        "rows_per_s_median": round(expected_rows / statistics.median(seconds)),
        "rows_per_s_best": round(expected_rows / best["seconds"]),
        "first_chunk_ms_median": round(statistics.median(r["first_chunk_ms"] for r in runs), 2),
    }
    if "rss_growth_kb" in best:
        figures["rss_growth_kb_max"] = max(run["rss_growth_kb"] for run in runs)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--url", help="a running server, such as http://127.0.0.1:8100")
    args = parser.parse_args()

    user, count = seed(args.sessions)
    token = token_pair_for(user)["access"]
    result: dict = {"sessions": count, "where": args.url or "in process (django.test.Client)"}
    for file_format in ("csv", "json"):
        query = {"format": file_format}
        if args.url:
            stream_over_http(args.url, token, query)  # warm-up
            runs = [stream_over_http(args.url, token, query) for _ in range(args.runs)]
        else:
            client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
            stream_in_process(client, query, trace=False)  # warm-up
            runs = [stream_in_process(client, query, trace=False) for _ in range(args.runs)]
        result[file_format] = summary(runs, count)

    if not args.url:
        # Python heap peak while streaming everything vs the first third of the history
        # (both read several 2,000-row chunks): flat means about equal.
        client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
        third_end = (FIRST_DAY + datetime.timedelta(days=count // 9 // 3)).isoformat()
        whole = stream_in_process(client, {"format": "csv"}, trace=True)
        third = stream_in_process(client, {"format": "csv", "to": third_end}, trace=True)
        result["memory"] = {
            "tracemalloc_peak_kb_all_rows": whole["tracemalloc_peak_kb"],
            "tracemalloc_peak_kb_third": third["tracemalloc_peak_kb"],
            "third_rows": third["rows"],
            "rss_growth_kb_all_rows": whole["rss_growth_kb"],
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
