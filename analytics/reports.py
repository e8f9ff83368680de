"""Time reports: the user's running time over a range of their days, grouped by project,
task, tag, day, week or month, one grouping optionally nested in another.

The time is the same as every other analytics figure's (analytics/selectors.py): the
running time (segments) of sessions that are not deleted, a running session counted up
to now and never past its target (`segment_end_sql`, the SQL form of
sessions_app.models.segment_end), split at the user's day boundaries in their current
settings (accounts/timeframes.py), DST included. Weeks and months are unions of days,
so a stretch is split at day boundaries once and each part goes to its day's week and
month.

What counts: the contract's focus time (`focus` and `stopwatch` sessions) unless a
`kind` is asked for, and then that kind alone. A session counts in the group of its
project, its task and each of its tags (a session with two tags in both tag groups,
once in the total); one with none of them in the group of key None, label "(none)".

One SQL statement a report (`_report_sql`): the clipped spans, with the labels of the
projects, tasks and tags they name as rows of their own after them.
"""

import csv
import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

from accounts import timeframes
from accounts.models import User
from analytics.selectors import (
    MICROSECONDS_PER_SECOND,
    OVERLAPPING_SEGMENTS_SQL,
    day_bounds,
    micros,
    overlapping_segment_params,
    split_at,
)
from sessions_app.export import Echo, spreadsheet_safe
from sessions_app.models import Session, Tag, segment_end_sql

REPORT_KEYS = ("project", "task", "tag", "day", "week", "month")
TIME_KEYS = ("day", "week", "month")
# `to` at most 366 days after `from`: a leap year and a day, both ends inclusive.
REPORT_MAX_DAYS = 367
NONE_LABEL = "(none)"
# The label rows' kinds in `_report_sql`'s answer.
_SPAN, _TASK, _PROJECT, _TAG = 0, 1, 2, 3


@dataclass
class ReportGroup:
    key: int | str | None
    label: str
    seconds: int
    sessions: int
    groups: list["ReportGroup"] | None = None


@dataclass
class Report:
    first: datetime.date
    last: datetime.date
    total_seconds: int
    groups: list[ReportGroup] = field(default_factory=list)


def _label_table(key: str) -> str:
    """The table of the projects, tasks or tags a session names."""
    if key == "tag":
        return Tag._meta.db_table
    return Session._meta.get_field(key).related_model._meta.db_table


# Up to this many days, each segment's session is read by primary key; over it, the
# user's sessions are read once into a hash join. A year of a heavy user (3 years, 9,847
# sessions) is 3,536 segments: 15,000 buffer reads by key against 1,400 for the user's
# sessions (docs/benchmarks.md, "Reports and import"); a month is a tenth of that, where
# reading every session of the user would cost more (the summary's reason, at
# analytics.selectors._SPANS_SQL).
BY_KEY_MAX_DAYS = 92


def _report_sql(*, labels: set[str], filters: list[str], by_key: bool) -> str:
    """The report's one statement. The segments overlapping [start, end) are found as
    analytics.selectors._SPANS_SQL finds them (its comment says why each part is
    written so), each with its session (not deleted, of the kinds, passing `filters`),
    by primary key (`by_key`) or from the user's sessions; then, for the groupings that
    need them, the titles and names of the tasks, projects and tags those spans name,
    as rows of their own."""
    sessions = Session._meta.db_table
    where = "".join(f" AND {condition}" for condition in filters)
    if by_key:
        # OFFSET 0: a subquery PostgreSQL cannot flatten into a join (_SPANS_SQL).
        session_source = f"""CROSS JOIN LATERAL (
        SELECT s.task_id, s.project_id, s.target_end_at, s.tag_ids
        FROM {sessions} s
        WHERE s.id = segment.session_id AND s.deleted_at IS NULL
          AND s.kind = ANY(%(kinds)s){where}
        OFFSET 0
    ) AS session"""
    else:
        session_source = f"""JOIN {sessions} s ON s.id = segment.session_id
         AND s.user_id = %(user)s AND s.deleted_at IS NULL
         AND s.kind = ANY(%(kinds)s){where}
    CROSS JOIN LATERAL (SELECT s.task_id, s.project_id, s.target_end_at, s.tag_ids) AS session"""
    sql = f"""
WITH span AS MATERIALIZED (
    SELECT segment.session_id,
           (EXTRACT(EPOCH FROM GREATEST(segment.started_at, %(start)s)) * 1000000)::bigint
               AS start_us,
           (EXTRACT(EPOCH FROM LEAST({segment_end_sql("segment", "session")}, %(end)s))
               * 1000000)::bigint AS end_us,
           session.task_id, session.project_id, session.tag_ids
    FROM ({OVERLAPPING_SEGMENTS_SQL}) AS segment
    {session_source}
)
SELECT {_SPAN}, session_id, start_us, end_us, task_id, project_id, tag_ids, NULL
FROM span WHERE end_us > start_us"""
    # (row kind, label column, ids in the span) of each grouping's labels
    label_sources = {
        "task": (_TASK, "title", "task_id"),
        "project": (_PROJECT, "name", "project_id"),
        "tag": (_TAG, "name", "unnest(tag_ids)"),
    }
    for key in sorted(labels):
        row_kind, column, ids = label_sources[key]
        sql += f"""
UNION ALL
SELECT {row_kind}, id, NULL, NULL, NULL, NULL, NULL, {column}
FROM {_label_table(key)} WHERE id IN (SELECT {ids} FROM span)"""
    return sql


def _time_key(user: User, key: str, day: datetime.date) -> str:
    """A day, week or month as its key: the ISO date of its first day."""
    return timeframes.period_first_day(user, key, day).isoformat()


def _time_label(key: str, first_day: str) -> str:
    if key == "day":
        return first_day
    if key == "week":
        return f"week of {first_day}"
    return first_day[:7]


class _Totals:
    """Microseconds and distinct sessions of one group, and its nested groups."""

    __slots__ = ("micros", "nested", "sessions")

    def __init__(self):
        self.micros = 0
        self.sessions: set[int] = set()
        self.nested: dict | None = None


def time_report(
    *,
    user: User,
    first: datetime.date,
    last: datetime.date,
    group_by: list[str],
    project: int | None = None,
    task: int | None = None,
    tag: int | None = None,
    kind: str | None = None,
    now: datetime.datetime | None = None,
) -> Report:
    """The user's running time over their days `first` to `last` (inclusive), grouped by
    `group_by` (one key, or two: the second nested in each group of the first), with
    optional filters. See the module's docstring for what counts where."""
    now = now or timezone.now()
    after = last + datetime.timedelta(days=1)
    bounds = day_bounds(user, first, after)
    start, end = bounds[0], bounds[-1]
    filters, params = [], {}
    if task is not None:
        filters.append("s.task_id = %(task)s")
        params["task"] = task
    if project is not None:
        filters.append("s.project_id = %(project)s")
        params["project"] = project
    if tag is not None:
        filters.append("s.tag_ids @> ARRAY[%(tag)s]::bigint[]")
        params["tag"] = tag
    labels = {key for key in group_by if key not in TIME_KEYS}
    by_key = (last - first).days < BY_KEY_MAX_DAYS
    sql = _report_sql(labels=labels, filters=filters, by_key=by_key)
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                **params,
                **overlapping_segment_params(user, start, end),
                "now": now,
                "kinds": [kind] if kind else list(Session.FOCUS_KINDS),
            },
        )
        rows = cursor.fetchall()

    names: dict[str, dict[int, str]] = {"task": {}, "project": {}, "tag": {}}
    row_kind_name = {_TASK: "task", _PROJECT: "project", _TAG: "tag"}
    day_bounds_us = [micros(bound) for bound in bounds]
    days = [first + datetime.timedelta(days=n) for n in range(len(bounds) - 1)]
    # Each day's key for each time grouping, computed once.
    time_keys = {
        key: [_time_key(user, key, day) for day in days] for key in TIME_KEYS if key in group_by
    }
    split = any(key in TIME_KEYS for key in group_by)
    outer_key = group_by[0]
    inner_key = group_by[1] if len(group_by) > 1 else None
    total = 0
    groups: dict = {}
    for row_kind, pk, start_us, end_us, task_id, project_id, tag_ids, name in rows:
        if row_kind != _SPAN:
            names[row_kind_name[row_kind]][pk] = name
            continue
        attributes = {
            "task": (task_id,),
            "project": (project_id,),
            "tag": tuple(tag_ids) if tag_ids else (None,),
        }
        pieces = (
            split_at(start_us, end_us, day_bounds_us) if split else ((None, end_us - start_us),)
        )
        for day_index, time in pieces:
            total += time
            for outer in _keys_of(outer_key, attributes, time_keys, day_index):
                group = groups.get(outer)
                if group is None:
                    group = groups[outer] = _Totals()
                    if inner_key:
                        group.nested = {}
                group.micros += time
                group.sessions.add(pk)
                if inner_key is None:
                    continue
                for inner in _keys_of(inner_key, attributes, time_keys, day_index):
                    nested = group.nested.get(inner)
                    if nested is None:
                        nested = group.nested[inner] = _Totals()
                    nested.micros += time
                    nested.sessions.add(pk)

    def listed(key: str, totals: dict, inner: str | None) -> list[ReportGroup]:
        result = [
            ReportGroup(
                key=value,
                label=_label(key, value, names),
                seconds=group.micros // MICROSECONDS_PER_SECOND,
                sessions=len(group.sessions),
                groups=listed(inner, group.nested, None) if inner else None,
            )
            for value, group in totals.items()
        ]
        if key in TIME_KEYS:
            result.sort(key=lambda group: group.key)
        else:
            result.sort(
                key=lambda group: (
                    -group.seconds,
                    group.key is None,
                    group.label.casefold(),
                    group.key or 0,
                )
            )
        return result

    return Report(
        first=first,
        last=last,
        total_seconds=total // MICROSECONDS_PER_SECOND,
        groups=listed(outer_key, groups, inner_key),
    )


def _keys_of(key: str, attributes: dict, time_keys: dict, day_index: int | None) -> tuple:
    if key in TIME_KEYS:
        return (time_keys[key][day_index],)
    return attributes[key]


def _label(key: str, value, names: dict[str, dict[int, str]]) -> str:
    if key in TIME_KEYS:
        return _time_label(key, value)
    if value is None:
        return NONE_LABEL
    return names[key].get(value, NONE_LABEL)


# --- CSV ---------------------------------------------------------------------------


def report_csv_columns(group_by: list[str]) -> list[str]:
    """`<key>_key, <key>_label` for each grouping, then seconds and sessions."""
    columns = []
    for key in group_by:
        columns += [f"{key}_key", f"{key}_label"]
    return [*columns, "seconds", "sessions"]


def report_csv(report: Report, group_by: list[str]) -> Iterator[str]:
    """The report as CSV: a header, then one row per group of the innermost grouping
    (with two groupings, one row per nested group, carrying its outer group's key and
    label); a null key is an empty cell. Labels are made spreadsheet safe."""
    writer = csv.writer(Echo())
    yield writer.writerow(report_csv_columns(group_by))
    for group in report.groups:
        outer = [_cell(group.key), spreadsheet_safe(group.label)]
        if group.groups is None:
            yield writer.writerow([*outer, group.seconds, group.sessions])
            continue
        for nested in group.groups:
            yield writer.writerow(
                [
                    *outer,
                    _cell(nested.key),
                    spreadsheet_safe(nested.label),
                    nested.seconds,
                    nested.sessions,
                ]
            )


def _cell(value) -> str:
    return "" if value is None else str(value)


def report_filename(report: Report) -> str:
    return f"report-{report.first:%Y%m%d}-{report.last:%Y%m%d}.csv"
