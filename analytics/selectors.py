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
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BigIntegerField,
    ExpressionWrapper,
    Func,
    Q,
    QuerySet,
)
from django.utils import timezone
from redis.exceptions import RedisError

from accounts import timeframes
from accounts.models import User
from analytics.models import Badge
from sessions_app.models import (
    Session,
    SessionSegment,
    Task,
    due_sql,
    segment_end,
    session_end,
)

logger = logging.getLogger("pomodoro.analytics")

UTC = datetime.UTC
# The heatmap's longest range: a leap year and one day, so any "last 12 months" fits.
HEATMAP_MAX_DAYS = 367
UNIX_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = datetime.timedelta(microseconds=1)
MICROSECONDS_PER_SECOND = 1_000_000
QUARTER_HOUR_MICROSECONDS = 900 * MICROSECONDS_PER_SECOND


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
    """A stretch of running time of one session, clipped to `now` (and to the target),
    in whole microseconds since the Unix epoch."""

    user_id: int
    start: int
    end: int
    kind: str
    task_id: int | None


# `overlapping` for one user, written out (Django compiled these queries in more time
# than they take to run) in the form that keeps PostgreSQL on its indexes:
# - the short segments and the long or open ones as the two disjoint parts of a UNION
#   ALL, each bounded by its own index (in one OR, PostgreSQL cannot estimate
#   `ended_at - started_at > 1 day`; it guesses a third of all rows);
# - the user's range as row comparisons, `(user_id, started_at) >= (user, from) AND
#   (user_id, started_at) < (user, end)`: the same rows (NULLs match neither), but only
#   an index on (user_id, started_at) can serve them. With `user_id = ... AND started_at
#   >= ...`, PostgreSQL misjudges how many of a heavy user's rows a recent range holds
#   (most rows of the table are recent, most of that user's are old) and reads the
#   user's whole history through the index on user_id alone;
# - the long or open ones with segment_long_or_open's predicate repeated verbatim;
# - then each segment's session by its primary key, in a LATERAL subquery that
#   PostgreSQL cannot flatten (OFFSET 0): with a join, expecting thousands of segments
#   where there are hundreds, it reads all of the user's sessions into a hash join.
# The segments of %(user)s that overlap [%(start)s, %(end)s), as (session_id, user_id,
# started_at, ended_at); %(reach_from)s is %(start)s - SHORT_SEGMENT, %(short)s SHORT_SEGMENT.
OVERLAPPING_SEGMENTS_SQL = """
    SELECT session_id, user_id, started_at, ended_at
    FROM sessions_app_sessionsegment
    WHERE (user_id, started_at) >= (%(user)s, %(reach_from)s)
      AND (user_id, started_at) < (%(user)s, %(end)s)
      AND (ended_at IS NULL OR ended_at > %(start)s)
    UNION ALL
    SELECT session_id, user_id, started_at, ended_at
    FROM sessions_app_sessionsegment
    WHERE user_id = %(user)s
      AND started_at < %(reach_from)s
      AND (ended_at IS NULL OR (ended_at - started_at) > %(short)s)
      AND (ended_at IS NULL OR ended_at > %(start)s)
"""

_SPANS_SQL = f"""
SELECT segment.user_id,
       (EXTRACT(EPOCH FROM segment.started_at) * 1000000)::bigint,
       (EXTRACT(EPOCH FROM segment.ended_at) * 1000000)::bigint,
       session.target_us, session.kind, session.task_id
FROM ({OVERLAPPING_SEGMENTS_SQL}) AS segment
CROSS JOIN LATERAL (
    SELECT kind, task_id, (EXTRACT(EPOCH FROM target_end_at) * 1000000)::bigint AS target_us
    FROM sessions_app_session
    WHERE id = segment.session_id AND deleted_at IS NULL AND kind = ANY(%(kinds)s)
    OFFSET 0
) AS session
"""


def overlapping_segment_params(
    user: User, start: datetime.datetime, end: datetime.datetime
) -> dict:
    """The parameters of OVERLAPPING_SEGMENTS_SQL."""
    return {
        "user": user.pk,
        "start": start,
        "end": end,
        "reach_from": start - SessionSegment.SHORT_SEGMENT,
        "short": SessionSegment.SHORT_SEGMENT,
    }


def running_spans(
    user: User,
    *,
    start: datetime.datetime,
    end: datetime.datetime,
    now: datetime.datetime,
    kinds: Iterable[str] = Session.FOCUS_KINDS,
) -> Iterator[Span]:
    """A span for every segment of the user's live sessions of `kinds` that overlaps
    [start, end) (see `overlapping`), clipped to that range. One query, `_SPANS_SQL`."""
    with connection.cursor() as cursor:
        cursor.execute(
            _SPANS_SQL, {**overlapping_segment_params(user, start, end), "kinds": list(kinds)}
        )
        rows = cursor.fetchall()
    start_us, end_us, now_us = micros(start), micros(end), micros(now)
    for user_id, started, ended, target, kind, task_id in rows:
        if ended is None:
            ended = min(now_us, target) if target is not None else now_us
        piece_start, piece_end = max(started, start_us), min(ended, end_us)
        if piece_end > piece_start:
            yield Span(user_id, piece_start, piece_end, kind, task_id)


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


# The summary's session counts: focus sessions that ended in the period (through the
# index (user, ended_at), by row comparison, see `_SPANS_SQL`) and running ones
# whose target fell in it (through the partial index of running sessions).
_COUNTS_SQL = f"""
SELECT COUNT(*) FILTER (WHERE state = %(completed)s),
       COUNT(*) FILTER (WHERE state = %(interrupted)s),
       (SELECT COUNT(*) FROM sessions_app_session due
        WHERE user_id = %(user)s AND kind = %(focus)s AND deleted_at IS NULL
          AND {due_sql("due")} AND target_end_at >= %(start)s AND target_end_at < %(end)s)
FROM sessions_app_session
WHERE (user_id, ended_at) >= (%(user)s, %(start)s) AND (user_id, ended_at) < (%(user)s, %(end)s)
  AND kind = %(focus)s AND deleted_at IS NULL
"""


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
        user,
        start=previous_start,
        end=end,
        now=now,
        kinds=(*Session.FOCUS_KINDS, *Session.BREAK_KINDS),
    )
    for span in spans:
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
    # A running session has no ended_at (a check constraint), so the ended and the due
    # sets are disjoint: each is counted apart, in one statement (`_COUNTS_SQL`).
    with connection.cursor() as cursor:
        cursor.execute(
            _COUNTS_SQL,
            {
                "user": user.pk,
                "start": start,
                "end": end,
                "now": now,
                "focus": Session.Kind.FOCUS,
                "completed": Session.State.COMPLETED,
                "interrupted": Session.State.INTERRUPTED,
            },
        )
        completed, interrupted, due = cursor.fetchone()
    counts = {"completed": completed + due, "interrupted": interrupted}

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
    spans = running_spans(user, start=start, end=end, now=now)
    for span in spans:
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
        .ended_or_due(now)
        .values_list("state", session_end(now))
    )
    records = []
    for state, at in rows:
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
    current day and week, in their own time zone and settings. Two queries at most: the
    totals are summed, ranked and cut to `size` in PostgreSQL, so only the board's rows
    (with the names) come back."""
    now = now or timezone.now()
    eligible = Q(user__is_active=True, user__leaderboard_opt_out=False)
    if user_ids is not None:
        user_ids = list(user_ids)
        eligible &= Q(user_id__in=user_ids)
    if period == "all":
        top = _all_time_top(eligible, now, size)
    else:
        top = _current_period_top(eligible, user_ids, period, now, size)
    rows = []
    rank = 0
    previous = None
    for user_id, display_name, focus_seconds in top:
        if focus_seconds != previous:
            rank += 1
            previous = focus_seconds
        rows.append(LeaderboardRow(rank, user_id, display_name, focus_seconds))
    return rows


# The top of a board from a query whose rows are (user_id, microseconds): each user's
# whole seconds (rounded down), users with none left out, best first, ties by user id,
# with the user's display name. The running time is summed as integers (microseconds
# since the epoch), so the totals are exact.
_TOP_SQL = """
SELECT totals.user_id, users.display_name, totals.focus_seconds
FROM (
    SELECT pieces.user_id, div(SUM(pieces.time), 1000000)::bigint AS focus_seconds
    FROM ({pieces}) AS pieces
    GROUP BY pieces.user_id
    HAVING SUM(pieces.time) >= 1000000
) AS totals
JOIN {users} AS users ON users.id = totals.user_id
ORDER BY totals.focus_seconds DESC, totals.user_id
LIMIT %s
"""


def _top(pieces: str, params: Iterable, size: int) -> list[tuple[int, str, int]]:
    sql = _TOP_SQL.format(pieces=pieces, users=connection.ops.quote_name(User._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, size])
        return cursor.fetchall()


def _segment_end_us(now: datetime.datetime) -> EpochMicros:
    """A segment's end in microseconds, as a read at `now` sees it (segment_end)."""
    return EpochMicros(segment_end(now))


def _all_time_top(eligible: Q, now: datetime.datetime, size: int) -> list[tuple[int, str, int]]:
    """The board of every eligible user's focus time ever, summed in the database."""
    segments = SessionSegment.objects.filter(
        eligible,
        session__deleted_at__isnull=True,
        session__kind__in=Session.FOCUS_KINDS,
        started_at__lt=now,
    )
    pieces = segments.annotate(
        time=ExpressionWrapper(
            _segment_end_us(now) - EpochMicros("started_at"), output_field=BigIntegerField()
        )
    ).values_list("user_id", "time")
    sql, params = pieces.query.sql_with_params()
    return _top(sql, params, size)


def _current_period_top(
    eligible: Q, user_ids: list[int] | None, period: str, now: datetime.datetime, size: int
) -> list[tuple[int, str, int]]:
    """The board of every eligible user's focus time in their own current day or week."""
    calendar_users = User.objects.filter(is_active=True, leaderboard_opt_out=False)
    if user_ids is not None:
        calendar_users = calendar_users.filter(pk__in=user_ids)
    pieces = _current_period_pieces(eligible, calendar_users, period, now)
    if pieces is None:
        return []
    return _top(*pieces, size)


def current_period_focus(
    *, user_ids: list[int], period: str, now: datetime.datetime | None = None
) -> dict[int, int]:
    """Each user's whole seconds of focus in their own current day (`today`) or week,
    summed in the database as the leaderboards are; users with none are left out."""
    now = now or timezone.now()
    segment_filter, calendar_users = Q(user_id__in=user_ids), User.objects.filter(pk__in=user_ids)
    pieces = _current_period_pieces(segment_filter, calendar_users, period, now)
    if pieces is None:
        return {}
    sql, params = pieces
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT pieces.user_id, div(SUM(pieces.time), 1000000)::bigint
                FROM ({sql}) AS pieces GROUP BY pieces.user_id""",
            params,
        )
        return dict(cursor.fetchall())


def _current_period_pieces(
    segment_filter: Q, calendar_users: QuerySet[User], period: str, now: datetime.datetime
) -> tuple[str, list] | None:
    """SQL and parameters of (user_id, microseconds): each focus segment of the users
    that `segment_filter` selects, clipped in PostgreSQL to its owner's own current day
    (`today`) or week; None when `calendar_users` is empty.

    Any user's current day began at most 25 hours ago (the longest day), their week at
    most seven days and an hour ago: the segments of that window are fetched through the
    indexes (see `overlapping`). Users share a handful of calendars (time zone, day
    start, week start) among `calendar_users`: each one's current period is computed
    once (`_calendar_periods`) and joined as a VALUES list."""
    window_start, periods = _calendar_periods(calendar_users, period, now)
    values = []
    params: list = []
    for (zone_name, day_starts_at, week_starts_on), (start_us, end_us) in periods.items():
        values.append("(%s, %s::time, %s::integer, %s::bigint, %s::bigint)")
        params += [zone_name, day_starts_at, week_starts_on, start_us, end_us]
    if not values:
        return None
    segments = (
        SessionSegment.objects.filter(
            segment_filter,
            overlapping(window_start, now),
            session__deleted_at__isnull=True,
            session__kind__in=Session.FOCUS_KINDS,
        )
        .annotate(start_us=EpochMicros("started_at"), end_us=_segment_end_us(now))
        .values_list(
            "user_id",
            "start_us",
            "end_us",
            "user__timezone",
            "user__day_starts_at",
            "user__week_starts_on",
        )
    )
    segments_sql, segments_params = segments.query.sql_with_params()
    # MATERIALIZED: joined with the calendars inside one query, PostgreSQL misjudges the
    # rows (9 for 9,500) and walks the segments user by user; fetched on their own they
    # come through the time indexes first.
    pieces = f"""
        WITH segment (user_id, start_us, end_us, zone, day_start, week_start)
          AS MATERIALIZED ({segments_sql})
        SELECT segment.user_id,
               GREATEST(LEAST(segment.end_us, calendar.period_end)
                        - GREATEST(segment.start_us, calendar.period_start), 0) AS time
        FROM segment
        JOIN (VALUES {", ".join(values)})
             AS calendar (zone, day_start, week_start, period_start, period_end)
          ON calendar.zone = segment.zone
         AND calendar.day_start = segment.day_start
         AND calendar.week_start = segment.week_start
    """
    return pieces, [*segments_params, *params]


def _calendar_periods(
    calendar_users: QuerySet[User], period: str, now: datetime.datetime
) -> tuple[datetime.datetime, dict[tuple, tuple[int, int]]]:
    """The window in which any user's current day (`today`) or week began (the longest
    day is 25 hours), and for each calendar (time zone, day start, week start) among
    `calendar_users` its current period within that window, in microseconds."""
    reach = (
        datetime.timedelta(hours=25) if period == "today" else datetime.timedelta(days=7, hours=1)
    )
    timeframe = "day" if period == "today" else "week"
    window_start = now - reach
    periods = {}
    calendars = calendar_users.values_list("timezone", "day_starts_at", "week_starts_on").distinct()
    for zone_name, day_starts_at, week_starts_on in calendars:
        owner = User(timezone=zone_name, day_starts_at=day_starts_at, week_starts_on=week_starts_on)
        period_start, period_end = timeframes.period_bounds(
            owner, timeframe, timeframes.today(owner, now)
        )
        periods[zone_name, day_starts_at, week_starts_on] = (
            micros(max(period_start, window_start)),
            micros(min(period_end, now)),
        )
    return window_start, periods


def leaderboard_cached(*, period: str) -> list[dict]:
    """The global board as the API answers it, kept in the cache (Redis in production)
    for LEADERBOARD_CACHE_SECONDS: every reader within that time gets the same board."""
    key = f"analytics:leaderboard:{period}"
    ttl = settings.LEADERBOARD_CACHE_SECONDS
    if ttl > 0:
        results = _cache_get_or_none(key)
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
        _cache_set_if_up(key, results, timeout=ttl)
    return results


# The leaderboard cache only saves work: with Redis down the board is computed for every
# reader instead of failing the request (docs/drills.md, Redis down).
def _cache_get_or_none(key: str):
    try:
        return cache.get(key)
    except RedisError:
        logger.warning("leaderboard cache unavailable", exc_info=True)
        return None


def _cache_set_if_up(key: str, value, *, timeout: int) -> None:
    try:
        cache.set(key, value, timeout=timeout)
    except RedisError:
        logger.warning("leaderboard cache unavailable", exc_info=True)


@dataclass(frozen=True)
class StreakSummary:
    current_days: int
    longest_days: int
    badges: list


def streak_summary(
    *, user: User, records: list[FocusRecord] | None = None, now: datetime.datetime | None = None
) -> StreakSummary:
    streak = focus_streak(user=user, records=records, now=now)
    return StreakSummary(streak.current_days, streak.longest_days, list(badge_list(user=user)))
