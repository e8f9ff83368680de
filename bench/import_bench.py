"""Import benchmark: 10,000 rows of a Toggl Track detailed report through POST
sessions/import/.

Writes a 10,000-row CSV in Toggl Track's format (a year of 25-minute entries, 5 projects,
a task in two of them, tags on two rows in three, non-ASCII names), then, for a fresh
user each run, posts it through Django's test client in this process (the whole
request: middleware, JWT authentication, multipart parsing, view) as a dry run and for
real, and prints one JSON object: seconds per import, rows per second, the statements
each sent, and what was written.

    DJANGO_ENV=production DATABASE_URL=postgres://... .venv/bin/python -m bench.import_bench
"""

import argparse
import datetime
import json
import os
import statistics
import sys
import time
import zoneinfo

import django

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pomodoro.env import use_settings_from_environment

use_settings_from_environment()
django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import user_create  # noqa: E402
from accounts.tokens import token_pair_for  # noqa: E402
from bench.analytics_bench import StatementCounter  # noqa: E402
from events.models import Event  # noqa: E402
from sessions_app.models import Session, Tag  # noqa: E402

PATH = "/api/v1/sessions/import/"
ROWS = 10_000
TARGET_SECONDS = 10
HEADER = (
    "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,"
    "End date,End time,Duration,Tags"
)
PROJECTS = ("Thèse", "Client A", "東京", "Home", "")
TAGS = ("deep", "review", "café")
ZONE = zoneinfo.ZoneInfo("Europe/Paris")


def toggl_csv(rows: int) -> bytes:
    """`rows` entries of 25 minutes, 40 minutes apart, from 2025-01-01 07:00 UTC, in
    Paris local time as Toggl Track writes them (both 2025 DST changes included)."""
    start = datetime.datetime(2025, 1, 1, 7, 0, tzinfo=datetime.UTC)
    lines = [HEADER]
    for n in range(rows):
        begin = (start + datetime.timedelta(minutes=40 * n)).astimezone(ZONE)
        end = (start + datetime.timedelta(minutes=40 * n + 25)).astimezone(ZONE)
        project = PROJECTS[n % len(PROJECTS)]
        task = f"Task {n % 3}" if project in ("Thèse", "Client A") else ""
        tags = ", ".join(TAGS[: n % 3]) if n % 3 else ""
        lines.append(
            f'Zoë,zoe@example.com,,{project},{task},"Entry {n}, part {n % 7}",No,'
            f"{begin:%Y-%m-%d},{begin:%H:%M:%S},{end:%Y-%m-%d},{end:%H:%M:%S},00:25:00,"
            f'"{tags}"'
        )
    return ("\r\n".join(lines) + "\r\n").encode()


def fresh_user(run: int) -> User:
    email = f"import-bench-{os.getpid()}-{run}@example.com"
    user = user_create(email=email, password="bench passphrase 1", display_name="Import bench")
    User.objects.filter(pk=user.pk).update(timezone="Europe/Paris")
    return User.objects.get(pk=user.pk)


def timed_import(user: User, data: bytes, *, dry_run: bool) -> dict:
    client = Client(HTTP_HOST="127.0.0.1")
    token = token_pair_for(user)["access"]
    url = PATH + ("?dry_run=true" if dry_run else "")
    statements = StatementCounter()
    started = time.perf_counter()
    with connection.execute_wrapper(statements):
        response = client.post(
            url,
            {"file": SimpleUploadedFile("toggl.csv", data, content_type="text/csv")},
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
    seconds = time.perf_counter() - started
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert body["imported"] == ROWS and body["skipped"] == [], body
    return {"seconds": seconds, "sql_statements": statements.count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data = toggl_csv(ROWS)
    result: dict = {"rows": ROWS, "file_bytes": len(data), "where": "in process, test client"}
    for dry_run in (True, False):
        runs = []
        for run in range(args.runs):
            user = fresh_user(run + (100 if dry_run else 0))
            runs.append(timed_import(user, data, dry_run=dry_run))
            if not dry_run:
                written = {
                    "sessions": Session.objects.filter(user=user).count(),
                    "tags": Tag.objects.filter(user=user).count(),
                    "events": Event.objects.filter(user=user).count(),
                }
                assert written["sessions"] == ROWS, written
            else:
                assert not Session.objects.filter(user=user).exists()
        seconds = [run["seconds"] for run in runs]
        figures = {
            "runs": len(runs),
            "seconds_median": round(statistics.median(seconds), 2),
            "seconds_max": round(max(seconds), 2),
            "rows_per_s_median": round(ROWS / statistics.median(seconds)),
            "sql_statements": runs[0]["sql_statements"],
        }
        if not dry_run:
            figures |= {"written": written, "target_seconds": TARGET_SECONDS}
            figures["met"] = max(seconds) < TARGET_SECONDS
        result["dry_run" if dry_run else "import"] = figures
    print(json.dumps(result))


if __name__ == "__main__":
    main()
