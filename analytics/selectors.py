"""Analytics reads: focus summaries, the weekday-hour heatmap, streaks and leaderboards.

Everything is aggregated on the fly from the running time (segments) of sessions that
are not deleted, exact to the microsecond, in the user's *current* settings (timezone,
`day_starts_at`, `week_starts_on`): a change of settings re-reads all history.

A running session counts up to now and never past its `target_end_at` (it completed
there, whether or not the worker has noticed yet). Each read fetches only the segments
that overlap its range, in a fixed number of queries.
"""

import bisect
import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    BigIntegerField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from accounts import timeframes
from accounts.models import User
from analytics.models import Badge
from sessions_app.models import Session, SessionSegment, Task

UTC = datetime.UTC
ZERO = datetime.timedelta(0)
# The heatmap's longest range: a leap year and one day, so any "last 12 months" fits.
HEATMAP_MAX_DAYS = 367
UNIX_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = datetime.timedelta(microseconds=1)
MICROSECONDS_PER_SECOND = 1_000_000
QUARTER_HOUR_MICROSECONDS = 900 * MICROSECONDS_PER_SECOND


def seconds(delta: datetime.timedelta) -> int:
    """Whole seconds, rounded down, as every `*_seconds` figure of the API."""
    return int(delta.total_seconds())


@dataclass(frozen=True)
class Piece:
    """A stretch of running time of one session, clipped to `now` (and to the target)."""

    start: datetime.datetime
    end: datetime.datetime
    kind: str
    task_id: int | None


def overlapping(start: datetime.datetime, end: datetime.datetime) -> Q:
    """Segments that overlap [start, end), exact for segments of any length (a stopwatch
    can run for days). Every segment is either short (closed within SHORT_SEGMENT), and
    then started at most that long before `start`, so the index (user, started_at) is
    walked over [start - SHORT_SEGMENT, end) only; or long or still open, and then in
    the small partial index segment_long_or_open."""
    reaches_start = Q(ended_at__isnull=True) | Q(ended_at__gt=start)
    recent = Q(started_at__gte=start - SessionSegment.SHORT_SEGMENT, started_at__lt=end)
    early = Q(started_at__lt=start - SessionSegment.SHORT_SEGMENT) & SessionSegment.LONG_OR_OPEN
    return reaches_start & (recent | early)


def user_segments(user: User) -> QuerySet:
    """The user's segments. The filter on the session's user is redundant (a segment's
    user is its session's), but it lets PostgreSQL read only this user's sessions for
    the join instead of every user's when it misjudges how many segments a range holds
    (one user with years of history among many recent ones, in the benchmark)."""
    return SessionSegment.objects.filter(user=user, session__user=user)


def running_pieces(
    *,
    user: User | None = None,
    where: Q | None = None,
    start: datetime.datetime,
    end: datetime.datetime,
    now: datetime.datetime,
    kinds: Iterable[str] = Session.FOCUS_KINDS,
) -> Iterator[tuple[int, Piece]]:
    """(user id, piece) for every segment of the user's (or the filter's) live sessions of `kinds`
    that overlaps [start, end), clipped to that range. One query.

    See `overlapping` for the filter."""
    segments = SessionSegment.objects.filter(
        overlapping(start, end), session__deleted_at__isnull=True, session__kind__in=list(kinds)
    )
    if user is not None:
        segments = segments.filter(user=user, session__user=user)
    if where is not None:
        segments = segments.filter(where)
    rows = segments.values_list(
        "user_id",
        "started_at",
        "ended_at",
        "session__target_end_at",
        "session__kind",
        "session__task_id",
    )
    for user_id, started_at, ended_at, target_end_at, kind, task_id in rows:
        if ended_at is None:
            ended_at = min(now, target_end_at) if target_end_at is not None else now
        piece_start, piece_end = max(started_at, start), min(ended_at, end)
        if piece_end > piece_start:
            yield user_id, Piece(piece_start, piece_end, kind, task_id)


def micros(at: datetime.datetime) -> int:
    """An instant as whole microseconds since the Unix epoch."""
    return (at - UNIX_EPOCH) // MICROSECOND


class EpochMicros(Func):
    """A timestamp as whole microseconds since the Unix epoch, computed in PostgreSQL
    (EXTRACT(EPOCH ...) is an exact numeric since PostgreSQL 14). Loading integers is
    several times cheaper than loading datetimes, which Django does in Python."""

    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
    output_field = BigIntegerField()


@dataclass(frozen=True)
class Span:
    """A piece (see `Piece`) in whole microseconds since the Unix epoch."""

    user_id: int
    start: int
    end: int
    kind: str
    task_id: int | None


def running_spans(
    segments: QuerySet,
    *,
    start: datetime.datetime,
    end: datetime.datetime,
    now: datetime.datetime,
    kinds: Iterable[str] = Session.FOCUS_KINDS,
    extra: Iterable[str] = (),
) -> Iterator[tuple[Span, tuple]]:
    """`running_pieces` in integers, from `segments` (a SessionSegment queryset already
    filtered by user), with the `extra` fields of each row. One query."""
    rows = (
        segments.filter(
            overlapping(start, end),
            session__deleted_at__isnull=True,
            session__kind__in=list(kinds),
        )
        .annotate(
            start_us=EpochMicros("started_at"),
            end_us=EpochMicros("ended_at"),
            target_us=EpochMicros("session__target_end_at"),
        )
        .values_list(
            "user_id",
            "start_us",
            "end_us",
            "target_us",
            "session__kind",
            "session__task_id",
            *extra,
        )
    )
    start_us, end_us, now_us = micros(start), micros(end), micros(now)
    for user_id, started, ended, target, kind, task_id, *more in rows:
        if ended is None:
            ended = min(now_us, target) if target is not None else now_us
        piece_start, piece_end = max(started, start_us), min(ended, end_us)
        if piece_end > piece_start:
            yield Span(user_id, piece_start, piece_end, kind, task_id), tuple(more)


def split_at(start, end, bounds: list) -> Iterator[tuple[int, Any]]:
    """(i, time) for each part of [start, end) in [bounds[i], bounds[i + 1]); the stretch
    must lie within [bounds[0], bounds[-1]). Datetimes or microseconds alike."""
    i = bisect.bisect_right(bounds, start) - 1
    while start < end:
        part_end = min(end, bounds[i + 1])
        yield i, part_end - start
        start, i = part_end, i + 1


def day_bounds(user: User, first: datetime.date, after: datetime.date) -> list[datetime.datetime]:
    """The instants at which each of the user's days from `first` to `after` begins."""
    days = (after - first).days
    return [timeframes.day_start(user, first + datetime.timedelta(days=n)) for n in range(days + 1)]


# --- Summary -----------------------------------------------------------------------


@dataclass
class TaskFocus:
    task: int | None
    title: str | None
    focus_seconds: int
    goal_seconds: int | None


@dataclass
class DayFocus:
    date: datetime.date
    focus_seconds: int


@dataclass
class Summary:
    period: str
    start: datetime.datetime
    end: datetime.datetime
    focus_seconds: int
    break_seconds: int
    completed_focus_count: int
    interrupted_count: int
    by_task: list[TaskFocus] = field(default_factory=list)
    by_day: list[DayFocus] = field(default_factory=list)
    previous_focus_seconds: int = 0


def focus_summary(
    *,
    user: User,
    period: timeframes.Period,
    day: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> Summary:
    """The user's focus and break time in the period containing `day` (default today),
    split at the user's day boundaries, with the previous period's focus. Three queries,
    whatever the history: segments, session counts, task titles."""
    now = now or timezone.now()
    day = day or timeframes.today(user, now)
    first, after = timeframes.period_days(user, period, day)
    previous_first = timeframes.period_before(period, first)
    bounds = day_bounds(user, first, after)
    start, end = bounds[0], bounds[-1]
    previous_start = timeframes.day_start(user, previous_first)

    # In whole microseconds since the epoch: integers are cheap to load and to add.
    day_bounds_us = [micros(bound) for bound in bounds]
    start_us = day_bounds_us[0]
    day_focus = [0] * (len(bounds) - 1)
    task_focus: dict[int | None, int] = defaultdict(int)
    focus = breaks = previous = 0
    spans = running_spans(
        user_segments(user),
        start=previous_start,
        end=end,
        now=now,
        kinds=(*Session.FOCUS_KINDS, *Session.BREAK_KINDS),
    )
    for span, _ in spans:
        is_focus = span.kind in Session.FOCUS_KINDS
        if span.start < start_us:
            if is_focus:
                previous += min(span.end, start_us) - span.start
            if span.end <= start_us:
                continue
        span_start = max(span.start, start_us)
        if not is_focus:
            breaks += span.end - span_start
            continue
        focus += span.end - span_start
        task_focus[span.task_id] += span.end - span_start
        for i, time in split_at(span_start, span.end, day_bounds_us):
            day_focus[i] += time

    # A running session past its target completed there, whether or not it was settled.
    ended_in_period = Q(ended_at__gte=start, ended_at__lt=end)
    due_in_period = Q(
        state=Session.State.RUNNING,
        target_end_at__gte=start,
        target_end_at__lt=end,
        target_end_at__lte=now,
    )
    # The WHERE repeats the two filters so that the index (user, ended_at) and the
    # partial index of running sessions bound the scan to the period.
    counts = Session.objects.filter(
        ended_in_period | due_in_period,
        user=user,
        kind=Session.Kind.FOCUS,
        deleted_at__isnull=True,
    ).aggregate(
        completed=Count(
            "pk", filter=(Q(state=Session.State.COMPLETED) & ended_in_period) | due_in_period
        ),
        interrupted=Count("pk", filter=Q(state=Session.State.INTERRUPTED) & ended_in_period),
    )

    # Deleted tasks too: their sessions were not deleted, so their time still counts.
    tasks = Task.objects.filter(user=user, pk__in=[pk for pk in task_focus if pk is not None])
    titles = {
        pk: (title, goal)
        for pk, title, goal in tasks.values_list("pk", "title", "daily_goal_minutes")
    }
    days = len(bounds) - 1
    by_task = []
    for task_id, time in task_focus.items():
        title, goal = titles.get(task_id, (None, None))
        by_task.append(
            TaskFocus(
                task=task_id,
                title=title,
                focus_seconds=time // MICROSECONDS_PER_SECOND,
                goal_seconds=None if goal is None else goal * 60 * days,
            )
        )
    by_task.sort(key=lambda row: (-row.focus_seconds, row.task is None, row.task or 0))

    return Summary(
        period=period,
        start=start,
        end=end,
        focus_seconds=focus // MICROSECONDS_PER_SECOND,
        break_seconds=breaks // MICROSECONDS_PER_SECOND,
        completed_focus_count=counts["completed"],
        interrupted_count=counts["interrupted"],
        by_task=by_task,
        by_day=[
            DayFocus(
                date=first + datetime.timedelta(days=i),
                focus_seconds=time // MICROSECONDS_PER_SECOND,
            )
            for i, time in enumerate(day_focus)
        ],
        previous_focus_seconds=previous // MICROSECONDS_PER_SECOND,
    )


# --- Heatmap -----------------------------------------------------------------------


def focus_heatmap(
    *,
    user: User,
    first: datetime.date,
    last: datetime.date,
    now: datetime.datetime | None = None,
) -> list[list[int]]:
    """Focus seconds of the user's days `first` to `last` (inclusive) by local weekday
    (Monday first) and local wall-clock hour, split exactly at local hour boundaries.

    Every time zone in use has offsets, and changes them, at whole quarter hours of UTC,
    so each UTC quarter hour lies in one local wall hour: a stretch is cut on the UTC
    quarter-hour grid and each part goes to the wall hour of its start. An hour that
    repeats when clocks go back gets the time of both passes; one that is skipped gets
    none."""
    now = now or timezone.now()
    start = timeframes.day_start(user, first)
    end = timeframes.day_start(user, last + datetime.timedelta(days=1))
    zone = user.zone
    cells = [0] * (7 * 24)
    # The cell of each UTC quarter hour met, computed once.
    cell_of: dict[int, int] = {}
    spans = running_spans(user_segments(user), start=start, end=end, now=now)
    for span, _ in spans:
        at = span.start
        while at < span.end:
            quarter = at // QUARTER_HOUR_MICROSECONDS
            part_end = min(span.end, (quarter + 1) * QUARTER_HOUR_MICROSECONDS)
            cell = cell_of.get(quarter)
            if cell is None:
                local = datetime.datetime.fromtimestamp(quarter * 900, zone)
                cell = cell_of[quarter] = local.weekday() * 24 + local.hour
            cells[cell] += part_end - at
            at = part_end
    return [
        [time // MICROSECONDS_PER_SECOND for time in cells[weekday * 24 : weekday * 24 + 24]]
        for weekday in range(7)
    ]


# --- Streaks -----------------------------------------------------------------------


@dataclass(frozen=True)
class FocusRecord:
    """What the streak and the badges are computed from: every ended focus session."""

    ended_at: datetime.datetime
    completed: bool
    day: datetime.date


def focus_records(*, user: User, now: datetime.datetime | None = None) -> list[FocusRecord]:
    """The user's ended focus sessions (kind focus, not deleted), oldest end first, each
    with the user's day of its end. A running session past its target counts as
    completed at the target. One query."""
    now = now or timezone.now()
    rows = (
        Session.objects.filter(user=user, kind=Session.Kind.FOCUS, deleted_at__isnull=True)
        .filter(
            Q(state__in=Session.ENDED_STATES)
            | Q(state=Session.State.RUNNING, target_end_at__lte=now)
        )
        .values_list("state", "ended_at", "target_end_at")
    )
    records = []
    for state, ended_at, target_end_at in rows:
        at = ended_at or target_end_at
        records.append(
            FocusRecord(
                ended_at=at,
                completed=state != Session.State.INTERRUPTED,
                day=timeframes.local_date(user, at),
            )
        )
    records.sort(key=lambda record: record.ended_at)
    return records


@dataclass(frozen=True)
class Streak:
    current_days: int
    longest_days: int


def streak_from(days: set[datetime.date], today: datetime.date) -> Streak:
    """The run of days ending today (or yesterday, while today has none yet) and the
    longest run ever."""
    longest = run = 0
    previous = None
    for day in sorted(days):
        run = run + 1 if previous is not None and day - previous == datetime.timedelta(1) else 1
        longest = max(longest, run)
        previous = day
    current = 0
    day = today if today in days else today - datetime.timedelta(days=1)
    while day in days:
        current += 1
        day -= datetime.timedelta(days=1)
    return Streak(current_days=current, longest_days=longest)


def focus_streak(
    *, user: User, records: list[FocusRecord] | None = None, now: datetime.datetime | None = None
) -> Streak:
    now = now or timezone.now()
    if records is None:
        records = focus_records(user=user, now=now)
    days = {record.day for record in records if record.completed}
    return streak_from(days, timeframes.today(user, now))


def badge_list(*, user: User) -> QuerySet[Badge]:
    return Badge.objects.filter(user=user).order_by("earned_at", "pk")


# --- Leaderboard -------------------------------------------------------------------

LEADERBOARD_PERIODS = ("today", "week", "all")
LEADERBOARD_SIZE = 100


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    user_id: int
    display_name: str
    focus_seconds: int


def leaderboard(
    *,
    period: str,
    user_ids: Iterable[int] | None = None,
    now: datetime.datetime | None = None,
    size: int = LEADERBOARD_SIZE,
) -> list[LeaderboardRow]:
    """The top `size` users who did not opt out (and are active), by focus time in the
    period, with dense ranks: equal whole seconds share a rank, ordered within it by user
    id. Users with no focus time are left out. `today` and `week` are each user's own
    current day and week, in their own time zone and settings. Three queries at most."""
    now = now or timezone.now()
    eligible = Q(user__is_active=True, user__leaderboard_opt_out=False)
    if user_ids is not None:
        eligible &= Q(user_id__in=list(user_ids))
    if period == "all":
        totals = _all_time_focus(eligible, now)
    else:
        totals = _current_period_focus(eligible, period, now)
    ranked = sorted(
        ((seconds(time), user_id) for user_id, time in totals.items() if seconds(time) > 0),
        key=lambda row: (-row[0], row[1]),
    )[:size]
    names = dict(
        User.objects.filter(pk__in=[user_id for _, user_id in ranked]).values_list(
            "pk", "display_name"
        )
    )
    rows = []
    rank = 0
    previous = None
    for focus_seconds, user_id in ranked:
        if focus_seconds != previous:
            rank += 1
            previous = focus_seconds
        rows.append(LeaderboardRow(rank, user_id, names.get(user_id, ""), focus_seconds))
    return rows


def _all_time_focus(eligible: Q, now: datetime.datetime) -> dict[int, datetime.timedelta]:
    """Every eligible user's focus time ever, summed in the database."""
    end = Coalesce(
        F("ended_at"),
        Least(Value(now), Coalesce(F("session__target_end_at"), Value(now))),
    )
    running_time = ExpressionWrapper(end - F("started_at"), output_field=DurationField())
    rows = (
        SessionSegment.objects.filter(
            eligible,
            session__deleted_at__isnull=True,
            session__kind__in=Session.FOCUS_KINDS,
            started_at__lt=now,
        )
        .values("user_id")
        .annotate(total=Sum(running_time))
        .values_list("user_id", "total")
    )
    return {user_id: max(total or ZERO, ZERO) for user_id, total in rows}


def _current_period_focus(
    eligible: Q, period: str, now: datetime.datetime
) -> dict[int, datetime.timedelta]:
    """Every eligible user's focus time in their own current day or week. Any user's
    current day began at most 25 hours ago (the longest day), their week at most seven
    days and an hour ago; the time fetched from that window is then clipped to each
    user's own period."""
    reach = (
        datetime.timedelta(hours=25) if period == "today" else datetime.timedelta(days=7, hours=1)
    )
    timeframe = "day" if period == "today" else "week"
    # Users share a handful of calendars: each one's current period is computed once.
    bounds_of: dict[tuple, tuple[int, int]] = {}
    totals: dict[int, int] = defaultdict(int)
    spans = running_spans(
        SessionSegment.objects.filter(eligible),
        start=now - reach,
        end=now,
        now=now,
        extra=("user__timezone", "user__day_starts_at", "user__week_starts_on"),
    )
    for span, calendar in spans:
        bounds = bounds_of.get(calendar)
        if bounds is None:
            zone_name, day_starts_at, week_starts_on = calendar
            owner = User(
                timezone=zone_name, day_starts_at=day_starts_at, week_starts_on=week_starts_on
            )
            period_start, period_end = timeframes.period_bounds(
                owner, timeframe, timeframes.today(owner, now)
            )
            bounds = bounds_of[calendar] = (micros(period_start), micros(period_end))
        totals[span.user_id] += max(min(span.end, bounds[1]) - max(span.start, bounds[0]), 0)
    return {user_id: time * MICROSECOND for user_id, time in totals.items()}


def leaderboard_cached(*, period: str) -> list[dict]:
    """The global board as the API answers it, kept in the cache (Redis in production)
    for LEADERBOARD_CACHE_SECONDS: every reader within that time gets the same board."""
    key = f"analytics:leaderboard:{period}"
    ttl = settings.LEADERBOARD_CACHE_SECONDS
    if ttl > 0:
        results = cache.get(key)
        if results is not None:
            return results
    results = [
        {
            "rank": row.rank,
            "user": {"id": row.user_id, "display_name": row.display_name},
            "focus_seconds": row.focus_seconds,
        }
        for row in leaderboard(period=period)
    ]
    if ttl > 0:
        cache.set(key, results, timeout=ttl)
    return results


@dataclass(frozen=True)
class StreakSummary:
    current_days: int
    longest_days: int
    badges: list


def streak_summary(*, user: User, now: datetime.datetime | None = None) -> StreakSummary:
    streak = focus_streak(user=user, now=now)
    return StreakSummary(streak.current_days, streak.longest_days, list(badge_list(user=user)))
