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

from sessions_app.models import Session, SessionSegment

_FIELDS = Session._meta.concrete_fields
_ATTNAMES = [field.attname for field in _FIELDS]
_quote = connection.ops.quote_name


@cache
def _lock_statement() -> str:
    columns = ", ".join(_quote(field.column) for field in _FIELDS)
    return (
        f"SELECT {columns} FROM {_quote(Session._meta.db_table)} "
        "WHERE id = %s AND user_id = %s AND deleted_at IS NULL FOR NO KEY UPDATE"
    )


def session_lock(*, user_id: int, session_id: int) -> Session | None:
    """The user's live session `session_id`, locked FOR NO KEY UPDATE (sessions_app.locks
    says why that strength); None if there is none."""
    with connection.cursor() as cursor:
        cursor.execute(_lock_statement(), [session_id, user_id])
        row = cursor.fetchone()
    return None if row is None else Session.from_db(connection.alias, _ATTNAMES, row)


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
