"""Reading the event log."""

from events.models import Event, EventStream


def event_list(*, user_id: int, after: int, limit: int) -> tuple[list[Event], int]:
    """Events with seq > after, oldest first, and the user's newest seq."""
    events = list(Event.objects.filter(user_id=user_id, seq__gt=after).order_by("seq")[:limit])
    last_seq = (
        EventStream.objects.filter(user_id=user_id).values_list("last_seq", flat=True).first() or 0
    )
    return events, max(last_seq, events[-1].seq if events else 0)
