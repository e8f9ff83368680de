"""The calendar feed (GET calendar/<token>.ics): a user's recent sessions as RFC 5545
text, built with the icalendar library."""

import datetime

import icalendar

from accounts.models import User
from sessions_app.models import Session

CONTENT_TYPE = "text/calendar; charset=utf-8"
FEED_DAYS = 90
# UIDs must stay the same from one fetch to the next (a calendar app updates the event
# it has instead of adding another) and be unique beyond this service: session ids are.
UID_DOMAIN = "sessions.pomodoro"
KIND_NAMES = dict(Session.Kind.choices)


def session_uid(session_id: int) -> str:
    return f"session-{session_id}@{UID_DOMAIN}"


def session_calendar(*, user: User, now: datetime.datetime) -> bytes:
    """One VEVENT per session that ended in the last FEED_DAYS days, oldest first: the
    session's name, else its task's title, else its kind, from its start to its end,
    in UTC."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Pomodoro//Sessions feed//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Pomodoro sessions")
    sessions = (
        Session.objects.filter(
            user=user,
            deleted_at__isnull=True,
            state__in=Session.ENDED_STATES,
            ended_at__gte=now - datetime.timedelta(days=FEED_DAYS),
        )
        .order_by("started_at", "pk")
        .values_list("pk", "kind", "name", "task__title", "started_at", "ended_at", "updated_at")
    )
    for pk, kind, name, task_title, started_at, ended_at, updated_at in sessions:
        event = icalendar.Event()
        event.add("uid", session_uid(pk))
        event.add("summary", name or task_title or KIND_NAMES[kind])
        event.add("dtstart", started_at.astimezone(datetime.UTC))
        event.add("dtend", ended_at.astimezone(datetime.UTC))
        event.add("dtstamp", updated_at.astimezone(datetime.UTC))
        calendar.add_component(event)
    return calendar.to_ical()
