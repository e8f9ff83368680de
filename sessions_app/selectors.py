"""Reads of projects, tasks, sessions and events. Nothing here writes."""

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone
from rest_framework.exceptions import NotFound

from accounts import timeframes
from accounts.models import TimerSettings, User
from sessions_app.models import Project, Session, SessionSegment, Tag, Task


def project_list(*, user: User) -> QuerySet[Project]:
    return Project.objects.filter(user=user, deleted_at__isnull=True)


def project_get(*, user: User, project_id: int) -> Project:
    project = project_list(user=user).filter(pk=project_id).first()
    if project is None:
        raise NotFound("No such project.")
    return project


def tag_list(*, user: User) -> QuerySet[Tag]:
    return Tag.objects.filter(user=user)


def tag_get(*, user: User, tag_id: int) -> Tag:
    tag = tag_list(user=user).filter(pk=tag_id).first()
    if tag is None:
        raise NotFound("No such tag.")
    return tag


def task_list(
    *, user: User, archived: bool | None = None, project: int | None = None
) -> QuerySet[Task]:
    tasks = Task.objects.filter(user=user, deleted_at__isnull=True).select_related("project")
    if archived is not None:
        tasks = tasks.filter(archived=archived)
    if project is not None:
        tasks = tasks.filter(project_id=project)
    return tasks


def task_get(*, user: User, task_id: int) -> Task:
    task = task_list(user=user).filter(pk=task_id).first()
    if task is None:
        raise NotFound("No such task.")
    return task


def _overlap(
    start: datetime.datetime, end: datetime.datetime, lo: datetime.datetime, hi: datetime.datetime
) -> datetime.timedelta:
    return max(min(end, hi) - max(start, lo), datetime.timedelta(0))


def task_list_with_focus(
    *, user: User, tasks: list[Task], now: datetime.datetime | None = None
) -> list[Task]:
    """Sets `today_focus_seconds` on each task: its focus and stopwatch time in the user's
    current day, with one query for the whole list. A running session counts up to now,
    and never past its target (it completed there, whether or not anyone noticed yet)."""
    now = now or timezone.now()
    day_start, day_end = timeframes.period_bounds(user, "day", timeframes.today(user, now))
    seconds = {task.pk: datetime.timedelta(0) for task in tasks}
    if seconds:
        segments = (
            SessionSegment.objects.filter(
                session__task_id__in=list(seconds),
                session__deleted_at__isnull=True,
                session__kind__in=Session.FOCUS_KINDS,
                started_at__lt=day_end,
            )
            .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=day_start))
            .values_list("session__task_id", "started_at", "ended_at", "session__target_end_at")
        )
        for task_id, started_at, ended_at, target_end_at in segments:
            end = ended_at or min(now, target_end_at or now)
            seconds[task_id] += _overlap(started_at, end, day_start, day_end)
    for task in tasks:
        task.today_focus_seconds = int(seconds[task.pk].total_seconds())
    return tasks


def session_get(*, user: User, session_id: int) -> Session:
    session = Session.objects.filter(pk=session_id, user=user, deleted_at__isnull=True).first()
    if session is None:
        raise NotFound("No such session.")
    return session


def session_active(*, user: User, now: datetime.datetime | None = None) -> Session | None:
    """The session active at `now`: one past its target is not (it completed there)."""
    return (
        Session.objects.filter(user=user, deleted_at__isnull=True)
        .active_at(now or timezone.now())
        .first()
    )


def session_list(
    *,
    user: User,
    start: datetime.datetime | None = None,
    end: datetime.datetime | None = None,
    task: int | None = None,
    project: int | None = None,
    tag: int | None = None,
    kind: str | None = None,
    state: str | None = None,
    source: str | None = None,
    q: str | None = None,
    now: datetime.datetime | None = None,
) -> QuerySet[Session]:
    """The user's sessions, newest first. With a range, every session that overlaps
    [start, end): a session from 23:30 to 00:30 is in both days' history. `state` is the
    state a read at `now` shows (Session.as_of). `q` is text in the name, description or
    task title, ignoring case.

    Each filter has its index (docs/benchmarks.md, "Search and filters"): `project`
    session_project_history, `tag` the GIN index of tag_ids, `q` the trigram indexes.
    The tasks whose title matches `q` are found first, by one query of their own, so
    that the session query can OR three indexed conditions (a join could not)."""
    sessions = Session.objects.filter(user=user, deleted_at__isnull=True)
    if end is not None:
        sessions = sessions.filter(started_at__lt=end)
    if start is not None:
        sessions = sessions.filter(
            Q(started_at__gte=start) | Q(ended_at__isnull=True) | Q(ended_at__gt=start)
        )
    if task is not None:
        sessions = sessions.filter(task_id=task)
    if project is not None:
        sessions = sessions.filter(project_id=project)
    if tag is not None:
        sessions = sessions.filter(tag_ids__contains=[tag])
    if source is not None:
        sessions = sessions.filter(source=source)
    if q:
        titled = list(
            Task.objects.filter(user=user, title__icontains=q).values_list("pk", flat=True)
        )
        sessions = sessions.filter(
            Q(name__icontains=q) | Q(description__icontains=q) | Q(task_id__in=titled)
        )
    if kind is not None:
        sessions = sessions.filter(kind=kind)
    if state is not None:
        sessions = sessions.in_state_at(state, now or timezone.now())
    return sessions.order_by("-started_at", "-id")


EXPORT_FIELDS = (
    "target_end_at",
    "id",
    "kind",
    "state",
    "source",
    "name",
    "description",
    "task_id",
    "task__title",
    "project_id",
    "project__name",
    "project__deleted_at",
    "tag_ids",
    "planned_seconds",
    "started_at",
    "ended_at",
    "closed_running_time",
    "running_since",
)


def session_export(
    *, user: User, start: datetime.datetime | None = None, end: datetime.datetime | None = None
) -> QuerySet:
    """The user's sessions that started in [start, end), oldest first, as flat rows
    (`EXPORT_FIELDS`) read with one query: a session is in exactly one of two
    back-to-back ranges, so exports of consecutive periods add up to the whole history.
    Deleted sessions are left out; a deleted task still names its sessions. Tags come
    as ids (`tag_ids`): `tag_names` maps them to names once for the whole export."""
    sessions = Session.objects.filter(user=user, deleted_at__isnull=True)
    if start is not None:
        sessions = sessions.filter(started_at__gte=start)
    if end is not None:
        sessions = sessions.filter(started_at__lt=end)
    return sessions.order_by("started_at", "id").values_list(*EXPORT_FIELDS, named=True)


def tag_names(*, user: User) -> dict[int, str]:
    return dict(Tag.objects.filter(user=user).values_list("pk", "name"))


def period_range(
    *, user: User, period: timeframes.Period, day: datetime.date | None
) -> tuple[datetime.datetime, datetime.datetime]:
    return timeframes.period_bounds(user, period, day or timeframes.today(user))


@dataclass(frozen=True)
class CycleStep:
    kind: str
    planned_seconds: int


def cycle_next(
    *,
    user: User,
    timer_settings: TimerSettings | None = None,
    now: datetime.datetime | None = None,
) -> CycleStep:
    """The next step of the Pomodoro cycle: a break after a focus session (a long one after
    every `long_break_every` completed focus sessions of the current day), else focus.
    Stopwatch and manual sessions are not part of the cycle."""
    now = now or timezone.now()
    timer_settings = timer_settings or TimerSettings.objects.get(user_id=user.pk)
    day_start, day_end = timeframes.period_bounds(user, "day", timeframes.today(user, now))
    todays = Session.objects.filter(
        user=user,
        deleted_at__isnull=True,
        source=Session.Source.TIMER,
        started_at__gte=day_start,
        started_at__lt=day_end,
    ).exclude(kind=Session.Kind.STOPWATCH)
    last = todays.order_by("-started_at", "-id").only("kind", "state", "target_end_at").first()
    last_active = last is not None and last.is_active and not last.is_due(now)
    if last is not None and last.kind == Session.Kind.FOCUS and last.state != "interrupted":
        completed_focus = todays.filter(kind=Session.Kind.FOCUS).completed_at(now).count()
        if last_active:
            completed_focus += 1  # the break comes after the focus now under way
        if completed_focus % timer_settings.long_break_every == 0:
            kind = Session.Kind.LONG_BREAK
        else:
            kind = Session.Kind.SHORT_BREAK
    else:
        kind = Session.Kind.FOCUS
    return CycleStep(kind=kind, planned_seconds=timer_settings.planned_seconds_for(kind))
