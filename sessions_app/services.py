"""Every change to a user's sessions goes through these functions (projects and tasks:
sessions_app/projects.py; the event log: events/log.py).

A session transition is: lock the row, settle it (complete it if its planned length
was reached), check the transition table, write, record the event, all in one
transaction. The lock order is written in sessions_app/locks.py.
"""

import datetime
import logging
from typing import Any

from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError

from accounts.models import TimerSettings, User
from accounts.selectors import timer_settings_of
from events.log import event_record
from pomodoro.exceptions import (
    ActiveSessionExists,
    InvalidTransition,
    Overlap,
    VersionMismatch,
)
from pomodoro.metrics import TIMER_COMPLETION_LAG
from pomodoro.timefmt import isoformat_utc
from sessions_app import statements
from sessions_app.locks import (
    due_sessions_skipping_locked,
    locked_sessions,
    locked_user,
)
from sessions_app.models import (
    Session,
    SessionSegment,
)
from sessions_app.references import NOT_NAMED, session_references
from sessions_app.selectors import cycle_next, session_active
from sessions_app.serializers import session_representation

logger = logging.getLogger("pomodoro.worker")

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
# `data.reason` of the session.stopped of a stopwatch the server stopped at the limit.
MAX_DURATION = "max_duration"


# --- Sessions: the pieces every transition is made of -------------------------------


def session_data(
    session: Session, *, now: datetime.datetime | None = None, as_written: bool = False
) -> dict:
    """The session object of the contract as of `now`. As a read shows it (one past its
    target completed there: Session.as_of), or `as_written`, as an event records it."""
    return session_representation(session, now=now or timezone.now(), as_written=as_written)


def ensure_transition(session: Session, *, to: str) -> None:
    if to not in ALLOWED_TRANSITIONS[session.state]:
        raise InvalidTransition(
            f"The session is {session.state}; it cannot become {to}.",
            extra={"session": session_data(session)},
        )


def _lock_session(user: User, session_id: int) -> Session:
    session = statements.session_lock(user_id=user.pk, session_id=session_id)
    if session is None:
        raise NotFound("No such session.")
    return session


def _open_segment(session: Session, at: datetime.datetime) -> None:
    """Starts a running stretch at `at` in memory; `_save(segment=OPEN)` writes its row."""
    session.running_since = at
    session.target_end_at = _target_end_at(session, stopwatch_max=_stopwatch_max(session))


def _stopwatch_max(session: Session) -> datetime.timedelta | None:
    """The running time at which the server stops this stopwatch (the user's
    `stopwatch_max_minutes`), None for no limit or a timed kind (read only for a stopwatch)."""
    if session.kind != Kind.STOPWATCH:
        return None
    return timer_settings_of(session.user_id).stopwatch_max_running_time


def _target_end_at(
    session: Session, *, stopwatch_max: datetime.timedelta | None = None
) -> datetime.datetime | None:
    """When the open segment ends by itself: where it reaches the planned length, or for a
    stopwatch `stopwatch_max` of running time (None: no limit); never before the segment
    began. A plan may be a fraction of a second below the time already run (it may equal
    elapsed_seconds, which is rounded down): such a run completes the moment it starts,
    as a segment cannot end before it starts. Every read and the worker take a running
    session past this moment as ended there (sessions_app.models.due_q)."""
    if session.planned_seconds is not None:
        limit = datetime.timedelta(seconds=session.planned_seconds)
    elif stopwatch_max is not None:
        limit = stopwatch_max
    else:
        return None
    return session.running_since + max(limit - session.closed_running_time, datetime.timedelta(0))


SESSION_STATE_FIELDS = [
    "state",
    "ended_at",
    "target_end_at",
    "running_since",
    "closed_running_time",
]


def _save(
    session: Session,
    fields: list[str],
    *,
    segment: str | None = None,
    at: datetime.datetime | None = None,
) -> None:
    """Writes `fields` with the next version; `segment` opens or closes the running
    stretch's row at `at` in the same statement."""
    session.version += 1
    statements.session_write(session, [*fields, "version"], segment=segment, at=at)


def _record(user: User, type: str, session: Session, now: datetime.datetime, **more: Any) -> None:
    """Records a session event with the session as written: the reactions registered
    for it (badges, team status: events.registry) see the same object."""
    event_record(
        user=user,
        type=type,
        data={"session": session_data(session, now=now, as_written=True), **more},
        subject=session,
        at=now,
    )


def _end(session: Session, *, at: datetime.datetime, state: str) -> None:
    segment = statements.SEGMENT_CLOSE if session.state == State.RUNNING else None
    session.end(at=at, state=state)
    _save(session, SESSION_STATE_FIELDS, segment=segment, at=at)


def _stop_state(session: Session, at: datetime.datetime) -> str:
    if session.kind == Kind.STOPWATCH or session.planned_length_reached(at):
        return State.COMPLETED
    return State.INTERRUPTED


def _insert_session(session: Session, *, segment_at: datetime.datetime | None = None) -> Session:
    """Saves a new active session (and opens its segment at `segment_at`, if given); the
    partial unique index is the last line of defence.

    Losing to a concurrent session that then ended before we could read it is retried
    once; losing twice in a row answers active_session_exists without the session."""
    for _attempt in range(2):
        if statements.session_insert(session, segment_at=segment_at):
            return session
        active = session_active(user=session.user)
        if active is not None:
            raise ActiveSessionExists(extra={"active_session": session_data(active)})
    raise ActiveSessionExists()


# --- Completion by time and the Pomodoro cycle -------------------------------------


def _settle(user: User, session: Session, now: datetime.datetime) -> Session | None:
    """Completes a locked running session whose planned length is reached, at exactly its
    target_end_at, and auto-starts the next step when the settings say so. Returns the
    auto-started session, if any. A stopwatch's target_end_at is its
    `stopwatch_max_minutes`: it is stopped there as a forgotten timer (`session.stopped`
    with `reason: max_duration`), and nothing follows it."""
    if not session.is_due(now):
        return None
    ended_at = session.target_end_at
    _end(session, at=ended_at, state=State.COMPLETED)
    if session.kind == Kind.STOPWATCH:
        _record(user, "session.stopped", session, now, reason=MAX_DURATION)
        return None
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
    step = cycle_next(user=user, timer_settings=timer_settings, now=now)
    # Starts where the last one ended, so no second of the cycle goes missing.
    started_at = completed.ended_at
    follower = Session(
        user_id=user.pk,
        kind=step.kind,
        state=State.RUNNING,
        planned_seconds=step.planned_seconds,
        task_id=completed.task_id if step.kind == Kind.FOCUS else None,
        project_id=completed.project_id if step.kind == Kind.FOCUS else None,
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


def sessions_complete_due(
    *, limit: int = 50, skip_ids: frozenset[int] = frozenset()
) -> tuple[int, list[int]]:
    """The timer worker's batch: completes due sessions of every user, each at its
    target_end_at. Rows another worker holds are skipped, so several workers never
    complete one session twice. Each session runs in a savepoint of its own: one that
    fails is rolled back alone, logged and left out, and the rest of the batch commits.
    Answers how many completed and the ids that failed (the worker leaves them out of
    its next batches for a while: `skip_ids`)."""
    now = timezone.now()
    lags: list[float] = []
    failed: list[int] = []
    with transaction.atomic():
        due = list(
            due_sessions_skipping_locked()
            .due(now)
            .exclude(pk__in=skip_ids)
            .select_related("user")[:limit]
        )
        for session in due:
            lag = (now - session.target_end_at).total_seconds()
            try:
                with transaction.atomic():
                    _settle(session.user, session, now)
            except (OperationalError, InterfaceError):
                raise  # the connection is gone, not this session: the worker retries the batch
            except Exception:
                logger.exception("session not completed; skipped", extra={"session_id": session.pk})
                failed.append(session.pk)
                continue
            lags.append(lag)
    # Observed once committed: a batch that rolled back completed nothing.
    for lag in lags:
        TIMER_COMPLETION_LAG.observe(lag)
    return len(lags), failed


# --- Session transitions -----------------------------------------------------------


@transaction.atomic
def session_create(
    *,
    user: User,
    kind: str = Kind.FOCUS,
    task: int | None = None,
    project: int | None = NOT_NAMED,
    tags: list[int] = NOT_NAMED,
    name: str = "",
    description: str = "",
    planned_seconds: int | None = None,
    start: bool = True,
) -> Session:
    locked_user(user.pk)  # serializes this user's claims on new time (see locks.py)
    labels = session_references(user, {"task": task, "project": project, "tags": tags}).values
    now = timezone.now()
    active = statements.session_active_lock(user_id=user.pk)
    if active is not None:
        _settle(user, active, now)
        # Read again: the one found may have just completed, and a follower auto-started.
        active = session_active(user=user)
        if active is not None:
            raise ActiveSessionExists(extra={"active_session": session_data(active, now=now)})
    if kind == Kind.STOPWATCH:
        planned_seconds = None
    elif planned_seconds is None:
        planned_seconds = timer_settings_of(user.pk).planned_seconds_for(kind)
    session = Session(
        user=user,
        kind=kind,
        state=State.RUNNING if start else State.PAUSED,
        **labels,
        name=name,
        description=description,
        planned_seconds=planned_seconds,
        started_at=now,
    )
    if start:
        _open_segment(session, now)
    _insert_session(session, segment_at=now if start else None)
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
    _save(session, SESSION_STATE_FIELDS, segment=statements.SEGMENT_OPEN, at=now)
    _record(user, "session.started", session, now)
    _settle(user, session, now)  # a plan reached already completes the moment it starts
    return session


@transaction.atomic
def session_pause(*, user: User, session_id: int) -> Session:
    session = _lock_session(user, session_id)
    now = timezone.now()
    _settle(user, session, now)
    if session.state == State.PAUSED:
        return session
    ensure_transition(session, to=State.PAUSED)
    session.close_running(now)
    session.state = State.PAUSED
    _save(session, SESSION_STATE_FIELDS, segment=statements.SEGMENT_CLOSE, at=now)
    _record(user, "session.paused", session, now)
    return session


@transaction.atomic
def session_stop(*, user: User, session_id: int, at: datetime.datetime | None = None) -> Session:
    """Ends the session now, or at `at` (a past moment: a forgotten timer, whose running
    time after `at` is cut): completed if it reached its planned length by then (always
    for a stopwatch), else interrupted. Stopping an ended session changes nothing, also
    one that ended by time after `at` (PATCH its `ended_at` to correct that). `at` in the
    future or before the session's last start or pause is invalid."""
    if at is not None and at > timezone.now():
        raise ValidationError({"at": ["Cannot be in the future."]})
    session = _lock_session(user, session_id)
    now = timezone.now()  # read once the lock is held: a change we waited for came before it
    _settle(user, session, now)
    if session.state in Session.ENDED_STATES:
        return session
    end = now
    if at is not None:
        last_change = _last_start_or_pause(session)
        if at < last_change:
            raise ValidationError(
                {
                    "at": [
                        "Must not be before the session's last start or pause, "
                        f"{isoformat_utc(last_change)}."
                    ]
                }
            )
        end = at
    _end(session, at=end, state=_stop_state(session, end))
    _record(user, "session.stopped", session, now)
    return session


def _last_start_or_pause(session: Session) -> datetime.datetime:
    """The last moment the session started or paused: the open segment's start while it
    runs, else the last segment's end (its opening when it never ran)."""
    if session.running_since is not None:
        return session.running_since
    last_pause = (
        SessionSegment.objects.filter(session_id=session.pk)
        .order_by("-ended_at")
        .values_list("ended_at", flat=True)
        .first()
    )
    return max(session.started_at, last_pause or session.started_at)


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
            project_id=session.project_id,
            planned_seconds=session.planned_seconds,
            started_at=now,
        )
    )
    _record(user, "session.reset", session, now, new_session=session_data(fresh, now=now))
    return session, fresh


TIME_FIELDS = {"started_at", "ended_at"}
EDITABLE_SESSION_FIELDS = {
    "name",
    "description",
    "task",
    "project",
    "tags",
    "planned_seconds",
    *TIME_FIELDS,
}
# The fields written for the attributes that references set.
_FIELD_OF_ATTRIBUTE = {"task_id": "task", "project_id": "project"}


@transaction.atomic
def session_update(
    *, user: User, session_id: int, expected_version: int | None = None, **changes: Any
) -> Session:
    """Edits a session; with `expected_version` (If-Match), only if nobody changed it since.
    `started_at` and `ended_at` correct its times (`_times_correct`)."""
    unknown = set(changes) - EDITABLE_SESSION_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    times = {name: changes.pop(name) for name in TIME_FIELDS & set(changes)}
    references = session_references(user, changes)  # before the session's lock (locks.py)
    # New time is claimed under the locks log/ takes; other edits lock the session alone.
    lock = _lock_for_new_time if times else _lock_session
    session = lock(user, session_id)
    now = timezone.now()
    # Settled first: a completion by time since the client read the session is a change
    # too, and the version compared must be the one a read would show now.
    _settle(user, session, now)
    if expected_version is not None and session.version != expected_version:
        raise VersionMismatch(extra={"session": session_data(session, now=now)})
    references.check_against(session)
    changes.update(references.values)
    if "planned_seconds" in changes and changes["planned_seconds"] != session.planned_seconds:
        _check_planned_change(session, changes["planned_seconds"], now)
    changed = [name for name, value in changes.items() if getattr(session, name) != value]
    corrected = _times_correct(user, session, times, now) if times else []
    if not changed and not corrected:
        return session
    for name in changed:
        setattr(session, name, changes[name])
    fields = [_FIELD_OF_ATTRIBUTE.get(name, name) for name in changed] + corrected
    if "planned_seconds" in changed and session.state == State.RUNNING:
        session.target_end_at = _target_end_at(session)
        fields.append("target_end_at")
    _save(session, list(dict.fromkeys(fields)))
    # `times_corrected` tells the badges reaction to re-read the history (analytics.services).
    more = {"times_corrected": True} if corrected else {}
    _record(user, "session.updated", session, now, **more)
    _settle(user, session, now)  # a plan shortened to what already ran completes it now
    return session


def _lock_for_new_time(user: User, session_id: int) -> Session:
    """Locks as `session_log` does before claiming time, so that no entry, resume or other
    correction can pass the overlap check beside this one: the user row, then the session
    and the user's active session in primary-key order (sessions_app.locks). Another
    active session is settled: the time after its target is free."""
    locked_user(user.pk)
    locked = list(
        locked_sessions()
        .filter(user=user)
        .filter(Q(pk=session_id) | Q(state__in=Session.ACTIVE_STATES))
    )
    now = timezone.now()
    found = None
    for session in locked:
        if session.pk == int(session_id):  # the router passes the path's id as text
            found = session
        else:
            _settle(user, session, now)
    if found is None:
        raise NotFound("No such session.")
    return found


def _overlapping_session(
    user: User,
    started_at: datetime.datetime,
    ended_at: datetime.datetime,
    *,
    besides: int | None = None,
) -> int | None:
    """A live session of the user (other than `besides`) with running time in
    [started_at, ended_at): an open segment counts until further notice, a pause is free."""
    segments = SessionSegment.objects.filter(
        user=user, session__deleted_at__isnull=True, started_at__lt=ended_at
    ).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=started_at))
    if besides is not None:
        segments = segments.exclude(session_id=besides)
    return segments.values_list("session_id", flat=True).first()


def _ensure_no_overlap(user: User, started_at, ended_at, *, besides: int | None = None) -> None:
    overlapping = _overlapping_session(user, started_at, ended_at, besides=besides)
    if overlapping is not None:
        raise Overlap(
            "This time overlaps another session.", extra={"overlapping_session": overlapping}
        )


def _times_correct(
    user: User, session: Session, times: dict[str, datetime.datetime], now: datetime.datetime
) -> list[str]:
    """Applies `started_at` / `ended_at` corrections to the locked session (its segment rows
    are written here, the session's fields by the caller); answers the fields changed.

    Ended: the running time becomes the one span between them, pauses dropped, under the
    rules of `session_log` (past, 1 s to 24 h, no overlap); completed if the span reaches
    the planned length (always for a stopwatch), else interrupted. Active: only an earlier
    `started_at`, which the first running span (and so `target_end_at`) follows; the
    caller's settle then completes a session the move made due. Values equal to the
    current ones change nothing (a client sending the object back keeps its pauses)."""
    if session.is_active:
        return _active_start_correct(user, session, times, now)
    started_at = times.get("started_at", session.started_at)
    ended_at = times.get("ended_at", session.ended_at)
    if (started_at, ended_at) == (session.started_at, session.ended_at):
        return []
    length = ended_at - started_at
    # Reported on ended_at when it was sent, as log/ does; else on the started_at sent.
    field = "ended_at" if "ended_at" in times else "started_at"
    errors = {}
    if started_at > now:
        errors["started_at"] = ["Cannot be in the future."]
    if ended_at > now:
        errors["ended_at"] = ["A session cannot end in the future."]
    if length < datetime.timedelta(seconds=1):
        errors[field] = ["ended_at must be at least one second after started_at."]
    elif length > MAX_MANUAL_LENGTH:
        errors[field] = ["A session can last 24 hours at most."]
    if errors:
        raise ValidationError(errors)
    _ensure_no_overlap(user, started_at, ended_at, besides=session.pk)
    SessionSegment.objects.filter(session_id=session.pk).delete()
    SessionSegment.objects.create(
        session_id=session.pk, user_id=user.pk, started_at=started_at, ended_at=ended_at
    )
    session.started_at, session.ended_at = started_at, ended_at
    session.closed_running_time = length
    session.state = _stop_state(session, ended_at)
    return ["started_at", "ended_at", "closed_running_time", "state"]


def _active_start_correct(
    user: User, session: Session, times: dict[str, datetime.datetime], now: datetime.datetime
) -> list[str]:
    if "ended_at" in times:
        raise ValidationError(
            {"ended_at": ["An active session has no end yet: stop it (with `at`) instead."]}
        )
    started_at = times["started_at"]
    if started_at == session.started_at:
        return []
    if started_at > session.started_at:
        raise ValidationError({"started_at": ["An active session's start can only move earlier."]})
    first = SessionSegment.objects.filter(session_id=session.pk).order_by("started_at").first()
    claimed_until = session.started_at if first is None else first.started_at
    _ensure_no_overlap(user, started_at, claimed_until, besides=session.pk)
    session.started_at = started_at
    fields = ["started_at"]
    if first is None:
        return fields  # never ran: no running time moves
    gained = first.started_at - started_at
    SessionSegment.objects.filter(pk=first.pk).update(started_at=started_at)
    if first.ended_at is None:
        session.running_since = started_at
        fields.append("running_since")
    else:
        session.closed_running_time += gained
        fields.append("closed_running_time")
    if session.target_end_at is not None:
        session.target_end_at -= gained
        fields.append("target_end_at")
    return fields


def stopwatch_limit_follow(*, user: User, timer_settings: TimerSettings, changed: set) -> None:
    """A new `stopwatch_max_minutes` moves the running stopwatch's stop (its target_end_at)
    at once, and stops it there if it has run that long already (accounts.settings_followers:
    called in the settings' transaction, before its event)."""
    if "stopwatch_max_minutes" not in changed:
        return
    # Paused ones are locked too: a resume holding the row (it read the old limit) is
    # waited for, and its stop moved once it commits; a resume waiting for this lock
    # reads the new limit.
    active = list(
        locked_sessions().filter(user=user, kind=Kind.STOPWATCH, state__in=Session.ACTIVE_STATES)
    )
    now = timezone.now()  # once the locks are held
    for session in active:
        _settle(user, session, now)
        if session.state != State.RUNNING:
            continue  # paused (it reads the limit when resumed), or stopped at the old one
        target = _target_end_at(session, stopwatch_max=timer_settings.stopwatch_max_running_time)
        if target == session.target_end_at:
            continue
        session.target_end_at = target
        _save(session, ["target_end_at"])
        _record(user, "session.updated", session, now)
        _settle(user, session, now)


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
    project: int | None = NOT_NAMED,
    tags: list[int] = NOT_NAMED,
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
    locked_user(user.pk)
    labels = session_references(user, {"task": task, "project": project, "tags": tags}).values
    # And the active session (lock order: user, then session). Resuming a paused session
    # opens a segment without the user's lock; waiting for its row makes that segment
    # visible to the overlap check below, so the entry cannot slip in beside it.
    active = statements.session_active_lock(user_id=user.pk)
    # A running session past its target ended there: the time after it is free.
    if active is not None:
        _settle(user, active, timezone.now())
    _ensure_no_overlap(user, started_at, ended_at)
    session = Session.objects.create(
        user=user,
        kind=kind,
        state=State.COMPLETED,
        source=Session.Source.MANUAL,
        **labels,
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


# --- Commands over the events socket (registered in SessionsAppConfig.ready) ---------


def _socket_command(transition):
    """A transition as the socket runs it: answers the session object the ack carries."""

    def command(*, user: User, session_id: int) -> dict:
        return session_data(transition(user=user, session_id=session_id))

    return command


def _reset_answering_fresh(*, user: User, session_id: int) -> Session:
    """A reset is acknowledged with the fresh paused session it opened."""
    _, fresh = session_reset(user=user, session_id=session_id)
    return fresh


SOCKET_COMMANDS = {
    "start": _socket_command(session_start),
    "pause": _socket_command(session_pause),
    "stop": _socket_command(session_stop),
    "reset": _socket_command(_reset_answering_fresh),
}
