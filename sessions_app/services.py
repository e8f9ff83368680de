"""Every change to projects, tasks, sessions and the event log goes through these functions.

A session transition is: lock the row, settle it (complete it if its planned length
was reached), check the transition table, write, record the event, all in one
transaction. The lock order is written in sessions_app/locks.py.
"""

import datetime
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError

from accounts.models import TimerSettings, User
from pomodoro.events import publish_on_commit, user_group
from pomodoro.exceptions import (
    ActiveSessionExists,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    InvalidTransition,
    Overlap,
    VersionMismatch,
)
from pomodoro.metrics import TIMER_COMPLETION_LAG
from sessions_app.locks import (
    due_sessions_skipping_locked,
    locked_owned,
    locked_sessions,
    locked_user,
)
from sessions_app.models import (
    Event,
    EventStream,
    IdempotencyRecord,
    Project,
    Session,
    SessionSegment,
    Task,
)
from sessions_app.selectors import project_get, session_active, task_get

State = Session.State
Kind = Session.Kind

# The state machine. An action whose target state is already in effect answers the
# session unchanged; any other move not listed here is an invalid transition.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    State.RUNNING: frozenset({State.PAUSED, State.COMPLETED, State.INTERRUPTED}),
    State.PAUSED: frozenset({State.RUNNING, State.COMPLETED, State.INTERRUPTED}),
    State.COMPLETED: frozenset(),
    State.INTERRUPTED: frozenset(),
}

# A completion noticed later than this (the worker was down) does not auto-start the
# next step: nobody is there to use it, and a chain of breaks and focus sessions
# would pile up behind the user's back.
AUTO_START_GRACE = datetime.timedelta(seconds=60)
MAX_MANUAL_LENGTH = datetime.timedelta(hours=24)


# --- The event log -----------------------------------------------------------------


def _next_seq(user_id: int) -> int:
    """Allocates the user's next `seq`.

    The upsert takes the row lock of the user's stream and holds it until commit, so
    concurrent transactions of one user get consecutive numbers in commit order, and
    a rolled-back transaction gives its number back: no gaps, no duplicates.

    On PostgreSQL it first takes FOR KEY SHARE on the user row, in the same statement:
    the upsert's update path runs no foreign-key check, so without it a transaction
    could hold the stream lock and only then wait for the user row (at its event
    insert) behind a guest claim, which key-updates the user row (FOR UPDATE) and
    then waits for the stream lock: a deadlock. With it, the user row always comes
    before the stream row.
    """
    table = EventStream._meta.db_table
    user_table = User._meta.db_table
    if connection.vendor == "postgresql":
        sql = (
            f"WITH owner AS (SELECT id FROM {user_table} WHERE id = %s FOR KEY SHARE) "
            f"INSERT INTO {table} (user_id, last_seq) SELECT id, 1 FROM owner "
            f"ON CONFLICT (user_id) DO UPDATE SET last_seq = {table}.last_seq + 1 "
            "RETURNING last_seq"
        )
    else:  # SQLite runs one writer at a time: no lock to order.
        sql = (
            f"INSERT INTO {table} (user_id, last_seq) VALUES (%s, 1) "
            f"ON CONFLICT (user_id) DO UPDATE SET last_seq = {table}.last_seq + 1 "
            "RETURNING last_seq"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id])
        return cursor.fetchone()[0]


def event_record(*, user: User, type: str, data: dict) -> Event:
    """Appends an event to the user's log in the current transaction and publishes it
    to the user's sockets after the commit. The one place where events are recorded."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("event_record must run inside the transaction of the change")
    event = Event.objects.create(
        user_id=user.pk, seq=_next_seq(user.pk), type=type, at=timezone.now(), data=data
    )
    publish_on_commit(user_group(user.pk), {"type": "event.message", "event": event.as_message()})
    return event


# --- Projects and tasks ------------------------------------------------------------


def project_data(project: Project) -> dict:
    from sessions_app.serializers import ProjectSerializer

    return ProjectSerializer(project).data


def task_data(task: Task) -> dict:
    from sessions_app.selectors import task_list_with_focus
    from sessions_app.serializers import TaskSerializer

    return TaskSerializer(task_list_with_focus(user=task.user, tasks=[task])[0]).data


def _user_project(user: User, project_id: int | None) -> Project | None:
    if project_id is None:
        return None
    return project_get(user=user, project_id=project_id)


def _user_task(user: User, task_id: int | None) -> Task | None:
    if task_id is None:
        return None
    return task_get(user=user, task_id=task_id)


def _live(model, user: User, pk: int):
    instance = locked_owned(model, user=user, pk=pk)
    if instance is None:
        raise NotFound(f"No such {model._meta.verbose_name}.")
    return instance


@transaction.atomic
def project_create(
    *, user: User, name: str, description: str = "", color: str | None = None
) -> Project:
    project = Project(user=user, name=name, description=description)
    if color:
        project.color = color
    project.save()
    event_record(user=user, type="project.created", data={"project": project_data(project)})
    return project


@transaction.atomic
def project_update(*, user: User, project_id: int, **changes: Any) -> Project:
    project = _live(Project, user, project_id)
    changed = [name for name, value in changes.items() if getattr(project, name) != value]
    if not changed:
        return project
    for name in changed:
        setattr(project, name, changes[name])
    project.save(update_fields=[*changed, "updated_at"])
    event_record(user=user, type="project.updated", data={"project": project_data(project)})
    return project


@transaction.atomic
def project_delete(*, user: User, project_id: int) -> None:
    """Soft delete: the project leaves lists; its tasks stay, shown without a project."""
    project = _live(Project, user, project_id)
    project.deleted_at = timezone.now()
    project.save(update_fields=["deleted_at", "updated_at"])
    event_record(user=user, type="project.deleted", data={"project": {"id": project.pk}})


@transaction.atomic
def task_create(
    *,
    user: User,
    title: str,
    project: int | None = None,
    daily_goal_minutes: int | None = None,
    archived: bool = False,
) -> Task:
    task = Task.objects.create(
        user=user,
        title=title,
        project=_user_project(user, project),
        daily_goal_minutes=daily_goal_minutes,
        archived=archived,
    )
    event_record(user=user, type="task.created", data={"task": task_data(task)})
    return task


@transaction.atomic
def task_update(*, user: User, task_id: int, **changes: Any) -> Task:
    task = _live(Task, user, task_id)
    if "project" in changes:
        changes["project"] = _user_project(user, changes["project"])
    changed = [name for name, value in changes.items() if getattr(task, name) != value]
    if not changed:
        return task
    for name in changed:
        setattr(task, name, changes[name])
    task.save(update_fields=[*changed, "updated_at"])
    event_record(user=user, type="task.updated", data={"task": task_data(task)})
    return task


@transaction.atomic
def task_delete(*, user: User, task_id: int) -> None:
    """Soft delete: the task leaves lists; its sessions keep their time in history."""
    task = _live(Task, user, task_id)
    task.deleted_at = timezone.now()
    task.save(update_fields=["deleted_at", "updated_at"])
    event_record(user=user, type="task.deleted", data={"task": {"id": task.pk}})


# --- Sessions: the pieces every transition is made of -------------------------------


def session_data(session: Session, *, now: datetime.datetime | None = None) -> dict:
    from sessions_app.serializers import SessionSerializer

    return SessionSerializer(session, context={"now": now or timezone.now()}).data


def ensure_transition(session: Session, *, to: str) -> None:
    if to not in ALLOWED_TRANSITIONS[session.state]:
        raise InvalidTransition(
            f"The session is {session.state}; it cannot become {to}.",
            extra={"session": session_data(session)},
        )


def _lock_session(user: User, session_id: int) -> Session:
    session = locked_sessions().filter(pk=session_id, user=user).first()
    if session is None:
        raise NotFound("No such session.")
    return session


def _open_segment(session: Session, at: datetime.datetime) -> None:
    SessionSegment.objects.create(session=session, user_id=session.user_id, started_at=at)
    session.running_since = at
    if session.planned_seconds is not None:
        session.target_end_at = _target_end_at(session)


def _target_end_at(session: Session) -> datetime.datetime:
    """When the open segment reaches the planned length; never before the segment began.
    A plan may be a fraction of a second below the time already run (it may equal
    elapsed_seconds, which is rounded down): such a run completes the moment it starts,
    as a segment cannot end before it starts."""
    left = datetime.timedelta(seconds=session.planned_seconds) - session.closed_running_time
    return session.running_since + max(left, datetime.timedelta(0))


def _close_segment(session: Session, at: datetime.datetime) -> None:
    SessionSegment.objects.filter(session=session, ended_at__isnull=True).update(ended_at=at)
    session.closed_running_time += at - session.running_since
    session.running_since = None
    session.target_end_at = None


SESSION_STATE_FIELDS = [
    "state",
    "ended_at",
    "target_end_at",
    "running_since",
    "closed_running_time",
]


def _save(session: Session, fields: list[str]) -> None:
    session.version += 1
    session.save(update_fields=[*fields, "version", "updated_at"])


# The events that report a session's end: by stop (also within a delete), by time, or
# logged by hand.
ENDING_EVENTS = frozenset({"session.stopped", "session.completed", "session.logged"})


def _record(user: User, type: str, session: Session, now: datetime.datetime, **more: Any) -> None:
    """Records a session event. When it reports a focus session ending completed, this
    is the one place that awards the badges the completion earned, in the same
    transaction and after the event: the session row and the event stream row are held
    already, so the badge rows come last in the lock order (sessions_app/locks.py)."""
    event_record(user=user, type=type, data={"session": session_data(session, now=now), **more})
    if type in ENDING_EVENTS and session.kind == Kind.FOCUS and session.state == State.COMPLETED:
        from analytics.services import badges_award_after_focus  # analytics imports this app

        badges_award_after_focus(user=user, session=session, now=now)
    from teams.services import member_status_publish  # teams builds on sessions

    member_status_publish(user=user, event_type=type, session=session, now=now)


def _end(session: Session, *, at: datetime.datetime, state: str) -> None:
    if session.state == State.RUNNING:
        _close_segment(session, at)
    session.state = state
    session.ended_at = at
    _save(session, SESSION_STATE_FIELDS)


def _stop_state(session: Session, at: datetime.datetime) -> str:
    if session.kind == Kind.STOPWATCH or session.planned_length_reached(at):
        return State.COMPLETED
    return State.INTERRUPTED


def _insert_session(session: Session) -> Session:
    """Saves a new active session; the partial unique index is the last line of defence.

    Losing to a concurrent session that then ended before we could read it is retried
    once; losing twice in a row answers active_session_exists without the session."""
    for _attempt in range(2):
        try:
            with transaction.atomic():
                session.save()
            return session
        except IntegrityError:
            active = session_active(user=session.user)
            if active is not None:
                raise ActiveSessionExists(extra={"active_session": session_data(active)}) from None
    raise ActiveSessionExists()


# --- Completion by time and the Pomodoro cycle -------------------------------------


def _settle(user: User, session: Session, now: datetime.datetime) -> Session | None:
    """Completes a locked running session whose planned length is reached, at exactly its
    target_end_at, and auto-starts the next step when the settings say so. Returns the
    auto-started session, if any."""
    if not session.is_due(now):
        return None
    ended_at = session.target_end_at
    _end(session, at=ended_at, state=State.COMPLETED)
    _record(user, "session.completed", session, now)
    return _auto_start_next(user, session, now)


def _auto_start_next(user: User, completed: Session, now: datetime.datetime) -> Session | None:
    if completed.source != Session.Source.TIMER or now - completed.ended_at > AUTO_START_GRACE:
        return None
    timer_settings = TimerSettings.objects.get(user_id=user.pk)
    if completed.kind == Kind.FOCUS and not timer_settings.auto_start_breaks:
        return None
    if completed.kind in Session.BREAK_KINDS and not timer_settings.auto_start_focus:
        return None
    if completed.kind == Kind.STOPWATCH:
        return None
    from sessions_app.selectors import cycle_next

    step = cycle_next(user=user, timer_settings=timer_settings, now=now)
    # Starts where the last one ended, so no second of the cycle goes missing.
    started_at = completed.ended_at
    follower = Session(
        user_id=user.pk,
        kind=step.kind,
        state=State.RUNNING,
        planned_seconds=step.planned_seconds,
        task_id=completed.task_id if step.kind == Kind.FOCUS else None,
        started_at=started_at,
        # Set before the insert: a running row without them breaks session_state_fields.
        running_since=started_at,
        target_end_at=started_at + datetime.timedelta(seconds=step.planned_seconds),
    )
    try:
        with transaction.atomic():
            follower.save()
            SessionSegment.objects.create(session=follower, user_id=user.pk, started_at=started_at)
    except IntegrityError:
        return None  # another device started a session meanwhile: theirs wins
    _record(user, "session.started", follower, now)
    return follower


def session_settle_due(*, user: User) -> None:
    """Makes reads see a session that reached its planned length as completed at once,
    even if the timer worker has not got to it yet."""
    now = timezone.now()
    due_ids = list(
        Session.objects.filter(
            user=user, state=State.RUNNING, deleted_at__isnull=True, target_end_at__lte=now
        ).values_list("pk", flat=True)[:1]
    )
    if not due_ids:
        return
    with transaction.atomic():
        session = locked_sessions().filter(pk=due_ids[0]).first()
        if session is not None:
            _settle(user, session, timezone.now())


def sessions_complete_due(*, limit: int = 200) -> int:
    """The timer worker's batch: completes due sessions of every user. Rows another worker
    holds are skipped, so several workers never complete one session twice."""
    now = timezone.now()
    lags: list[float] = []
    with transaction.atomic():
        due = list(
            due_sessions_skipping_locked()
            .filter(target_end_at__lte=now)
            .select_related("user")[:limit]
        )
        for session in due:
            lags.append((now - session.target_end_at).total_seconds())
            _settle(session.user, session, now)
    # Observed once committed: a batch that rolled back completed nothing.
    for lag in lags:
        TIMER_COMPLETION_LAG.observe(lag)
    return len(lags)


# --- Session transitions -----------------------------------------------------------


@transaction.atomic
def session_create(
    *,
    user: User,
    kind: str = Kind.FOCUS,
    task: int | None = None,
    name: str = "",
    description: str = "",
    planned_seconds: int | None = None,
    start: bool = True,
) -> Session:
    locked_user(user.pk)  # serializes this user's claims on new time (see locks.py)
    now = timezone.now()
    active = locked_sessions().filter(user=user, state__in=Session.ACTIVE_STATES).first()
    if active is not None:
        _settle(user, active, now)
        # Read again: the one found may have just completed, and a follower auto-started.
        active = session_active(user=user)
        if active is not None:
            raise ActiveSessionExists(extra={"active_session": session_data(active, now=now)})
    if kind == Kind.STOPWATCH:
        planned_seconds = None
    elif planned_seconds is None:
        planned_seconds = TimerSettings.objects.get(user_id=user.pk).planned_seconds_for(kind)
    session = Session(
        user=user,
        kind=kind,
        state=State.RUNNING if start else State.PAUSED,
        task=_user_task(user, task),
        name=name,
        description=description,
        planned_seconds=planned_seconds,
        started_at=now,
    )
    if start:
        session.running_since = now
        if planned_seconds is not None:
            session.target_end_at = now + datetime.timedelta(seconds=planned_seconds)
    _insert_session(session)
    if start:
        SessionSegment.objects.create(session=session, user_id=user.pk, started_at=now)
    _record(user, "session.started" if start else "session.updated", session, now)
    return session


@transaction.atomic
def session_start(*, user: User, session_id: int) -> Session:
    session = _lock_session(user, session_id)
    now = timezone.now()
    _settle(user, session, now)
    if session.state == State.RUNNING:
        return session
    ensure_transition(session, to=State.RUNNING)
    _open_segment(session, now)
    session.state = State.RUNNING
    _save(session, SESSION_STATE_FIELDS)
    _record(user, "session.started", session, now)
    return session


@transaction.atomic
def session_pause(*, user: User, session_id: int) -> Session:
    session = _lock_session(user, session_id)
    now = timezone.now()
    _settle(user, session, now)
    if session.state == State.PAUSED:
        return session
    ensure_transition(session, to=State.PAUSED)
    _close_segment(session, now)
    session.state = State.PAUSED
    _save(session, SESSION_STATE_FIELDS)
    _record(user, "session.paused", session, now)
    return session


@transaction.atomic
def session_stop(*, user: User, session_id: int) -> Session:
    """Ends the session now: completed if it reached its planned length (always for a
    stopwatch), else interrupted. Stopping an ended session changes nothing."""
    session = _lock_session(user, session_id)
    now = timezone.now()
    _settle(user, session, now)
    if session.state in Session.ENDED_STATES:
        return session
    _end(session, at=now, state=_stop_state(session, now))
    _record(user, "session.stopped", session, now)
    return session


@transaction.atomic
def session_reset(*, user: User, session_id: int) -> tuple[Session, Session]:
    """Ends the session as interrupted and opens a fresh paused one like it."""
    session = _lock_session(user, session_id)
    now = timezone.now()
    _settle(user, session, now)
    ensure_transition(session, to=State.INTERRUPTED)
    _end(session, at=now, state=State.INTERRUPTED)
    fresh = _insert_session(
        Session(
            user=user,
            kind=session.kind,
            state=State.PAUSED,
            task_id=session.task_id,
            planned_seconds=session.planned_seconds,
            started_at=now,
        )
    )
    _record(user, "session.reset", session, now, new_session=session_data(fresh, now=now))
    return session, fresh


EDITABLE_SESSION_FIELDS = {"name", "description", "task", "planned_seconds"}


@transaction.atomic
def session_update(
    *, user: User, session_id: int, expected_version: int | None = None, **changes: Any
) -> Session:
    """Edits a session; with `expected_version` (If-Match), only if nobody changed it since."""
    unknown = set(changes) - EDITABLE_SESSION_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    session = _lock_session(user, session_id)
    now = timezone.now()
    # Settled first: a completion by time since the client read the session is a change
    # too, and the version compared must be the one a read would show now.
    _settle(user, session, now)
    if expected_version is not None and session.version != expected_version:
        raise VersionMismatch(extra={"session": session_data(session, now=now)})
    if "task" in changes:
        changes["task"] = _user_task(user, changes["task"])
    if "planned_seconds" in changes and changes["planned_seconds"] != session.planned_seconds:
        _check_planned_change(session, changes["planned_seconds"], now)
    changed = [name for name, value in changes.items() if getattr(session, name) != value]
    if not changed:
        return session
    for name in changed:
        setattr(session, name, changes[name])
    fields = list(changed)
    if "planned_seconds" in changed and session.state == State.RUNNING:
        session.target_end_at = _target_end_at(session)
        fields.append("target_end_at")
    _save(session, fields)
    _record(user, "session.updated", session, now)
    _settle(user, session, now)  # a plan shortened to what already ran completes it now
    return session


def _check_planned_change(session: Session, planned_seconds: int | None, now) -> None:
    if session.kind == Kind.STOPWATCH:
        raise ValidationError({"planned_seconds": ["A stopwatch has no planned length."]})
    if planned_seconds is None:
        raise ValidationError({"planned_seconds": ["This field may not be null."]})
    if not session.is_active:
        raise ValidationError(
            {"planned_seconds": ["The planned length of an ended session cannot change."]}
        )
    if planned_seconds < session.elapsed_seconds(now):
        raise ValidationError(
            {
                "planned_seconds": [
                    f"Must be at least the {session.elapsed_seconds(now)} seconds already elapsed."
                ]
            }
        )


@transaction.atomic
def session_delete(*, user: User, session_id: int) -> None:
    """Soft delete: gone from lists and reports. An active session is ended first."""
    session = _lock_session(user, session_id)
    now = timezone.now()
    _settle(user, session, now)
    if session.is_active:
        _end(session, at=now, state=_stop_state(session, now))
        _record(user, "session.stopped", session, now)
    session.deleted_at = now
    _save(session, ["deleted_at"])
    _record(user, "session.deleted", session, now)


@transaction.atomic
def session_log(
    *,
    user: User,
    started_at: datetime.datetime,
    ended_at: datetime.datetime,
    kind: str = Kind.FOCUS,
    task: int | None = None,
    name: str = "",
    description: str = "",
) -> Session:
    """Records past time as a finished manual session. Tracked time never overlaps: the
    check runs under the user's lock and the active session's, so neither a concurrent
    entry nor a concurrent resume can pass it."""
    now = timezone.now()
    length = ended_at - started_at
    errors = {}
    if ended_at > now:
        errors["ended_at"] = ["A manual entry cannot end in the future."]
    if length < datetime.timedelta(seconds=1):
        errors["ended_at"] = ["Must be at least one second after started_at."]
    elif length > MAX_MANUAL_LENGTH:
        errors["ended_at"] = ["A manual entry can last 24 hours at most."]
    if errors:
        raise ValidationError(errors)
    task_obj = _user_task(user, task)
    locked_user(user.pk)
    # And the active session (lock order: user, then session). Resuming a paused session
    # opens a segment without the user's lock; waiting for its row makes that segment
    # visible to the overlap check below, so the entry cannot slip in beside it.
    active = locked_sessions().filter(user=user, state__in=Session.ACTIVE_STATES).first()
    # A running session past its target ended there: the time after it is free.
    if active is not None:
        _settle(user, active, timezone.now())
    overlapping = (
        SessionSegment.objects.filter(
            user=user, session__deleted_at__isnull=True, started_at__lt=ended_at
        )
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=started_at))
        .values_list("session_id", flat=True)
        .first()
    )
    if overlapping is not None:
        raise Overlap(
            "This time overlaps another session.", extra={"overlapping_session": overlapping}
        )
    session = Session.objects.create(
        user=user,
        kind=kind,
        state=State.COMPLETED,
        source=Session.Source.MANUAL,
        task=task_obj,
        name=name,
        description=description,
        planned_seconds=None if kind == Kind.STOPWATCH else int(length.total_seconds()),
        started_at=started_at,
        ended_at=ended_at,
        closed_running_time=length,
    )
    SessionSegment.objects.create(
        session=session, user_id=user.pk, started_at=started_at, ended_at=ended_at
    )
    _record(user, "session.logged", session, now)
    return session


# --- Idempotency keys --------------------------------------------------------------


@dataclass(frozen=True)
class IdempotencyClaim:
    """Either a claim on the key (record set), or the first answer to send again."""

    record: IdempotencyRecord | None = None
    replay: IdempotencyRecord | None = None


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_claim(*, user: User, key: str, fingerprint: str) -> IdempotencyClaim:
    """Claims `key` for this request, committed at once so that a concurrent retry sees
    it in progress. An expired key (24 h) or a claim left by a request that died is
    taken over with a compare-and-set, so only one request ever holds it."""
    now = timezone.now()
    with transaction.atomic():
        record, created = IdempotencyRecord.objects.get_or_create(
            user=user, key=key, defaults={"fingerprint": fingerprint, "created_at": now}
        )
    if created:
        return IdempotencyClaim(record=record)
    expired = record.created_at <= now - settings.IDEMPOTENCY_KEY_TTL
    abandoned = (
        record.state == IdempotencyRecord.State.IN_PROGRESS
        and record.updated_at <= now - settings.IDEMPOTENCY_STALE_AFTER
    )
    if not expired:
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        if record.state == IdempotencyRecord.State.DONE:
            return IdempotencyClaim(replay=record)
        if not abandoned:
            raise IdempotencyInProgress()
    taken_over = IdempotencyRecord.objects.filter(
        pk=record.pk, updated_at=record.updated_at
    ).update(
        fingerprint=fingerprint,
        state=IdempotencyRecord.State.IN_PROGRESS,
        response_status=None,
        response_body=None,
        response_headers={},
        created_at=now if expired else record.created_at,
        updated_at=now,
    )
    if not taken_over:
        raise IdempotencyInProgress()
    record.refresh_from_db()
    return IdempotencyClaim(record=record)


def idempotency_complete(
    *, record: IdempotencyRecord, status: int, body: Any, headers: dict[str, str]
) -> None:
    """Stores the answer; called inside the transaction of the change it answers."""
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.DONE,
        response_status=status,
        response_body=body,
        response_headers=headers,
        updated_at=timezone.now(),
    )


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Frees the key after an unexpected failure, so that a retry can run for real."""
    IdempotencyRecord.objects.filter(pk=record.pk).delete()


def idempotency_purge_expired() -> int:
    cutoff = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lte=cutoff).delete()
    return deleted


# --- Realtime tickets --------------------------------------------------------------

REALTIME_TICKET_TTL = datetime.timedelta(seconds=60)


def _ticket_key(ticket: str) -> str:
    # Only a hash is stored, so a look at the cache cannot open anyone's socket.
    return "ws-ticket:" + hashlib.sha256(ticket.encode()).hexdigest()


def realtime_ticket_create(*, user: User) -> tuple[str, datetime.datetime]:
    """A single-use ticket that opens one WebSocket for `user` within 60 seconds. It lives
    in the cache (Redis in production), so any server process can redeem it."""
    ticket = secrets.token_urlsafe(32)
    payload = {"user_id": user.pk, "generation": user.token_generation}
    cache.set(_ticket_key(ticket), payload, timeout=REALTIME_TICKET_TTL.total_seconds())
    return ticket, timezone.now() + REALTIME_TICKET_TTL


def realtime_ticket_redeem(*, ticket: str) -> tuple[User, int] | None:
    """The ticket's user and token generation, once: the delete is the redemption, and
    only the caller whose delete removed the key wins a race for one ticket."""
    if not ticket or len(ticket) > 128:
        return None
    key = _ticket_key(ticket)
    payload = cache.get(key)
    if payload is None or not cache.delete(key):
        return None
    user = User.objects.filter(pk=payload["user_id"], is_active=True).first()
    if user is None or user.token_generation != payload["generation"]:
        return None
    return user, payload["generation"]


def realtime_credentials_current(*, user_id: int, generation: int) -> bool:
    """False once the user was disabled or changed their password since the socket opened."""
    return User.objects.filter(pk=user_id, is_active=True, token_generation=generation).exists()


def user_history_delete(user: User) -> None:
    """Before `user`'s account is deleted (an accounts.deletion step): its segments,
    sessions, tasks and projects, in that order, since each is PROTECTed from deletion
    while the next refers to it. Plain queryset deletes, a statement or two each; the
    events and the rest go with the user row by their cascades."""
    SessionSegment.objects.filter(user=user).delete()
    Session.objects.filter(user=user).delete()
    Task.objects.filter(user=user).delete()
    Project.objects.filter(user=user).delete()
