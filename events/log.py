"""Recording events: the one place where an event is appended to a user's log.

Every change a client must hear of appends an event with the user's next `seq`
(1, 2, 3, ... with no gaps) in the transaction of the change, then the reactions
registered in events.registry run (in the transaction, or after the commit), and
the event is broadcast to the user's sockets after the commit (events.publish).
"""

import datetime
import json
from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from events import registry
from events.models import Event, EventStream
from events.publish import publish_on_commit, user_group


def _record_statement(parts: tuple[str, ...] = (), reads: tuple[str, ...] = ()) -> str:
    """Allocates the user's next `seq` and inserts the event, in one statement, with the
    SQL of the reactions that run in it (events.registry.Phase.IN_STATEMENT) as
    further CTEs reading `recorded`, the new row, and the `reads` expressions of the
    others as further columns of its result.

    The upsert takes the row lock of the user's stream and holds it until commit, so
    concurrent transactions of one user get consecutive numbers in commit order, and a
    rolled-back transaction gives its number back: no gaps, no duplicates.

    It first takes FOR KEY SHARE on the user row: the upsert's update path runs no
    foreign-key check, so without it a transaction could hold the stream lock and only
    then wait for the user row (at the event insert) behind a guest claim, which
    key-updates the user row (FOR UPDATE) and then waits for the stream lock: a
    deadlock. With it, the user row always comes before the stream row.
    """
    return (
        f"{_next_seqs('1')}, recorded AS (INSERT INTO {Event._meta.db_table} "
        "(user_id, seq, type, at, data) "
        "SELECT user_id, last_seq, %(type)s, %(at)s, %(data)s FROM next "
        f"RETURNING id, user_id, seq, type, at, data){_reaction_ctes(parts)} "
        f"SELECT {', '.join(['id', 'seq', *reads])} FROM recorded"
    )


def _next_seqs(count: str) -> str:
    """The CTEs that lock the user row (FOR KEY SHARE) and move the user's stream row
    on by `count` (SQL), answering `next (user_id, last_seq)`: `_record_statement`
    says why in that order."""
    stream = EventStream._meta.db_table
    users = get_user_model()._meta.db_table
    return (
        f"WITH owner AS (SELECT id FROM {users} WHERE id = %(user_id)s FOR KEY SHARE), "
        f"next AS (INSERT INTO {stream} (user_id, last_seq) SELECT id, {count} FROM owner "
        f"ON CONFLICT (user_id) DO UPDATE SET last_seq = {stream}.last_seq + {count} "
        "RETURNING user_id, last_seq)"
    )


def _statement_parts(event: Event) -> tuple[tuple[str, ...], dict]:
    """The SQL of the reactions that run in the statement inserting `event` (unsaved)
    (events.registry.Phase.IN_STATEMENT), and their parameters."""
    parts = [reaction.handler for reaction in registry.statement_parts_for(event.type)]
    params: dict = {}
    for part in parts:
        params.update(part.params(event))
    return tuple(part.sql for part in parts), params


def _reaction_ctes(parts: tuple[str, ...]) -> str:
    return "".join(f", reaction_{n} AS ({sql})" for n, sql in enumerate(parts))


_statements: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}


def event_record(
    *,
    user: Any,
    type: str,
    data: dict,
    subject: Any = None,
    at: datetime.datetime | None = None,
) -> Event:
    """Appends an event to the user's log in the current transaction, runs the reactions
    registered for its type and publishes it to the user's sockets after the commit.

    `subject` is the object the event is about (a session), handed to the reactions as
    written; `at` is the moment of the change (default now)."""
    if not connection.in_atomic_block:
        raise RuntimeError("event_record must run inside the transaction of the change")
    event = Event(user_id=user.pk, type=type, at=at or timezone.now(), data=data)
    data_field = Event._meta.get_field("data")
    params = {
        "user_id": user.pk,
        "type": type,
        "at": event.at,
        "data": data_field.get_db_prep_value(data, connection),
    }
    parts, part_params = _statement_parts(event)
    params.update(part_params)
    readers = registry.readers_for(type)
    key = (parts, tuple(reaction.reads for reaction in readers))
    statement = _statements.get(key)
    if statement is None:
        statement = _statements.setdefault(key, _record_statement(*key))
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        event.pk, event.seq, *values = cursor.fetchone()
    reads = {reaction.name: value for reaction, value in zip(readers, values, strict=True)}
    # Published before the reactions run: an event a reaction records (a badge earned)
    # has the higher seq, and its broadcast must come second.
    publish_on_commit(user_group(user.pk), {"type": "event.message", "event": event.as_message()})
    registry.reactions_run(registry.Recorded(user=user, event=event, subject=subject, reads=reads))
    return event


def _record_many_statement(parts: tuple[str, ...]) -> str:
    """`_record_statement` for n events of one type at once: the stream row moves by n
    in the same upsert (so the same lock and the same gapless numbering), the events
    are inserted from arrays, numbered in the order given, and the reactions of the
    statement read every row of `recorded`."""
    return (
        f"{_next_seqs('%(count)s')}, recorded AS (INSERT INTO {Event._meta.db_table} "
        "(user_id, seq, type, at, data) "
        "SELECT next.user_id, next.last_seq - %(count)s + item.n, %(type)s, %(at)s, item.data "
        "FROM next, unnest(%(data)s::jsonb[]) WITH ORDINALITY AS item (data, n) "
        f"RETURNING id, user_id, seq, type, at, data){_reaction_ctes(parts)} "
        "SELECT id, seq FROM recorded"
    )


def events_record(
    *,
    user: Any,
    type: str,
    items: Sequence[tuple[dict, Any]],
    at: datetime.datetime | None = None,
) -> list[Event]:
    """`event_record` for many events of one type and moment, `items` being (data,
    subject) pairs, in one statement: the events get consecutive `seq`s in the order
    given, the last is broadcast after the commit (the sockets read the others from
    the log), and their reactions run once for the batch
    (events.registry.reactions_run_batch). For a change that records thousands of
    events at once (an import)."""
    if not connection.in_atomic_block:
        raise RuntimeError("events_record must run inside the transaction of the change")
    if not items:
        return []
    at = at or timezone.now()
    encoder = Event._meta.get_field("data").encoder
    params = {
        "user_id": user.pk,
        "count": len(items),
        "type": type,
        "at": at,
        "data": [json.dumps(data, cls=encoder) for data, _ in items],
    }
    # The parameters of a part depend only on the type and moment, which all share.
    parts, part_params = _statement_parts(Event(user_id=user.pk, type=type, at=at, data={}))
    params.update(part_params)
    with connection.cursor() as cursor:
        cursor.execute(_record_many_statement(parts), params)
        ids = dict((seq, pk) for pk, seq in cursor.fetchall())
    first = min(ids)
    events = []
    for offset, (data, _subject) in enumerate(items):
        seq = first + offset
        events.append(Event(pk=ids[seq], user_id=user.pk, seq=seq, type=type, at=at, data=data))
    # Only the last one is broadcast: a socket fills the events before it from the log,
    # as it fills any gap (events/replay.py; one too far behind is told to reconnect and
    # replays). Thousands of broadcasts would overflow the publisher's queue.
    last = events[-1].as_message()
    publish_on_commit(user_group(user.pk), {"type": "event.message", "event": last})
    registry.reactions_run_batch(
        [
            registry.Recorded(user=user, event=event, subject=subject)
            for event, (_data, subject) in zip(events, items, strict=True)
        ]
    )
    return events
