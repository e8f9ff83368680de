"""Analytics writes: awarding badges. Each badge is earned once, with one `badge.earned`
event in the same transaction."""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import timeframes
from accounts.models import TimerSettings, User
from analytics.models import Badge
from analytics.selectors import (
    ZERO,
    FocusRecord,
    day_bounds,
    focus_records,
    running_pieces,
)
from pomodoro.timefmt import isoformat_utc

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
    parts: list[list[tuple[datetime.datetime, datetime.timedelta]]] = [[] for _ in range(7)]
    for _user_id, piece in running_pieces(user=user, start=bounds[0], end=bounds[-1], now=now):
        for i in range(7):
            start, end = max(piece.start, bounds[i]), min(piece.end, bounds[i + 1])
            if end > start:
                parts[i].append((start, end - start))
    reached = []
    for day_parts in parts:
        total = ZERO
        for start, length in sorted(day_parts):
            if total + length >= goal:
                reached.append(start + (goal - total))
                break
            total += length
    if len(reached) < GOAL_WEEK_DAYS:
        return None
    return sorted(reached)[GOAL_WEEK_DAYS - 1]


@transaction.atomic
def badges_award(
    *, user: User, at: datetime.datetime | None = None, now: datetime.datetime | None = None
) -> list[Badge]:
    """Awards every badge the user's history has earned and they do not hold yet, each
    with a `badge.earned` event. `goal_week` is looked for in the week containing `at`
    (the end of the session that just ended; default now). Idempotent and safe to run
    concurrently: the event is recorded first (taking the user's event stream lock, in
    the order every transaction takes it), then the badge, in one savepoint; a badge a
    concurrent transaction awarded first breaks the unique constraint and rolls back
    both. Badges are never taken back."""
    from sessions_app.services import event_record

    now = now or timezone.now()
    held = set(Badge.objects.filter(user=user).values_list("code", flat=True))
    if held >= set(Code.values):
        return []
    records = focus_records(user=user, now=now)
    completed = [record for record in records if record.completed]
    candidates = {**_pomodoro_badges(completed), **_streak_badges(completed)}
    timer_settings = None
    if Code.PERFECT_CYCLE not in held and len(completed) > 0:
        timer_settings = TimerSettings.objects.filter(user_id=user.pk).first()
        cycle = timer_settings.long_break_every if timer_settings else 4
        cycle_at = _perfect_cycle(records, cycle)
        if cycle_at is not None:
            candidates[Code.PERFECT_CYCLE] = cycle_at
    if Code.GOAL_WEEK not in held:
        if timer_settings is None:
            timer_settings = TimerSettings.objects.filter(user_id=user.pk).first()
        goal_minutes = timer_settings.daily_goal_minutes if timer_settings else None
        if goal_minutes:
            goal_at = _goal_week(user, datetime.timedelta(minutes=goal_minutes), at or now, now)
            if goal_at is not None:
                candidates[Code.GOAL_WEEK] = goal_at

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
