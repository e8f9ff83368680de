"""The statements every timer action sends, written once as SQL.

A pause or a start sends the same few statements each time. Built through the ORM,
compiling them cost more CPU than everything else in the action did (a third of it:
docs/benchmarks.md, "CPU per timer action"), so they are built here once, from the
models' own table and column names, and run with the models' own conversions
(`Model.from_db`, `Field.pre_save`, `Field.get_db_prep_save`). The rest of the app
uses the ORM as usual; these functions are for the hot path only.
"""

import datetime
from functools import cache

from django.db import connection

from pomodoro.rows import instance_fetch, select_list
from sessions_app.models import Session, SessionSegment

_FIELDS = Session._meta.concrete_fields
_quote = connection.ops.quote_name


@cache
def _lock_statement() -> str:
    return (
        f"SELECT {select_list(Session)} FROM {_quote(Session._meta.db_table)} "
        "WHERE id = %s AND user_id = %s AND deleted_at IS NULL FOR NO KEY UPDATE"
    )


def session_lock(*, user_id: int, session_id: int) -> Session | None:
    """The user's live session `session_id`, locked FOR NO KEY UPDATE (sessions_app.locks
    says why that strength); None if there is none."""
    return instance_fetch(Session, _lock_statement(), [session_id, user_id])


@cache
def _live_and_active() -> str:
    """The predicate of the unique index one_active_session_per_user (sessions_app.models):
    a session that is running or paused and not deleted."""
    states = ", ".join(f"'{state}'" for state in Session.ACTIVE_STATES)
    return f"state IN ({states}) AND deleted_at IS NULL"


@cache
def _active_lock_statement() -> str:
    return (
        f"SELECT {select_list(Session)} FROM {_quote(Session._meta.db_table)} "
        f"WHERE user_id = %s AND {_live_and_active()} "
        "ORDER BY id LIMIT 1 FOR NO KEY UPDATE"
    )


def session_active_lock(*, user_id: int) -> Session | None:
    """The user's active (running or paused) session, locked FOR NO KEY UPDATE, as
    `locks.locked_sessions().filter(user=..., state__in=ACTIVE_STATES).first()` reads
    it; None if there is none. Every create reads it."""
    return instance_fetch(Session, _active_lock_statement(), [user_id])


_INSERT_FIELDS = [field for field in _FIELDS if not field.primary_key]


@cache
def _insert_statement(open_segment: bool) -> str:
    columns = ", ".join(_quote(field.column) for field in _INSERT_FIELDS)
    values = ", ".join(["%s"] * len(_INSERT_FIELDS))
    # The conflict target is the partial unique index one_active_session_per_user (by
    # its columns and predicate): any other constraint still raises.
    insert = (
        f"INSERT INTO {_quote(Session._meta.db_table)} ({columns}) VALUES ({values}) "
        f"ON CONFLICT (user_id) WHERE {_live_and_active()} DO NOTHING "
        "RETURNING id, user_id"
    )
    if not open_segment:
        return insert
    segments = _quote(SessionSegment._meta.db_table)
    return (
        f"WITH inserted AS ({insert}), "
        f"opened AS (INSERT INTO {segments} (session_id, user_id, started_at) "
        "SELECT id, user_id, %s FROM inserted) "
        "SELECT id, user_id FROM inserted"
    )


def session_insert(session: Session, *, segment_at: datetime.datetime | None = None) -> bool:
    """Inserts the new `session` as save() would (auto_now fields and the fields' own
    conversions) and, with `segment_at`, opens its running segment there in the same
    statement. False, with nothing written, when the user has an active session already
    (the unique index one_active_session_per_user): the ON CONFLICT clause says so
    without an error, so no savepoint is needed around it."""
    values = [
        field.get_db_prep_save(field.pre_save(session, True), connection)
        for field in _INSERT_FIELDS
    ]
    if segment_at is not None:
        values.append(segment_at)
    with connection.cursor() as cursor:
        cursor.execute(_insert_statement(segment_at is not None), values)
        row = cursor.fetchone()
    if row is None:
        return False
    session.pk = row[0]
    session._state.adding = False
    session._state.db = connection.alias
    return True


SEGMENT_CLOSE = "close"
SEGMENT_OPEN = "open"


@cache
def _write_statement(attnames: tuple[str, ...], segment: str | None) -> str:
    fields = [Session._meta.get_field(name) for name in attnames]
    assignments = ", ".join(f"{_quote(field.column)} = %s" for field in fields)
    update = f"UPDATE {_quote(Session._meta.db_table)} SET {assignments} WHERE id = %s"
    segments = _quote(SessionSegment._meta.db_table)
    if segment == SEGMENT_CLOSE:
        # One round trip: the open segment closes in the same statement.
        return (
            f"WITH closed AS (UPDATE {segments} SET ended_at = %s "
            "WHERE session_id = %s AND ended_at IS NULL) " + update
        )
    if segment == SEGMENT_OPEN:
        return (
            f"WITH opened AS (INSERT INTO {segments} (session_id, user_id, started_at) "
            "VALUES (%s, %s, %s)) " + update
        )
    return update


def session_write(
    session: Session,
    fields: list[str],
    *,
    segment: str | None = None,
    at: datetime.datetime | None = None,
) -> None:
    """Saves `fields` of `session` (and `updated_at`, as save() would), closing its open
    segment at `at` or opening one at `at` in the same statement."""
    names = (*fields, "updated_at")
    values = []
    if segment == SEGMENT_CLOSE:
        values += [at, session.pk]
    elif segment == SEGMENT_OPEN:
        values += [session.pk, session.user_id, at]
    for name in names:
        field = Session._meta.get_field(name)
        values.append(field.get_db_prep_save(field.pre_save(session, False), connection))
    values.append(session.pk)
    with connection.cursor() as cursor:
        cursor.execute(_write_statement(names, segment), values)
