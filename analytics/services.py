"""Analytics writes: awarding badges. Each badge is earned once, with one `badge.earned`
event in the same transaction.

Badges are awarded when earned, in the transaction of the change that earned them, by
`badges_on_event`, a reaction to the session and settings events (events.registry):
`badges_award_after_focus` when focus time ends (a completion, a stop, a manual entry),
which looks only at what that can have changed, in a fixed number of queries; and
`badges_award`, which evaluates all history, when the timer settings change (a daily
goal or a cycle length can make a past week or day earn a badge). Reading the streak
awards nothing. Both award a badge at most once (the unique constraint, in a
savepoint), and a badge is never taken back."""

import bisect
import datetime
import functools

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from accounts import timeframes
from accounts.models import TimerSettings, User
from analytics.models import Badge
from analytics.selectors import (
    MICROSECOND,
    UNIX_EPOCH,
    FocusRecord,
    day_bounds,
    focus_records,
    micros,
    running_spans,
)
from events.log import event_record
from events.registry import Recorded
from pomodoro.timefmt import isoformat_utc
from sessions_app.models import Session, session_end

Code = Badge.Code
POMODORO_BADGES = (
    (1, Code.FIRST_POMODORO),
    (10, Code.POMODOROS_10),
    (100, Code.POMODOROS_100),
    (1000, Code.POMODOROS_1000),
)
STREAK_BADGES = ((7, Code.STREAK_7), (30, Code.STREAK_30), (100, Code.STREAK_100))
GOAL_WEEK_DAYS = 5


def _pomodoro_badges(completed: list[FocusRecord]) -> dict[str, datetime.datetime]:
    """The Nth completed focus session earns the badge for N, when it ended."""
    return {code: completed[n - 1].ended_at for n, code in POMODORO_BADGES if len(completed) >= n}


def _streak_badges(completed: list[FocusRecord]) -> dict[str, datetime.datetime]:
    """A run of N days earns its badge at the first completion of its Nth day."""
    earned: dict[str, datetime.datetime] = {}
    run = 0
    last_day = None
    for record in completed:
        if record.day == last_day:
            continue
        one_day = datetime.timedelta(days=1)
        run = run + 1 if last_day is not None and record.day - last_day == one_day else 1
        last_day = record.day
        for n, code in STREAK_BADGES:
            if run == n and code not in earned:
                earned[code] = record.ended_at
    return earned


def _perfect_cycle(records: list[FocusRecord], cycle: int) -> datetime.datetime | None:
    """When `cycle` focus sessions were first completed in a row within one day, with no
    interrupted focus session between them."""
    in_a_row = 0
    day = None
    for record in records:
        if record.day != day:
            day, in_a_row = record.day, 0
        in_a_row = in_a_row + 1 if record.completed else 0
        if in_a_row == cycle:
            return record.ended_at
    return None


def _goal_week(
    user: User, goal: datetime.timedelta, at: datetime.datetime, now: datetime.datetime
) -> datetime.datetime | None:
    """When the daily goal was reached on the fifth day of the user's week containing
    `at`, if it was reached on five of its days (focus and stopwatch time)."""
    first, after = timeframes.period_days(user, "week", timeframes.local_date(user, at))
    bounds = day_bounds(user, first, after)
    # In whole microseconds since the epoch, as `running_spans` yields them: exact, since
    # instants and the goal are whole microseconds.
    bounds_us = [micros(bound) for bound in bounds]
    goal_us = goal // MICROSECOND
    parts: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    for span in running_spans(user, start=bounds[0], end=bounds[-1], now=now):
        for i in range(7):
            start, end = max(span.start, bounds_us[i]), min(span.end, bounds_us[i + 1])
            if end > start:
                parts[i].append((start, end - start))
    reached = []
    for day_parts in parts:
        total = 0
        for start, length in sorted(day_parts):
            if total + length >= goal_us:
                reached.append(start + (goal_us - total))
                break
            total += length
    if len(reached) < GOAL_WEEK_DAYS:
        return None
    return UNIX_EPOCH + datetime.timedelta(microseconds=sorted(reached)[GOAL_WEEK_DAYS - 1])


@transaction.atomic
def badges_award(
    *,
    user: User,
    at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
    records: list[FocusRecord] | None = None,
) -> list[Badge]:
    """Awards every badge the user's history has earned and they do not hold yet, each
    with a `badge.earned` event. `goal_week` is looked for in the week containing `at`
    (default now). Run when the timer settings change, which can make past time earn a
    badge that no completion brought; also the way to award history recorded before
    badges were (`manage.py badges_award`). Reads all focus
    sessions of the user (one query, none if given as `records`, `focus_records` at
    `now`) unless every badge is held. Idempotent and safe to run concurrently (see
    `_award`). Badges are never taken back."""
    now = now or timezone.now()
    held = set(Badge.objects.filter(user=user).values_list("code", flat=True))
    if held >= set(Code.values):
        return []
    if records is None:
        records = focus_records(user=user, now=now)
    completed = [record for record in records if record.completed]
    candidates = {**_pomodoro_badges(completed), **_streak_badges(completed)}
    # With nothing completed there is no cycle to look for (nor settings to read for it).
    candidates.update(_settings_badges(user, held, records if completed else None, at or now, now))
    return _award(user, candidates, held)


# The events after which a badge may have been earned (a session.updated only when it
# corrected an ended session's times).
BADGE_EVENT_TYPES = frozenset(
    {
        "session.stopped",
        "session.completed",
        "session.logged",
        "session.updated",
        "settings.updated",
    }
)


def badges_on_event(recorded: Recorded) -> None:
    """Awards what the recorded change earned, in its transaction (events.registry)."""
    session, now = recorded.subject, recorded.event.at
    if recorded.event.type == "session.updated":
        # Corrected times move completions within the history, which the incremental
        # rules below assume settled: the full evaluation, in the week of the new end.
        # A badge that only time now removed earned stays (badges are never taken back).
        if recorded.event.data.get("times_corrected") and session.ended_at is not None:
            badges_award(user=recorded.user, at=session.ended_at, now=now)
        return
    if recorded.event.type == "settings.updated":
        badges_award(user=recorded.user, now=now)
        return
    if session.kind == Session.Kind.FOCUS and session.state == Session.State.COMPLETED:
        badges_award_after_focus(user=recorded.user, session=session, now=now)
    elif session.kind in Session.FOCUS_KINDS and session.state in Session.ENDED_STATES:
        # Focus time that is not a completed pomodoro (a stopwatch, an interrupted focus
        # session) can only bring the week's daily goals closer.
        goal_minutes, goal_week_held = _goal_week_state(recorded.user.pk)
        if goal_minutes and not goal_week_held:
            goal = datetime.timedelta(minutes=goal_minutes)
            goal_at = _goal_week(recorded.user, goal, session.ended_at, now)
            if goal_at is not None:
                _award(recorded.user, {Code.GOAL_WEEK: goal_at}, set())


@functools.cache
def _goal_week_state_statement() -> str:
    settings_table = TimerSettings._meta.db_table
    badges = Badge._meta.db_table
    return (
        f"SELECT (SELECT daily_goal_minutes FROM {settings_table} WHERE user_id = %(user_id)s), "
        f"EXISTS (SELECT 1 FROM {badges} WHERE user_id = %(user_id)s AND code = %(code)s)"
    )


def _goal_week_state(user_id: int) -> tuple[int | None, bool]:
    """The user's daily goal (None: none set) and whether `goal_week` is held, in one
    written-out statement: every stop of a stopwatch or an interrupted focus session
    reads them, and the two ORM queries it took cost a tenth of a stop's CPU
    (docs/benchmarks.md, "Issue 11: after")."""
    with connection.cursor() as cursor:
        cursor.execute(_goal_week_state_statement(), {"user_id": user_id, "code": Code.GOAL_WEEK})
        goal_minutes, held = cursor.fetchone()
    return goal_minutes, held


def badges_on_events(records: list[Recorded]) -> None:
    """Awards what many changes recorded together earned (events.log.events_record: an
    import): every badge the history now earns, looked for once. A session.updated counts
    only when it corrected times, as in badges_on_event (a bulk rename earns nothing)."""
    earning = [
        record
        for record in records
        if record.event.type != "session.updated" or record.event.data.get("times_corrected")
    ]
    if earning:
        badges_award(user=earning[0].user, now=earning[-1].event.at)


def badges_award_after_focus(
    *, user: User, session: Session, now: datetime.datetime | None = None
) -> list[Badge]:
    """Awards the badges that the completion of the focus session `session` earned, in
    the caller's transaction (the session transition's, which holds the session row and
    has recorded its event, so the user's event stream row too).

    Looks only where this completion can have changed anything, in at most five queries
    plus five per badge awarded (savepoint, `seq`, event, badge, release):
    the badges held; the ends of the 1st/10th/100th/1,000th completed focus sessions
    (one ranked query, only for count badges not held); the focus sessions that ended
    within the longest streak not held either side of the session's day, or on that day
    alone for `perfect_cycle` (one query); the timer settings; and the week's running
    time for `goal_week` (one query, the week of the session's end). Nothing is read
    once every badge is held. Exact as long as the history before this completion was
    evaluated, which every completion and every read of the streak does; whatever else
    (older history, a change of settings) is left to `badges_award`."""
    now = now or timezone.now()
    held = set(Badge.objects.filter(user=user).values_list("code", flat=True))
    if held >= set(Code.values):
        return []
    candidates = _nth_pomodoro_badges(user, held, now)
    day = timeframes.local_date(user, session.ended_at)
    streaks = [(n, code) for n, code in STREAK_BADGES if code not in held]
    if streaks or Code.PERFECT_CYCLE not in held:
        # One more day on the left: a run reaching the window's first day began earlier,
        # so its badges came before this day (and were awarded then).
        longest = max((n for n, _code in streaks), default=0)
        first = day - datetime.timedelta(days=longest)
        after = day + datetime.timedelta(days=max(longest, 1))
        records = _focus_records_between(user, first, after, now)
        candidates.update(_streak_badges_through(records, day, streaks))
    day_records = None
    if Code.PERFECT_CYCLE not in held:
        day_records = [record for record in records if record.day == day]
    candidates.update(_settings_badges(user, held, day_records, session.ended_at, now))
    return _award(user, candidates, held)


def _completed_focus(user: User, now: datetime.datetime):
    """The user's completed focus sessions, as `focus_records` counts them: a running one
    past its target completed there."""
    return Session.objects.filter(
        user=user, kind=Session.Kind.FOCUS, deleted_at__isnull=True
    ).completed_at(now)


def _nth_pomodoro_badges(
    user: User, held: set[str], now: datetime.datetime
) -> dict[str, datetime.datetime]:
    """The count badges not held that the user has reached, each at the end of its Nth
    completed focus session (oldest end first). One query, none when all are held."""
    wanted = {n: code for n, code in POMODORO_BADGES if code not in held}
    if not wanted:
        return {}
    ranked = (
        _completed_focus(user, now)
        .annotate(end=Coalesce("ended_at", "target_end_at"))
        .annotate(position=Window(RowNumber(), order_by=[F("end").asc(), F("pk").asc()]))
        .filter(position__in=list(wanted))
        .values_list("position", "end")
    )
    return {wanted[position]: end for position, end in ranked}


def _focus_records_between(
    user: User, first: datetime.date, after: datetime.date, now: datetime.datetime
) -> list[FocusRecord]:
    """`focus_records` of the sessions that ended in the user's days `first` up to (not
    including) `after`. One query."""
    bounds = day_bounds(user, first, after)
    start, end = bounds[0], bounds[-1]
    # The end's range is written on each column, so that both indexes serve it (ended_at,
    # and the partial index of running sessions by target_end_at).
    in_range = Q(ended_at__gte=start, ended_at__lt=end) | Q(
        ended_at__isnull=True, target_end_at__gte=start, target_end_at__lt=end
    )
    rows = (
        Session.objects.filter(user=user, kind=Session.Kind.FOCUS, deleted_at__isnull=True)
        .ended_or_due(now)
        .filter(in_range)
        .values_list("state", session_end(now))
    )
    records = []
    for state, at in rows:
        day = first + datetime.timedelta(days=bisect.bisect_right(bounds, at) - 1)
        records.append(FocusRecord(at, state != Session.State.INTERRUPTED, day))
    records.sort(key=lambda record: record.ended_at)
    return records


def _streak_badges_through(
    records: list[FocusRecord], day: datetime.date, wanted: list[tuple[int, str]]
) -> dict[str, datetime.datetime]:
    """The streak badges of `wanted` that the run of days through `day` reaches on `day`
    or later (earlier ones were reached without this day), each at the first completion
    of its Nth day. `records` must cover the longest N either side of `day`, and one day
    more on the left."""
    first_completion: dict[datetime.date, datetime.datetime] = {}
    for record in records:
        if record.completed:
            first_completion.setdefault(record.day, record.ended_at)
    if day not in first_completion:
        return {}
    one_day = datetime.timedelta(days=1)
    run_start = run_end = day
    while run_start - one_day in first_completion:
        run_start -= one_day
    while run_end + one_day in first_completion:
        run_end += one_day
    earned = {}
    for n, code in wanted:
        nth_day = run_start + (n - 1) * one_day
        if day <= nth_day <= run_end:
            earned[code] = first_completion[nth_day]
    return earned


def _settings_badges(
    user: User,
    held: set[str],
    cycle_records: list[FocusRecord] | None,
    at: datetime.datetime,
    now: datetime.datetime,
) -> dict[str, datetime.datetime]:
    """The badges that depend on the user's timer settings, each when earned, reading
    the settings once and only if one of them is looked for: `perfect_cycle` (not held)
    in `cycle_records` (None: not looked for) and `goal_week` (not held) in the week
    containing `at`."""
    look_for_cycle = Code.PERFECT_CYCLE not in held and cycle_records is not None
    look_for_goal_week = Code.GOAL_WEEK not in held
    if not look_for_cycle and not look_for_goal_week:
        return {}
    timer_settings = TimerSettings.objects.filter(user_id=user.pk).first()
    earned = {}
    if look_for_cycle:
        cycle = timer_settings.long_break_every if timer_settings else 4
        cycle_at = _perfect_cycle(cycle_records, cycle)
        if cycle_at is not None:
            earned[Code.PERFECT_CYCLE] = cycle_at
    if look_for_goal_week:
        goal_minutes = timer_settings.daily_goal_minutes if timer_settings else None
        if goal_minutes:
            goal_at = _goal_week(user, datetime.timedelta(minutes=goal_minutes), at, now)
            if goal_at is not None:
                earned[Code.GOAL_WEEK] = goal_at
    return earned


def _award(user: User, candidates: dict[str, datetime.datetime], held: set[str]) -> list[Badge]:
    """Records each candidate badge not held, oldest first, with its `badge.earned` event.

    The event is recorded first (taking the user's event stream row, in the order every
    transaction takes it), then the badge, in one savepoint: a badge a concurrent
    transaction awarded first breaks the unique constraint and rolls back both, so each
    badge has one event and `seq` keeps no gap."""
    awarded = []
    for code, earned_at in sorted(candidates.items(), key=lambda item: (item[1], item[0])):
        if code in held:
            continue
        badge = Badge(user=user, code=code, earned_at=earned_at)
        data = {"badge": {"code": code, "name": badge.name, "earned_at": isoformat_utc(earned_at)}}
        try:
            with transaction.atomic():
                event_record(user=user, type="badge.earned", data=data)
                badge.save()
        except IntegrityError:
            continue  # a concurrent transaction awarded it first
        awarded.append(badge)
    return awarded
