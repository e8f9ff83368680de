"""The session export: a user's history as CSV or JSON, streamed a chunk at a time.

Rows come from `selectors.session_export` through a server-side cursor and leave as
soon as a chunk of them is formatted, so memory stays flat however long the history.
Under ASGI the same generator is pulled from the request's thread by an async
iterator: Django would otherwise read a synchronous one to the end before sending.
"""

import csv
import datetime
import json
import zoneinfo
from collections.abc import Iterable, Iterator

from django.http import StreamingHttpResponse

from accounts import timeframes
from pomodoro.streaming import pulled_in_thread
from pomodoro.timefmt import isoformat_utc
from sessions_app.models import Session

COLUMNS = (
    "id",
    "kind",
    "state",
    "source",
    "name",
    "description",
    "task_id",
    "task_title",
    "project_id",
    "project_name",
    "tags",
    "started_at_utc",
    "ended_at_utc",
    "started_at_local",
    "ended_at_local",
    "duration_seconds",
    "planned_seconds",
)
# Free text typed by the user; every other cell is a number, a fixed word or a time.
TEXT_COLUMNS = ("name", "description", "task_title", "project_name", "tags")
# Tag names in one cell, by name (tag names hold no comma: sessions_app.serializers).
TAG_SEPARATOR = ", "
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV
# injection"); a leading apostrophe makes it text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows read from the database per round trip, and rows formatted per chunk sent.
READ_CHUNK_ROWS = 2000
SEND_CHUNK_ROWS = 500

# `to` is exclusive: the last instant exported is just before it.
END_EXCLUSIVE = datetime.timedelta.resolution

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def export_record(
    row, *, zone: zoneinfo.ZoneInfo, now: datetime.datetime, tag_names: dict[int, str]
) -> dict:
    """One session as the export's columns, in order, as of `now` (Session.as_of: one
    past its target is completed there). The session's own project, with its name
    while the project is not deleted; its tags' names, sorted, in one cell."""
    project_name = row.project__name if row.project__deleted_at is None else None
    tags = TAG_SEPARATOR.join(sorted((tag_names[pk] for pk in row.tag_ids), key=str.casefold))
    state, ended_at, running = row.state, row.ended_at, row.closed_running_time
    if state == Session.State.RUNNING:  # at most one row: the model's rules, not a copy
        shown = Session(
            state=state,
            target_end_at=row.target_end_at,
            closed_running_time=row.closed_running_time,
            running_since=row.running_since,
        ).as_of(now)
        state, ended_at, running = shown.state, shown.ended_at, shown.elapsed(now)
    return {
        "id": row.id,
        "kind": row.kind,
        "state": state,
        "source": row.source,
        "name": row.name,
        "description": row.description,
        "task_id": row.task_id,
        "task_title": row.task__title,
        "project_id": row.project_id,
        "project_name": project_name,
        "tags": tags,
        "started_at_utc": isoformat_utc(row.started_at),
        "ended_at_utc": isoformat_utc(ended_at) if ended_at else None,
        "started_at_local": row.started_at.astimezone(zone).isoformat(),
        "ended_at_local": ended_at.astimezone(zone).isoformat() if ended_at else None,
        "duration_seconds": int(running.total_seconds()),
        "planned_seconds": row.planned_seconds,
    }


def spreadsheet_safe(text: str | None) -> str | None:
    if text and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


class Echo:
    """A file-like object whose write hands back what it was given (Django docs,
    "Streaming large CSV files"): the csv writer formats a row, nothing is kept."""

    def write(self, value: str) -> str:
        return value


def csv_chunks(
    rows: Iterable, *, zone: zoneinfo.ZoneInfo, now: datetime.datetime, tag_names: dict[int, str]
) -> Iterator[str]:
    """The CSV text: a header row, then one row a session (RFC 4180 quoting, CRLF line
    ends, empty cells for nulls, free text made spreadsheet safe). Cells are placed by
    column name: a record key that is not a column raises instead of shifting cells."""
    writer = csv.DictWriter(Echo(), fieldnames=COLUMNS, quoting=csv.QUOTE_MINIMAL)
    lines = [writer.writeheader()]
    for row in rows:
        record = export_record(row, zone=zone, now=now, tag_names=tag_names)
        for column in TEXT_COLUMNS:
            record[column] = spreadsheet_safe(record[column])
        lines.append(writer.writerow(record))
        if len(lines) >= SEND_CHUNK_ROWS:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def json_chunks(
    rows: Iterable, *, zone: zoneinfo.ZoneInfo, now: datetime.datetime, tag_names: dict[int, str]
) -> Iterator[str]:
    """A JSON array of objects with the CSV's columns as keys; values as stored (numbers
    as numbers, nulls as null, text unchanged)."""
    parts = ["["]
    separator = ""
    for row in rows:
        record = export_record(row, zone=zone, now=now, tag_names=tag_names)
        parts.append(separator + json.dumps(record, ensure_ascii=False))
        separator = ","
        if len(parts) >= SEND_CHUNK_ROWS:
            yield "".join(parts)
            parts = []
    parts.append("]")
    yield "".join(parts)


def export_filename(
    *,
    user,
    start: datetime.datetime | None,
    end: datetime.datetime | None,
    now: datetime.datetime,
    file_format: str,
) -> str:
    """sessions-20260101-20260131.csv: the first and last of the user's days covered
    (the last is today without an end); sessions-until-20260131.csv without a start."""
    last_day = (
        timeframes.local_date(user, end - END_EXCLUSIVE) if end else timeframes.today(user, now)
    )
    first = f"{timeframes.local_date(user, start):%Y%m%d}" if start else "until"
    return f"sessions-{first}-{last_day:%Y%m%d}.{file_format}"


def export_response(
    rows: Iterable,
    *,
    file_format: str,
    zone: zoneinfo.ZoneInfo,
    now: datetime.datetime,
    filename: str,
    asynchronous: bool,
    tag_names: dict[int, str],
) -> StreamingHttpResponse:
    make_chunks = csv_chunks if file_format == "csv" else json_chunks
    chunks = make_chunks(rows, zone=zone, now=now, tag_names=tag_names)
    response = StreamingHttpResponse(
        pulled_in_thread(chunks) if asynchronous else chunks,
        content_type=CONTENT_TYPES[file_format],
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
