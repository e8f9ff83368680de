"""Importing history from CSV: this API's own export (`sessions/export/`) and Toggl Track's
detailed report. Each row becomes a finished manual session, as `sessions/log/` makes one.

The file is read as a stream, a row at a time (Python's csv module over a text wrapper of
the upload), and never held whole: what is kept of each row is the few fields of the
session it becomes. The file's format is told by its header; columns are found by name,
in any order (Toggl Track's own importer accepts them so), and others are ignored.

Then, in one transaction under the user's lock and the active session's (the lock order
of `session_log`: sessions_app/locks.py), each row is checked against the user's
sessions and the rows before it, the projects, tasks and tags it names are found or
created, and the sessions are written with their `session.logged` events. A dry run
does all of it but the writing.

Reasons a row is skipped (`skipped[].reason`):

- `invalid_row`: the row has fewer cells than the header needs, or a NUL character (a
  blank line is passed over silently, and still counted);
- `invalid_time`: a date, time, instant or duration that cannot be read;
- `invalid_kind`: (own export) a kind this API does not know;
- `not_ended`: (own export) the session was still running or paused when exported;
- `in_future`: it ends after now;
- `ends_before_start`: it ends before it starts, or less than a second after;
- `too_long`: it lasts over 24 hours;
- `text_too_long`: a name, description, project, task or tag longer than the API allows;
- `overlaps_session`: it overlaps one of the user's sessions (not deleted);
- `overlaps_row`: it overlaps an earlier row of the file that is imported.
"""

import bisect
import csv
import datetime
import hashlib
import io
import re
import shutil
import tempfile
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from accounts.models import User
from events.log import event_record, events_record
from pomodoro.exceptions import PayloadTooLarge
from sessions_app.export import FORMULA_STARTS
from sessions_app.locks import locked_sessions, locked_user
from sessions_app.models import (
    MAX_PLANNED_SECONDS,
    Project,
    Session,
    SessionSegment,
    Tag,
    Task,
    segment_end_sql,
)
from sessions_app.projects import project_data, task_data
from sessions_app.serializers import IMPORT_SKIP_REASONS, session_representation
from sessions_app.tags import tag_data, tags_share_locked

MAX_ROWS = 10_000
MAX_LENGTH = datetime.timedelta(seconds=MAX_PLANNED_SECONDS)
MIN_LENGTH = datetime.timedelta(seconds=1)
# Rows written per INSERT statement.
WRITE_BATCH = 1000
# A text/csv body kept for an Idempotency-Key's fingerprint stays in memory up to this.
SPOOL_BYTES = 1024 * 1024

TOGGL = "toggl"
EXPORT = "export"
TOGGL_COLUMNS = (
    "Project",
    "Task",
    "Description",
    "Start date",
    "Start time",
    "End date",
    "End time",
    "Duration",
    "Tags",
)
EXPORT_COLUMNS = (
    "kind",
    "name",
    "description",
    "task_title",
    "project_name",
    "started_at_utc",
    "ended_at_utc",
    "duration_seconds",
)
# Toggl Track writes durations as H:MM:SS (its "Improved" duration format).
DURATION = re.compile(r"^(\d+):([0-5]\d):([0-5]\d)$")
TIME = re.compile(r"^(\d{1,2}):([0-5]\d)(?::([0-5]\d))?$")

TAG_NAME_MAX_LENGTH = Tag._meta.get_field("name").max_length
TEXT_LIMITS = {
    "name": Session._meta.get_field("name").max_length,
    "description": Session._meta.get_field("description").max_length,
    "project": Project._meta.get_field("name").max_length,
    "task": Task._meta.get_field("title").max_length,
}


@dataclass(frozen=True)
class Entry:
    """What is kept of a row: the session it becomes."""

    row: int
    started_at: datetime.datetime
    ended_at: datetime.datetime
    kind: str
    name: str
    description: str
    project: str
    task: str
    tags: tuple[str, ...] = ()


@dataclass
class ImportResult:
    imported: int = 0
    skipped: list[dict] = field(default_factory=list)


class RowSkipped(Exception):
    def __init__(self, reason: str):
        assert reason in IMPORT_SKIP_REASONS, reason
        super().__init__(reason)
        self.reason = reason


# --- Reading -----------------------------------------------------------------------


class _Limited(io.RawIOBase):
    """A binary stream that refuses to give more than `limit` bytes: past it, the
    upload is too large (a body sent without a Content-Length is only measured here)."""

    def __init__(self, stream, limit: int):
        self.stream, self.limit, self.read_bytes = stream, limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self.stream.read(len(buffer))
        self.read_bytes += len(chunk)
        if self.read_bytes > self.limit:
            raise PayloadTooLarge(max_bytes=self.limit)
        buffer[: len(chunk)] = chunk
        return len(chunk)


def file_too_large(size: int) -> None:
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise PayloadTooLarge(max_bytes=limit)


def upload_fingerprint(upload, *, query: dict) -> tuple[dict, object]:
    """What an Idempotency-Key's fingerprint covers of an import (the file's SHA-256 and
    the query), and the upload to read afterwards: a file is read and rewound; a request
    stream, which cannot be, is copied as it is read into a temporary file (in memory up
    to SPOOL_BYTES), held to IMPORT_MAX_BYTES as the import itself holds it."""
    if not hasattr(upload, "seek"):
        # Not a `with`: the view reads it after; an unreferenced one is closed and gone
        # (on disk it is unlinked from the start).
        spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        shutil.copyfileobj(_Limited(upload, settings.IMPORT_MAX_BYTES), spooled)
        upload = spooled
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in iter(lambda: upload.read(64 * 1024), b""):
        digest.update(chunk)
    upload.seek(0)
    return {"file_sha256": digest.hexdigest(), "query": query}, upload


def _text(stream) -> io.TextIOWrapper:
    # utf-8-sig: spreadsheet programs (and Toggl Track) may start the file with a BOM.
    buffered = io.BufferedReader(_Limited(stream, settings.IMPORT_MAX_BYTES))
    return io.TextIOWrapper(buffered, encoding="utf-8-sig", newline="")


def _file_error(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def _header_format(header: list[str]) -> tuple[str, dict[str, int]]:
    """The file's format and the position of each column it needs."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        positions.setdefault(name.strip(), index)
    for file_format, columns in ((TOGGL, TOGGL_COLUMNS), (EXPORT, EXPORT_COLUMNS)):
        if all(column in positions for column in columns):
            return file_format, positions
    raise _file_error(
        "Unknown header: expected this API's export (sessions/export/, with "
        f"{', '.join(EXPORT_COLUMNS)}) or Toggl Track's detailed report (with "
        f"{', '.join(TOGGL_COLUMNS)})."
    )


def read_entries(
    stream, *, user: User, now: datetime.datetime
) -> Iterator[tuple[Entry | RowSkipped, int]]:
    """Each data row of the CSV in `stream` (binary) read into an Entry, or the reason it
    is skipped, a row at a time. An unreadable file or an unknown header raises a
    ValidationError (400 `invalid`); more than MAX_ROWS rows or bytes PayloadTooLarge."""
    reader = csv.reader(_text(stream), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise _file_error("The file is empty.")
        file_format, positions = _header_format(header)
        width = max(positions.values()) + 1
        parse = _toggl_entry if file_format == TOGGL else _export_entry
        zone = user.zone
        rows = 0
        for row_number, cells in enumerate(reader, start=1):
            if not any(cells):
                continue  # a blank line (one at the end is common): numbered, not counted
            rows += 1
            if rows > MAX_ROWS:
                raise PayloadTooLarge(
                    max_bytes=settings.IMPORT_MAX_BYTES,
                    detail=f"The file has more than {MAX_ROWS:,} rows, the most an import takes.",
                )
            # A NUL character: PostgreSQL text cannot hold one (the API's fields refuse it).
            if len(cells) < width or any("\x00" in cell for cell in cells):
                yield RowSkipped("invalid_row"), row_number
                continue
            record = {name: cells[index].strip() for name, index in positions.items()}
            try:
                entry = parse(row_number, record, zone)
                _check_rules(entry, now)
            except RowSkipped as skipped:
                yield skipped, row_number
                continue
            except OverflowError:  # a time at the ends of the calendar (year 1, 9999)
                yield RowSkipped("invalid_time"), row_number
                continue
            yield entry, row_number
    except UnicodeDecodeError:
        raise _file_error("The file is not UTF-8 text.") from None
    except csv.Error as error:
        raise _file_error(f"The file is not CSV: {error}.") from None


def _check_rules(entry: Entry, now: datetime.datetime) -> None:
    """The rules of `sessions/log/`, and the lengths of the text fields."""
    length = entry.ended_at - entry.started_at
    if entry.ended_at > now:
        raise RowSkipped("in_future")
    if length < MIN_LENGTH:
        raise RowSkipped("ends_before_start")
    if length > MAX_LENGTH:
        raise RowSkipped("too_long")
    texts = {
        "name": entry.name,
        "description": entry.description,
        "project": entry.project,
        "task": entry.task,
    }
    if any(len(texts[name]) > limit for name, limit in TEXT_LIMITS.items()) or any(
        len(tag) > TAG_NAME_MAX_LENGTH for tag in entry.tags
    ):
        raise RowSkipped("text_too_long")


def _unescaped(text: str) -> str:
    """Text as it was before the export made it spreadsheet safe (a leading apostrophe
    before what a spreadsheet would run as a formula)."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def _tag_names(text: str) -> tuple[str, ...]:
    """Comma-separated names, each once (ignoring case), in order."""
    names: dict[str, str] = {}
    for name in text.split(","):
        name = name.strip()
        if name:
            names.setdefault(name.casefold(), name)
    return tuple(names.values())


def _instant(text: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise RowSkipped("invalid_time") from None
    if moment.tzinfo is None:
        raise RowSkipped("invalid_time")
    return moment.astimezone(datetime.UTC)


def _export_entry(row: int, record: dict, zone) -> Entry:
    """A row of sessions/export/: its start, and its end (or its start plus its running
    time, when it was paused: the pauses are not in the file, its running time is)."""
    kind = record["kind"]
    if kind not in Session.Kind.values:
        raise RowSkipped("invalid_kind")
    if not record["ended_at_utc"]:
        raise RowSkipped("not_ended")
    started_at, ended_at = _instant(record["started_at_utc"]), _instant(record["ended_at_utc"])
    duration = record["duration_seconds"]
    if duration:
        if not duration.isdigit():
            raise RowSkipped("invalid_time")
        ended_at = min(ended_at, started_at + datetime.timedelta(seconds=int(duration)))
    return Entry(
        row=row,
        started_at=started_at,
        ended_at=ended_at,
        kind=kind,
        name=_unescaped(record["name"]),
        description=_unescaped(record["description"]),
        project=_unescaped(record["project_name"]),
        task=_unescaped(record["task_title"]),
        tags=_tag_names(_unescaped(record.get("tags", ""))),
    )


def _local_instants(date_text: str, time_text: str, zone) -> tuple[datetime.datetime, ...]:
    """The instants a local date and wall time can be: one, or two when clocks going
    back repeat it or going forward skip it (read with the offset before and after)."""
    time_match = TIME.match(time_text)
    try:
        day = datetime.date.fromisoformat(date_text)
    except ValueError:
        raise RowSkipped("invalid_time") from None
    if time_match is None or int(time_match[1]) > 23:
        raise RowSkipped("invalid_time")
    wall = datetime.datetime.combine(
        day,
        datetime.time(int(time_match[1]), int(time_match[2]), int(time_match[3] or 0)),
        tzinfo=zone,
    )
    first = wall.astimezone(datetime.UTC)
    second = wall.replace(fold=1).astimezone(datetime.UTC)
    return (first,) if first == second else (first, second)


def _toggl_entry(row: int, record: dict, zone: zoneinfo.ZoneInfo) -> Entry:
    """A row of Toggl Track's detailed report: local start and end in the user's time
    zone. A wall time that occurs twice (clocks going back) or not at all (going forward)
    is read as the instant that makes the row last its Duration; without one, with the
    offset in force before the change."""
    starts = _local_instants(record["Start date"], record["Start time"], zone)
    ends = _local_instants(record["End date"], record["End time"], zone)
    duration_match = DURATION.match(record["Duration"])
    if duration_match is None:
        raise RowSkipped("invalid_time")
    hours, minutes, seconds = (int(part) for part in duration_match.groups())
    duration = datetime.timedelta(hours=hours, minutes=minutes, seconds=seconds)
    started_at, ended_at = starts[0], ends[0]
    matching = [(s, e) for s in starts for e in ends if e - s == duration]
    if matching:
        started_at, ended_at = matching[0]
    return Entry(
        row=row,
        started_at=started_at,
        ended_at=ended_at,
        kind=Session.Kind.FOCUS,
        name=record["Description"],
        description="",
        project=record["Project"],
        task=record["Task"],
        tags=_tag_names(record["Tags"]),
    )


# --- Checking and writing ----------------------------------------------------------


_SEGMENTS_SQL = f"""
SELECT segment.started_at, {segment_end_sql("segment", "session")}
FROM {SessionSegment._meta.db_table} segment
JOIN {Session._meta.db_table} session ON session.id = segment.session_id
WHERE segment.user_id = %(user)s AND session.user_id = %(user)s
  AND session.deleted_at IS NULL
  AND segment.started_at < %(end)s
  AND (segment.ended_at IS NULL OR segment.ended_at > %(start)s)
ORDER BY segment.started_at
"""


class _Taken:
    """Time already taken, as sorted starts and the latest end up to each: whether a
    stretch overlaps any of them is two bisections."""

    def __init__(self, spans: list[tuple[datetime.datetime, datetime.datetime]]):
        self.starts = [start for start, _ in spans]
        self.reach: list[datetime.datetime] = []
        for _, end in spans:
            self.reach.append(max(end, self.reach[-1]) if self.reach else end)

    def overlaps(self, start: datetime.datetime, end: datetime.datetime) -> bool:
        before = bisect.bisect_left(self.starts, end)
        return before > 0 and self.reach[before - 1] > start


class _Imported:
    """The rows imported so far: disjoint, kept sorted."""

    def __init__(self):
        self.starts: list[datetime.datetime] = []
        self.ends: list[datetime.datetime] = []

    def overlaps(self, start: datetime.datetime, end: datetime.datetime) -> bool:
        at = bisect.bisect_left(self.starts, start)
        return (at > 0 and self.ends[at - 1] > start) or (
            at < len(self.starts) and self.starts[at] < end
        )

    def add(self, start: datetime.datetime, end: datetime.datetime) -> None:
        at = bisect.bisect_left(self.starts, start)
        self.starts.insert(at, start)
        self.ends.insert(at, end)


def _existing_time(user: User, entries: list[Entry], now: datetime.datetime) -> _Taken:
    """The running time of the user's sessions over the stretch the entries cover, as a
    read at `now` sees it (a running session past its target ended there)."""
    if not entries:
        return _Taken([])
    start = min(entry.started_at for entry in entries)
    end = max(entry.ended_at for entry in entries)
    with connection.cursor() as cursor:
        cursor.execute(_SEGMENTS_SQL, {"user": user.pk, "start": start, "end": end, "now": now})
        return _Taken(cursor.fetchall())


class _Names:
    """The user's projects, tasks and tags that the entries name, found by name (tags
    ignoring case; the oldest of a name wins), and those to create."""

    def __init__(self, user: User, entries: list[Entry]):
        self.user = user
        wanted_projects = {entry.project for entry in entries if entry.project}
        self.projects: dict[str, Project | None] = dict.fromkeys(wanted_projects)
        live_projects = Project.objects.filter(
            user=user, deleted_at__isnull=True, name__in=wanted_projects
        )
        for project in live_projects.order_by("-pk"):
            self.projects[project.name] = project
        wanted_tasks = {(entry.project, entry.task) for entry in entries if entry.task}
        self.tasks: dict[tuple[str, str], Task | None] = dict.fromkeys(wanted_tasks)
        live_tasks = Task.objects.filter(
            user=user, deleted_at__isnull=True, title__in={title for _, title in wanted_tasks}
        )
        for task in live_tasks.select_related("project").order_by("-pk"):
            project = task.project
            project_name = project.name if project and project.deleted_at is None else ""
            if (project_name, task.title) in self.tasks:
                self.tasks[project_name, task.title] = task
        wanted_tags = {name.casefold(): name for entry in entries for name in entry.tags}
        self.tags: dict[str, Tag | None] = dict.fromkeys(wanted_tags)
        # One query for any number of names: the user's tags are few.
        for tag in Tag.objects.filter(user=user).order_by("-pk"):
            if tag.name.casefold() in self.tags:
                self.tags[tag.name.casefold()] = tag
        self.new_tag_names = wanted_tags

    def lock_tags(self) -> None:
        """FOR KEY SHARE on the tags found, before any session row (sessions_app/tags.py):
        none can be deleted before the sessions naming it are written."""
        found = [tag.pk for tag in self.tags.values() if tag is not None]
        kept = set(tags_share_locked(self.user, found))
        for key, tag in self.tags.items():
            if tag is not None and tag.pk not in kept:
                self.tags[key] = None  # deleted meanwhile: created again

    def create_missing(self, entries: list[Entry]) -> None:
        """Creates the projects, tasks and tags that `entries` name and were not found,
        each with its event."""
        for name in sorted({entry.project for entry in entries if entry.project}):
            if self.projects[name] is None:
                project = self.projects[name] = Project.objects.create(user=self.user, name=name)
                event_record(
                    user=self.user, type="project.created", data={"project": project_data(project)}
                )
        for project_name, title in sorted({(e.project, e.task) for e in entries if e.task}):
            if self.tasks[project_name, title] is None:
                task = self.tasks[project_name, title] = Task.objects.create(
                    user=self.user, title=title, project=self.projects.get(project_name)
                )
                event_record(user=self.user, type="task.created", data={"task": task_data(task)})
        for key in sorted({name.casefold() for entry in entries for name in entry.tags}):
            if self.tags[key] is None:
                self.tags[key] = self._tag_create(self.new_tag_names[key])

    def _tag_create(self, name: str) -> Tag:
        """A new tag, with its event; or the one of that name a concurrent request (which
        does not take the user's lock) has just created, then locked as the found ones."""
        try:
            with transaction.atomic():
                tag = Tag.objects.create(user=self.user, name=name)
        except IntegrityError:
            tag = Tag.objects.get(user=self.user, name__iexact=name)
            tags_share_locked(self.user, [tag.pk])
            return tag
        event_record(user=self.user, type="tag.created", data={"tag": tag_data(tag)})
        return tag

    def session_for(self, entry: Entry) -> Session:
        """The session of an entry: its task's project when it has a task, else the
        project it names."""
        length = entry.ended_at - entry.started_at
        task = self.tasks[entry.project, entry.task] if entry.task else None
        if task is not None:
            project_id = task.project_id
        else:
            project_id = self.projects[entry.project].pk if entry.project else None
        return Session(
            user=self.user,
            kind=entry.kind,
            state=Session.State.COMPLETED,
            source=Session.Source.MANUAL,
            task=task,
            project_id=project_id,
            tag_ids=sorted({self.tags[name.casefold()].pk for name in entry.tags}),
            name=entry.name,
            description=entry.description,
            planned_seconds=None
            if entry.kind == Session.Kind.STOPWATCH
            else int(length.total_seconds()),
            started_at=entry.started_at,
            ended_at=entry.ended_at,
            closed_running_time=length,
        )


def sessions_import(*, user: User, stream, dry_run: bool = False) -> ImportResult:
    """Imports the CSV in `stream` (binary) as manual sessions of `user`: every row that
    keeps the rules of `sessions/log/` and overlaps neither the user's sessions nor an
    earlier imported row, all in one transaction; the others are skipped with their
    reason (the module's docstring). A dry run answers the same and writes nothing."""
    now = timezone.now()
    result = ImportResult()
    entries: list[Entry] = []
    for entry, row in read_entries(stream, user=user, now=now):
        if isinstance(entry, RowSkipped):
            result.skipped.append({"row": row, "reason": entry.reason})
        else:
            entries.append(entry)
    with transaction.atomic():
        # Lock order (sessions_app/locks.py): the user, the tags, then the active session,
        # as session_log does: a resume waits for this transaction, so its new segment
        # comes after our rows.
        locked_user(user.pk)
        names = _Names(user, entries)
        names.lock_tags()
        list(locked_sessions().filter(user=user, state__in=Session.ACTIVE_STATES))
        taken = _existing_time(user, entries, now)
        imported = _Imported()
        accepted = []
        for entry in entries:
            if taken.overlaps(entry.started_at, entry.ended_at):
                result.skipped.append({"row": entry.row, "reason": "overlaps_session"})
            elif imported.overlaps(entry.started_at, entry.ended_at):
                result.skipped.append({"row": entry.row, "reason": "overlaps_row"})
            else:
                imported.add(entry.started_at, entry.ended_at)
                accepted.append(entry)
        result.skipped.sort(key=lambda skipped: skipped["row"])
        result.imported = len(accepted)
        if not dry_run and accepted:
            _write(user, names, accepted, now)
    return result


def _write(user: User, names: _Names, entries: list[Entry], now: datetime.datetime) -> None:
    names.create_missing(entries)
    sessions = Session.objects.bulk_create(
        [names.session_for(entry) for entry in entries], batch_size=WRITE_BATCH
    )
    SessionSegment.objects.bulk_create(
        (
            SessionSegment(
                session=session,
                user_id=user.pk,
                started_at=session.started_at,
                ended_at=session.ended_at,
            )
            for session in sessions
        ),
        batch_size=WRITE_BATCH,
    )
    # As sessions/log/ records each, in one statement for them all.
    events_record(
        user=user,
        type="session.logged",
        items=[
            ({"session": session_representation(session, now=now, as_written=True)}, session)
            for session in sessions
        ],
        at=now,
    )
