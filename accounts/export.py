"""The account export (GET me/export/): one JSON document with everything a user owns,
streamed a chunk at a time.

Memory stays flat whatever the history: sessions are read in key order a batch at a
time (a keyset walk, not OFFSET), each batch with its segments in one more query, as
plain tuples (no model instances), and each batch leaves as text before the next is
read. The small parts (profile, settings, teams) are read whole.
"""

import datetime
import json
from collections.abc import Iterable, Iterator

from django.db.models import CharField, Func
from django.http import StreamingHttpResponse

from accounts.models import User
from accounts.services import profile_data, settings_data
from analytics.models import Badge
from pomodoro.timefmt import isoformat_utc
from sessions_app.export import pulled_in_thread
from sessions_app.models import Project, Session, SessionSegment, Task
from teams.models import Membership


class IsoUtc(Func):
    """A time column as the API writes it (pomodoro.timefmt.isoformat_utc: UTC, `Z`,
    microseconds only when there are any), formatted by PostgreSQL: parsing a timestamp
    into a datetime and formatting it again took most of the export's time. Elsewhere
    (SQLite) the column comes as it is and _time() formats it."""

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])

    def as_postgresql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.source_expressions[0])
        sql = (
            f"to_char(({column}) AT TIME ZONE 'UTC', CASE WHEN date_trunc('second', {column}) "
            f"""= ({column}) THEN 'YYYY-MM-DD"T"HH24:MI:SS"Z"' """
            f"""ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"' END)"""
        )
        return sql, (*params, *params, *params)


# Sessions read per query (and their segments in one more); also rows of the other lists.
BATCH_ROWS = 2000

SESSION_COLUMNS = (
    "id",
    "kind",
    "state",
    "source",
    "name",
    "description",
    "task_id",
    "planned_seconds",
    IsoUtc("started_at"),
    IsoUtc("ended_at"),
    "closed_running_time",
    "running_since",
    IsoUtc("created_at"),
    IsoUtc("updated_at"),
)


def _time(moment: datetime.datetime | str | None) -> str | None:
    if moment is None or isinstance(moment, str):
        return moment
    return isoformat_utc(moment)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _keyset(queryset, columns: tuple) -> Iterator[list[tuple]]:
    """The rows of `queryset` as tuples of `columns` (the first is the primary key), in
    key order, a batch at a time."""
    last_id = 0
    while True:
        batch = list(
            queryset.filter(pk__gt=last_id).order_by("pk").values_list(*columns)[:BATCH_ROWS]
        )
        if not batch:
            return
        yield batch
        last_id = batch[-1][0]


def _array(batches: Iterable[list], item) -> Iterator[str]:
    """A JSON array of item(row) for every row, one chunk of text per batch (encoded in
    one call: a call per row cost more than the encoding)."""
    yield "["
    separator = ""
    for batch in batches:
        yield separator + _dumps([item(row) for row in batch])[1:-1]
        separator = ","
    yield "]"


def _project(row: tuple) -> dict:
    pk, name, description, color, created_at, deleted_at = row
    return {
        "id": pk,
        "name": name,
        "description": description,
        "color": color,
        "created_at": _time(created_at),
        "deleted_at": _time(deleted_at),
    }


def _task(row: tuple) -> dict:
    pk, title, project_id, goal, archived, created_at, deleted_at = row
    return {
        "id": pk,
        "title": title,
        "project": project_id,
        "daily_goal_minutes": goal,
        "archived": archived,
        "created_at": _time(created_at),
        "deleted_at": _time(deleted_at),
    }


def _session_batches(user: User, now: datetime.datetime) -> Iterator[list[dict]]:
    sessions = Session.objects.filter(user=user, deleted_at__isnull=True)
    for batch in _keyset(sessions, SESSION_COLUMNS):
        segments: dict[int, list[dict]] = {row[0]: [] for row in batch}
        # By the batch's id range, not a list of its ids: a 2,000-item IN list took
        # longer to send and plan than the rows took to read. Segments of deleted
        # sessions in the range are skipped.
        spans = (
            SessionSegment.objects.filter(
                user=user, session__gte=batch[0][0], session__lte=batch[-1][0]
            )
            .order_by("session_id", "started_at", "pk")
            .values_list("session_id", IsoUtc("started_at"), IsoUtc("ended_at"))
        )
        for session_id, started_at, ended_at in spans:
            spans_of = segments.get(session_id)
            if spans_of is not None:
                spans_of.append({"started_at": _time(started_at), "ended_at": _time(ended_at)})
        yield [_session(row, segments[row[0]], now) for row in batch]


def _session(row: tuple, segments: list[dict], now: datetime.datetime) -> dict:
    (pk, kind, state, source, name, description, task_id, planned, started_at, ended_at,
     closed, running_since, created_at, updated_at) = row  # fmt: skip
    elapsed = closed
    if running_since is not None:
        elapsed += max(now - running_since, datetime.timedelta(0))
    return {
        "id": pk,
        "kind": kind,
        "state": state,
        "source": source,
        "name": name,
        "description": description,
        "task": task_id,
        "planned_seconds": planned,
        "started_at": _time(started_at),
        "ended_at": _time(ended_at),
        "duration_seconds": int(elapsed.total_seconds()),
        "created_at": _time(created_at),
        "updated_at": _time(updated_at),
        "segments": segments,
    }


def account_export_chunks(*, user: User, now: datetime.datetime) -> Iterator[str]:
    """The export document's text, in order: {exported_at, profile, settings, projects,
    tasks, tags, sessions, badges, teams}."""
    yield (
        f'{{"exported_at":{_dumps(isoformat_utc(now))},'
        f'"profile":{_dumps(profile_data(user))},'
        f'"settings":{_dumps(settings_data(user.timer_settings))},"projects":'
    )
    projects = Project.objects.filter(user=user)
    yield from _array(
        _keyset(projects, ("id", "name", "description", "color", "created_at", "deleted_at")),
        _project,
    )
    yield ',"tasks":'
    tasks = Task.objects.filter(user=user)
    task_columns = (
        "id", "title", "project_id", "daily_goal_minutes", "archived", "created_at", "deleted_at"
    )  # fmt: skip
    yield from _array(_keyset(tasks, task_columns), _task)
    # Tags do not exist yet (issue 13): the key is here so that readers can rely on it.
    yield ',"tags":[],"sessions":'
    yield from _array(_session_batches(user, now), lambda session: session)
    badges = Badge.objects.filter(user=user).order_by("earned_at", "pk")
    yield ',"badges":' + _dumps(
        [
            {"code": badge.code, "name": badge.name, "earned_at": _time(badge.earned_at)}
            for badge in badges
        ]
    )
    memberships = (
        Membership.objects.filter(user=user).select_related("team").order_by("joined_at", "pk")
    )
    yield ',"teams":' + _dumps(
        [
            {
                "id": membership.team_id,
                "name": membership.team.name,
                "role": membership.role,
                "joined_at": _time(membership.joined_at),
            }
            for membership in memberships
        ]
    )
    yield "}"


def account_export_response(
    *, user: User, now: datetime.datetime, asynchronous: bool
) -> StreamingHttpResponse:
    chunks = account_export_chunks(user=user, now=now)
    response = StreamingHttpResponse(
        pulled_in_thread(chunks) if asynchronous else chunks, content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="pomodoro-account-{now:%Y%m%d}.json"'
    return response
