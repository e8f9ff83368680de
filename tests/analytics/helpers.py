"""Setup for the analytics tests: users with a calendar, and sessions stored as given."""

import datetime
import zoneinfo

from sessions_app.models import Session, SessionSegment

API = "/api/v1/"
UTC = datetime.UTC


def at(text: str, zone: str = "UTC") -> datetime.datetime:
    """A local wall time in `zone` (first occurrence when it repeats), as an aware datetime."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=zoneinfo.ZoneInfo(zone))


def set_calendar(user, *, zone="UTC", day_starts_at="00:00", week_starts_on=0):
    user.timezone = zone
    user.day_starts_at = datetime.time.fromisoformat(day_starts_at)
    user.week_starts_on = week_starts_on
    user.save(update_fields=["timezone", "day_starts_at", "week_starts_on"])
    return user


def add_session(
    user,
    *segments: tuple[datetime.datetime, datetime.datetime],
    kind: str = Session.Kind.FOCUS,
    state: str = Session.State.COMPLETED,
    task=None,
    project=None,
    tags=(),
    deleted: bool = False,
) -> Session:
    """An ended session whose running time is exactly `segments` (pauses between them)."""
    running = sum((end - start for start, end in segments), datetime.timedelta(0))
    session = Session.objects.create(
        user=user,
        kind=kind,
        state=state,
        task=task,
        project=project if project is not None or task is None else task.project,
        tag_ids=sorted(tag.pk for tag in tags),
        planned_seconds=None
        if kind == Session.Kind.STOPWATCH
        else min(max(1, int(running.total_seconds())), 86400),
        started_at=segments[0][0],
        ended_at=segments[-1][1],
        closed_running_time=running,
        deleted_at=segments[-1][1] if deleted else None,
    )
    SessionSegment.objects.bulk_create(
        SessionSegment(session=session, user=user, started_at=start, ended_at=end)
        for start, end in segments
    )
    return session


def add_running(
    user,
    started_at: datetime.datetime,
    *,
    planned_seconds: int | None = 1500,
    kind: str = Session.Kind.FOCUS,
) -> Session:
    """A session running since `started_at` with one open segment."""
    session = Session.objects.create(
        user=user,
        kind=kind,
        state=Session.State.RUNNING,
        planned_seconds=planned_seconds,
        started_at=started_at,
        running_since=started_at,
        target_end_at=None
        if planned_seconds is None
        else started_at + datetime.timedelta(seconds=planned_seconds),
    )
    SessionSegment.objects.create(session=session, user=user, started_at=started_at)
    return session


def hours(n: float) -> int:
    return int(n * 3600)
