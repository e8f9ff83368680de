"""Test setup shared by the timer engine tests: paths, time travel for stored sessions,
and snapshots that prove a refused action changed nothing."""

import datetime
import zoneinfo

from django.db.models import F
from django.forms.models import model_to_dict
from django.utils import timezone
from rest_framework.fields import DateTimeField

from events.models import Event
from sessions_app.models import Session, SessionSegment

API = "/api/v1/"


def iso(at: datetime.datetime | None) -> str | None:
    """A datetime as the API writes it."""
    return None if at is None else DateTimeField().to_representation(at)


def parse(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value)


def move_into_past(session_id: int, seconds: float) -> None:
    """Moves a stored session and its segments `seconds` into the past, as if it had been
    opened that long ago. Test setup only: the engine reads these times as stored."""
    delta = datetime.timedelta(seconds=seconds)
    Session.objects.filter(pk=session_id).update(
        started_at=F("started_at") - delta,
        running_since=F("running_since") - delta,
        target_end_at=F("target_end_at") - delta,
        ended_at=F("ended_at") - delta,
    )
    SessionSegment.objects.filter(session_id=session_id).update(
        started_at=F("started_at") - delta, ended_at=F("ended_at") - delta
    )


def make_due(session_id: int, *, seconds_ago: float) -> Session:
    """Moves a running session into the past, so that it reached its planned length
    `seconds_ago` seconds ago (its segments move with it)."""
    target_end_at = Session.objects.values_list("target_end_at", flat=True).get(pk=session_id)
    move_into_past(session_id, (target_end_at - timezone.now()).total_seconds() + seconds_ago)
    return Session.objects.get(pk=session_id)


def session_row(session_id: int) -> dict:
    """Everything stored about a session, segments included."""
    session = Session.objects.get(pk=session_id)
    row = model_to_dict(session)
    row["updated_at"] = session.updated_at
    row["segments"] = list(
        SessionSegment.objects.filter(session_id=session_id)
        .order_by("pk")
        .values_list("started_at", "ended_at")
    )
    return row


def event_types(user) -> list[tuple[int, str]]:
    return list(Event.objects.filter(user=user).order_by("seq").values_list("seq", "type"))


def events(user) -> list[Event]:
    return list(Event.objects.filter(user=user).order_by("seq"))


def without_server_time(session: dict) -> dict:
    return {name: value for name, value in session.items() if name != "server_time"}


def put_day_boundary_far_from_now(user, zone: str = "America/New_York") -> datetime.datetime:
    """Gives the user a fixed time zone and a `day_starts_at` about 12 hours away from now,
    so that a test's sessions of the last hour all fall in the user's current day whenever
    the suite runs. Returns the instant the user's current day began."""
    local_now = timezone.now().astimezone(zoneinfo.ZoneInfo(zone))
    starts_at = datetime.time((local_now.hour + 12) % 24, 0)
    user.timezone = zone
    user.day_starts_at = starts_at
    user.save(update_fields=["timezone", "day_starts_at"])
    day_start = datetime.datetime.combine(local_now.date(), starts_at, tzinfo=local_now.tzinfo)
    if day_start > local_now:
        day_start = datetime.datetime.combine(
            local_now.date() - datetime.timedelta(days=1), starts_at, tzinfo=local_now.tzinfo
        )
    return day_start.astimezone(datetime.UTC)
