"""The sessions app's sections of the account export (accounts.export): projects, tasks,
tags and sessions, registered in SessionsAppConfig.ready()."""

import datetime
from collections.abc import Iterator

from django.db.models import CharField, Func

from accounts.export import export_array, export_keyset, export_time
from accounts.models import User
from sessions_app.models import Project, Session, SessionSegment, Tag, Task


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


SESSION_COLUMNS = (
    "id",
    "kind",
    "state",
    "source",
    "name",
    "description",
    "task_id",
    "project_id",
    "tag_ids",
    "planned_seconds",
    IsoUtc("started_at"),
    IsoUtc("ended_at"),
    "closed_running_time",
    "running_since",
    IsoUtc("created_at"),
    IsoUtc("updated_at"),
)


def _project(row: tuple) -> dict:
    pk, name, description, color, created_at, deleted_at = row
    return {
        "id": pk,
        "name": name,
        "description": description,
        "color": color,
        "created_at": export_time(created_at),
        "deleted_at": export_time(deleted_at),
    }


def _task(row: tuple) -> dict:
    pk, title, project_id, goal, archived, created_at, deleted_at = row
    return {
        "id": pk,
        "title": title,
        "project": project_id,
        "daily_goal_minutes": goal,
        "archived": archived,
        "created_at": export_time(created_at),
        "deleted_at": export_time(deleted_at),
    }


def _session_batches(user: User, now: datetime.datetime) -> Iterator[list[dict]]:
    sessions = Session.objects.filter(user=user, deleted_at__isnull=True)
    for batch in export_keyset(sessions, SESSION_COLUMNS):
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
                spans_of.append(
                    {"started_at": export_time(started_at), "ended_at": export_time(ended_at)}
                )
        yield [_session(row, segments[row[0]], now) for row in batch]


def _session(row: tuple, segments: list[dict], now: datetime.datetime) -> dict:
    (pk, kind, state, source, name, description, task_id, project_id, tag_ids, planned,
     started_at, ended_at, closed, running_since, created_at, updated_at) = row  # fmt: skip
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
        "project": project_id,
        "tags": tag_ids,
        "planned_seconds": planned,
        "started_at": export_time(started_at),
        "ended_at": export_time(ended_at),
        "duration_seconds": int(elapsed.total_seconds()),
        "created_at": export_time(created_at),
        "updated_at": export_time(updated_at),
        "segments": segments,
    }


def projects_section(user: User, now: datetime.datetime) -> Iterator[str]:
    projects = Project.objects.filter(user=user)
    columns = ("id", "name", "description", "color", "created_at", "deleted_at")
    yield from export_array(export_keyset(projects, columns), _project)


def tasks_section(user: User, now: datetime.datetime) -> Iterator[str]:
    tasks = Task.objects.filter(user=user)
    columns = (
        "id", "title", "project_id", "daily_goal_minutes", "archived", "created_at", "deleted_at"
    )  # fmt: skip
    yield from export_array(export_keyset(tasks, columns), _task)


def _tag(row: tuple) -> dict:
    pk, name, color, created_at = row
    return {"id": pk, "name": name, "color": color, "created_at": export_time(created_at)}


def tags_section(user: User, now: datetime.datetime) -> Iterator[str]:
    tags = Tag.objects.filter(user=user)
    yield from export_array(export_keyset(tags, ("id", "name", "color", "created_at")), _tag)


def sessions_section(user: User, now: datetime.datetime) -> Iterator[str]:
    yield from export_array(_session_batches(user, now), lambda session: session)
