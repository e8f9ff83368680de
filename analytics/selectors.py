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

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from accounts import timeframes
from accounts.models import User
from analytics.models import Badge
from sessions_app.models import Session, SessionSegment, Task

UTC = datetime.UTC
ZERO = datetime.timedelta(0)
QUARTER_HOUR = datetime.timedelta(minutes=15)
EPOCH = datetime.datetime(2000, 1, 1, tzinfo=UTC)
# The heatmap's longest range: a leap year and one day, so any "last 12 months" fits.
HEATMAP_MAX_DAYS = 367


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

    The filter `started_at < end AND (ended_at IS NULL OR ended_at > start)` is exact
    for segments of any length (a stopwatch can run for days), and walks the index
    (user, started_at) up to `end`."""
    segments = SessionSegment.objects.filter(
        session__deleted_at__isnull=True, session__kind__in=list(kinds), started_at__lt=end
    ).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
    if user is not None:
        segments = segments.filter(user=user)
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


def split_at(
    start: datetime.datetime, end: datetime.datetime, bounds: list[datetime.datetime]
) -> Iterator[tuple[int, datetime.timedelta]]:
    """(i, time) for each part of [start, end) in [bounds[i], bounds[i + 1]); the stretch
    must lie within [bounds[0], bounds[-1])."""
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

    day_focus = [ZERO] * (len(bounds) - 1)
    task_focus: dict[int | None, datetime.timedelta] = defaultdict(lambda: ZERO)
    focus = breaks = previous = ZERO
    pieces = running_pieces(
        user=user,
        start=previous_start,
        end=end,
        now=now,
        kinds=(*Session.FOCUS_KINDS, *Session.BREAK_KINDS),
    )
    for _user_id, piece in pieces:
        is_focus = piece.kind in Session.FOCUS_KINDS
        if piece.start < start:
            if is_focus:
                previous += min(piece.end, start) - piece.start
            if piece.end <= start:
                continue
        piece_start = max(piece.start, start)
        if not is_focus:
            breaks += piece.end - piece_start
            continue
        focus += piece.end - piece_start
        task_focus[piece.task_id] += piece.end - piece_start
        for i, time in split_at(piece_start, piece.end, bounds):
            day_focus[i] += time

    # A running session past its target completed there, whether or not it was settled.
    ended_in_period = Q(ended_at__gte=start, ended_at__lt=end)
    due_in_period = Q(
        state=Session.State.RUNNING,
        target_end_at__gte=start,
        target_end_at__lt=end,
        target_end_at__lte=now,
    )
    counts = Session.objects.filter(
        user=user, kind=Session.Kind.FOCUS, deleted_at__isnull=True
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
                focus_seconds=seconds(time),
                goal_seconds=None if goal is None else goal * 60 * days,
            )
        )
    by_task.sort(key=lambda row: (-row.focus_seconds, row.task is None, row.task or 0))

    return Summary(
        period=period,
        start=start,
        end=end,
        focus_seconds=seconds(focus),
        break_seconds=seconds(breaks),
        completed_focus_count=counts["completed"],
        interrupted_count=counts["interrupted"],
        by_task=by_task,
        by_day=[
            DayFocus(date=first + datetime.timedelta(days=i), focus_seconds=seconds(time))
            for i, time in enumerate(day_focus)
        ],
        previous_focus_seconds=seconds(previous),
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
    cells = [[ZERO] * 24 for _ in range(7)]
    for _user_id, piece in running_pieces(user=user, start=start, end=end, now=now):
        at = piece.start
        while at < piece.end:
            quarters = (at - EPOCH) // QUARTER_HOUR
            part_end = min(piece.end, EPOCH + (quarters + 1) * QUARTER_HOUR)
            local = at.astimezone(zone)
            cells[local.weekday()][local.hour] += part_end - at
            at = part_end
    return [[seconds(time) for time in row] for row in cells]


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
    by_user: dict[int, list[Piece]] = defaultdict(list)
    for user_id, piece in running_pieces(where=eligible, start=now - reach, end=now, now=now):
        by_user[user_id].append(piece)
    users = User.objects.filter(pk__in=list(by_user)).only(
        "pk", "timezone", "day_starts_at", "week_starts_on"
    )
    timeframe = "day" if period == "today" else "week"
    totals = {}
    for user in users:
        start, end = timeframes.period_bounds(user, timeframe, timeframes.today(user, now))
        totals[user.pk] = sum(
            (
                max(min(piece.end, end) - max(piece.start, start), ZERO)
                for piece in by_user[user.pk]
            ),
            ZERO,
        )
    return totals


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
