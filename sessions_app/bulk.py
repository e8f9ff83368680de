"""Changing or deleting many sessions at once (POST sessions/bulk/): all or nothing.

One transaction: the tags the changes name are share-locked (sessions_app.tags), then
every session named is locked in primary-key order (sessions_app/locks.py); one that
is not the caller's (or is deleted) fails the whole request with 404 before anything
is written. The sessions are then written with one UPDATE, and each session changed
records its usual event (`session.updated`, or `session.deleted`), in id order.

A user has at most one active session. When it is among them, it goes through the
single-session service (`session_update`, `session_delete`), which completes it first
if its planned length was reached and, for a deletion, ends it with `session.stopped`
first, exactly as PATCH and DELETE do; its events come first. The ended sessions
need none of that and are written together.
"""

import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError

from accounts.models import User
from events.log import events_record
from sessions_app import services
from sessions_app.locks import locked_sessions
from sessions_app.models import MAX_TAGS, Session
from sessions_app.references import session_references
from sessions_app.serializers import session_representation

MAX_IDS = 500


def _locked(user: User, ids: list[int]) -> list[Session]:
    wanted = sorted(set(ids))
    sessions = list(locked_sessions().filter(user=user, pk__in=wanted))
    if len(sessions) != len(wanted):
        found = {session.pk for session in sessions}
        missing = [pk for pk in wanted if pk not in found]
        raise NotFound(f"No such session: {', '.join(map(str, missing[:10]))}.")
    return sessions


def _record_each(user: User, type: str, sessions: list[Session], now: datetime.datetime) -> None:
    """One event per session, in id order, recorded in one statement (events_record)."""
    events_record(
        user=user,
        type=type,
        items=[
            ({"session": session_representation(session, now=now, as_written=True)}, session)
            for session in sessions
        ],
        at=now,
    )


@transaction.atomic
def sessions_bulk_delete(*, user: User, ids: list[int]) -> int:
    """Soft-deletes every session of `ids`, or none (404). Answers how many."""
    sessions = _locked(user, ids)
    now = timezone.now()
    ended = []
    for session in sessions:
        if session.is_active:
            services.session_delete(user=user, session_id=session.pk)
        else:
            ended.append(session)
    table = connection.ops.quote_name(Session._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET deleted_at = %s, version = version + 1, updated_at = %s "
            "WHERE id = ANY(%s)",
            [now, now, [session.pk for session in ended]],
        )
    for session in ended:
        session.deleted_at = now
        session.version += 1
    _record_each(user, "session.deleted", ended, now)
    return len(sessions)


def _tags_after(tag_ids: list[int], add: list[int], remove: list[int]) -> list[int]:
    """The same rule as _TAGS_SQL: ascending, no repeats."""
    tags = sorted((set(tag_ids) | set(add)) - set(remove))
    if len(tags) > MAX_TAGS:
        raise ValidationError({"changes": [f"A session would have more than {MAX_TAGS} tags."]})
    return tags


_TAGS_SQL = (
    "ARRAY(SELECT DISTINCT tag FROM unnest(tag_ids || %(add)s::bigint[]) AS tag "
    "WHERE tag <> ALL(%(remove)s::bigint[]) ORDER BY tag)"
)


@transaction.atomic
def sessions_bulk_update(*, user: User, ids: list[int], changes: dict[str, Any]) -> int:
    """Applies `changes` (any of task, name, description, add_tags, remove_tags) to every
    session of `ids`, or to none (400 for a bad reference, 404 for a session that is not
    the caller's). Sessions already as asked are left alone, with no event, as a PATCH
    that changes nothing. Answers how many sessions changed."""
    add, remove = changes.get("add_tags", []), changes.get("remove_tags", [])
    both = sorted(set(add) & set(remove))
    if both:
        raise ValidationError(
            {"changes": [f"Tags both added and removed: {', '.join(map(str, both))}."]}
        )
    named = {name: changes[name] for name in ("task",) if name in changes}
    named["tags"] = [*add, *remove]
    references = session_references(user, named)  # before the sessions' locks (locks.py)
    labels = {name: value for name, value in references.values.items() if name != "tag_ids"}
    plain = {name: changes[name] for name in ("name", "description") if name in changes}
    sessions = _locked(user, ids)
    now = timezone.now()
    changed_count = 0
    ended = []
    for session in sessions:
        if session.is_active:
            edit = {**plain, **({"task": changes["task"]} if "task" in changes else {})}
            edit["tags"] = _tags_after(session.tag_ids, add, remove)
            version = session.version
            edited = services.session_update(user=user, session_id=session.pk, **edit)
            changed_count += edited.version != version
            continue
        values = {**labels, **plain, "tag_ids": _tags_after(session.tag_ids, add, remove)}
        if all(getattr(session, name) == value for name, value in values.items()):
            continue
        for name, value in values.items():
            setattr(session, name, value)
        session.version += 1
        ended.append(session)
    if ended:
        _update(ended, {**labels, **plain}, add, remove, now)
    _record_each(user, "session.updated", ended, now)
    return changed_count + len(ended)


def _update(
    sessions: list[Session],
    values: dict[str, Any],
    add: list[int],
    remove: list[int],
    now: datetime.datetime,
) -> None:
    """One UPDATE for all of them: the same values, and tags by _TAGS_SQL."""
    quote = connection.ops.quote_name
    params: dict[str, Any] = {"ids": [session.pk for session in sessions], "now": now}
    assignments = []
    for name, value in values.items():
        column = Session._meta.get_field(name.removesuffix("_id")).column
        assignments.append(f"{quote(column)} = %({name})s")
        params[name] = value
    if add or remove:
        assignments.append(f"tag_ids = {_TAGS_SQL}")
        params.update(add=add, remove=remove)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(Session._meta.db_table)} SET {', '.join(assignments)}, "
            "version = version + 1, updated_at = %(now)s WHERE id = ANY(%(ids)s)",
            params,
        )
