"""A user's calendar: where their days, weeks and months begin and end, as UTC instants.

A user's day D runs from D at `day_starts_at` (local wall time in the user's
`timezone`) to D+1 at the same wall time, so days are 23 or 25 hours long across
DST changes. A week is the seven days from the last `week_starts_on`; a month is
the calendar month, shifted by `day_starts_at` like days are. A wall time that a
DST change skips is read with the offset in force before the change (PEP 495 fold=0).
"""

import datetime
from typing import Literal

from django.utils import timezone

Period = Literal["day", "week", "month"]
PERIODS: tuple[Period, ...] = ("day", "week", "month")
UTC = datetime.UTC


def day_start(user, day: datetime.date) -> datetime.datetime:
    """The instant the user's day `day` begins."""
    local = datetime.datetime.combine(day, user.day_starts_at, tzinfo=user.zone)
    return local.astimezone(UTC)


def local_date(user, at: datetime.datetime) -> datetime.date:
    """The user's day that contains the instant `at`."""
    local = at.astimezone(user.zone)
    day = local.date()
    if day_start(user, day) > at:
        day -= datetime.timedelta(days=1)
    return day


def today(user, now: datetime.datetime | None = None) -> datetime.date:
    return local_date(user, now or timezone.now())


def period_first_day(user, period: Period, day: datetime.date) -> datetime.date:
    if period == "day":
        return day
    if period == "week":
        return day - datetime.timedelta(days=(day.weekday() - user.week_starts_on) % 7)
    return day.replace(day=1)


def period_after(period: Period, first_day: datetime.date) -> datetime.date:
    """The first day of the next period."""
    if period == "day":
        return first_day + datetime.timedelta(days=1)
    if period == "week":
        return first_day + datetime.timedelta(days=7)
    if first_day.month == 12:
        return first_day.replace(year=first_day.year + 1, month=1, day=1)
    return first_day.replace(month=first_day.month + 1, day=1)


def period_before(period: Period, first_day: datetime.date) -> datetime.date:
    """The first day of the previous period."""
    if period == "day":
        return first_day - datetime.timedelta(days=1)
    if period == "week":
        return first_day - datetime.timedelta(days=7)
    return period_first_day(None, "month", first_day - datetime.timedelta(days=1))


def period_days(user, period: Period, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first day of the period containing `day`, and the first day after it."""
    first = period_first_day(user, period, day)
    return first, period_after(period, first)


def period_bounds(
    user, period: Period, day: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    """The half-open instant range [start, end) of the user's period containing `day`."""
    first, after = period_days(user, period, day)
    return day_start(user, first), day_start(user, after)
