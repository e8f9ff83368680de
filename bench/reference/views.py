"""A timer action as lean as DRF allows: the lower bound the service is measured against.

Each view authenticates the same Bearer JWT with simplejwt's own JWTAuthentication (the
project's SIMPLE_JWT settings: one SELECT of the user), then runs the transaction of
bench/transition.pgbench as raw SQL on Django's connection: lock the session row, update
it, allocate the user's next event `seq` (the service's own upsert, FOR KEY SHARE on the
user included), insert the event, commit. It answers the session object of the contract
(the same keys and formats as the service's) with its ETag.

What it leaves out, on purpose: time settling, segments, idempotency keys, throttles,
badges, team status, publishing the event. It is a yardstick, not a second implementation:
nothing but the timer benchmark calls it, and no test holds it to the product's rules.
"""

import datetime
import functools
import json

from django.apps import apps
from django.db import IntegrityError, connection, transaction
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication

# The session columns the answer needs, in this order.
COLUMNS = (
    "id",
    "kind",
    "state",
    "name",
    "description",
    "task_id",
    "project_id",
    "tag_ids",
    "planned_seconds",
    "started_at",
    "ended_at",
    "target_end_at",
    "version",
    "source",
    "closed_running_time",
    "running_since",
    "user_id",
)
SELECTED = ", ".join(COLUMNS)
FOCUS_SECONDS = 25 * 60  # the default settings' focus length; user settings are not read


@functools.cache
def _table(model_name: str) -> str:
    """The table of a model found by class name, wherever the model lives (the event log
    may move between apps; the reference must not care). Resolved on first use, once the
    app registry is ready."""
    (model,) = [
        m
        for m in apps.get_models()
        if m.__name__ == model_name and not m.__module__.startswith("django.")
    ]
    return model._meta.db_table


def _utc(moment: datetime.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _elapsed(row: dict, now: datetime.datetime) -> datetime.timedelta:
    if row["running_since"] is None:
        return row["closed_running_time"]
    return row["closed_running_time"] + max(now - row["running_since"], datetime.timedelta(0))


def _session_json(row: dict, now: datetime.datetime) -> dict:
    elapsed = int(_elapsed(row, now).total_seconds())
    planned = row["planned_seconds"]
    return {
        "id": row["id"],
        "kind": row["kind"],
        "state": row["state"],
        "name": row["name"],
        "description": row["description"],
        "task": row["task_id"],
        "project": row["project_id"],
        "tags": row["tag_ids"],
        "planned_seconds": planned,
        "elapsed_seconds": elapsed,
        "remaining_seconds": None if planned is None else max(planned - elapsed, 0),
        "started_at": _utc(row["started_at"]),
        "ended_at": _utc(row["ended_at"]),
        "target_end_at": _utc(row["target_end_at"]),
        "version": row["version"],
        "source": row["source"],
        "server_time": _utc(now),
    }


def _record_event(cursor, user_id: int, type: str, at: datetime.datetime, data: dict) -> None:
    cursor.execute(
        f"WITH owner AS (SELECT id FROM {_table('User')} WHERE id = %s FOR KEY SHARE) "
        f"INSERT INTO {_table('EventStream')} (user_id, last_seq) SELECT id, 1 FROM owner "
        f"ON CONFLICT (user_id) DO UPDATE SET last_seq = {_table('EventStream')}.last_seq + 1 "
        "RETURNING last_seq",
        [user_id],
    )
    (seq,) = cursor.fetchone()
    cursor.execute(
        f"INSERT INTO {_table('Event')} (user_id, seq, type, at, data) VALUES (%s, %s, %s, %s, %s)",
        [user_id, seq, type, at, json.dumps(data)],
    )


def _answer(row: dict, now: datetime.datetime, status: int) -> Response:
    response = Response(_session_json(row, now), status=status)
    response["ETag"] = f'"{row["version"]}"'
    return response


def _problem(status: int, code: str) -> Response:
    return Response({"type": "about:blank", "status": status, "code": code}, status=status)


class ReferenceView(APIView):
    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    throttle_classes = []


class ReferenceCreateView(ReferenceView):
    """POST bench/reference/sessions/ {"kind": ...}: a running session, its event."""

    def post(self, request):
        kind = request.data.get("kind", "focus") if isinstance(request.data, dict) else "focus"
        planned = None if kind == "stopwatch" else FOCUS_SECONDS
        now = datetime.datetime.now(datetime.UTC)
        target = None if planned is None else now + datetime.timedelta(seconds=planned)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {_table('Session')} (user_id, kind, state, source, name, "
                    "description, planned_seconds, started_at, target_end_at, "
                    "closed_running_time, running_since, version, created_at, updated_at, "
                    "tag_ids) "
                    "VALUES (%s, %s, 'running', 'timer', '', '', %s, %s, %s, interval '0', %s, "
                    f"1, %s, %s, '{{}}') RETURNING {SELECTED}",
                    [request.user.pk, kind, planned, now, target, now, now, now],
                )
                row = dict(zip(COLUMNS, cursor.fetchone(), strict=True))
                _record_event(
                    cursor,
                    request.user.pk,
                    "session.started",
                    now,
                    {"session": _session_json(row, now)},
                )
        except IntegrityError:  # the one-active-session index
            return _problem(409, "active_session_exists")
        return _answer(row, now, 201)


class ReferenceTransitionView(ReferenceView):
    """POST bench/reference/sessions/<id>/pause|start|stop/."""

    def post(self, request, pk: int, action: str):
        if action not in ("pause", "start", "stop"):
            return _problem(404, "not_found")
        user_id = request.user.pk
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {SELECTED} FROM {_table('Session')} "
                "WHERE id = %s AND user_id = %s AND deleted_at IS NULL FOR NO KEY UPDATE",
                [pk, user_id],
            )
            found = cursor.fetchone()
            if found is None:
                return _problem(404, "not_found")
            row = dict(zip(COLUMNS, found, strict=True))
            now = datetime.datetime.now(datetime.UTC)
            type = _apply(row, action, now)
            if type is None:  # already in effect: answered unchanged, as the service does
                return _answer(row, now, 200)
            if type == "invalid":
                return _problem(409, "invalid_transition")
            cursor.execute(
                f"UPDATE {_table('Session')} SET state = %s, ended_at = %s, target_end_at = %s, "
                "running_since = %s, closed_running_time = %s, version = version + 1, "
                "updated_at = %s WHERE id = %s RETURNING version",
                [
                    row["state"],
                    row["ended_at"],
                    row["target_end_at"],
                    row["running_since"],
                    row["closed_running_time"],
                    now,
                    pk,
                ],
            )
            (row["version"],) = cursor.fetchone()
            _record_event(cursor, user_id, type, now, {"session": _session_json(row, now)})
        return _answer(row, now, 200)


def _close(row: dict, now: datetime.datetime) -> None:
    row["closed_running_time"] += now - row["running_since"]
    row["running_since"] = None
    row["target_end_at"] = None


def _apply(row: dict, action: str, now: datetime.datetime) -> str | None:
    """Changes `row` as `action` does; answers the event type, None when the action is
    already in effect, or "invalid"."""
    state = row["state"]
    if action == "pause":
        if state == "paused":
            return None
        if state != "running":
            return "invalid"
        _close(row, now)
        row["state"] = "paused"
        return "session.paused"
    if action == "start":
        if state == "running":
            return None
        if state != "paused":
            return "invalid"
        row["running_since"] = now
        if row["planned_seconds"] is not None:
            left = datetime.timedelta(seconds=row["planned_seconds"]) - row["closed_running_time"]
            row["target_end_at"] = now + max(left, datetime.timedelta(0))
        row["state"] = "running"
        return "session.started"
    if state in ("completed", "interrupted"):  # stop
        return None
    if state == "running":
        _close(row, now)
    planned = row["planned_seconds"]
    reached = planned is None or _elapsed(row, now) >= datetime.timedelta(seconds=planned)
    row["state"] = "completed" if reached else "interrupted"
    row["ended_at"] = now
    return "session.stopped"
