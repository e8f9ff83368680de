"""The one place that broadcasts to the channel layer, and only after the commit.

The event row is the truth and is written in the same transaction as the change
(sessions_app.services.event_record). The broadcast runs in `transaction.on_commit`,
so no client hears of a change that was rolled back. A failed broadcast (Redis
down) is logged and counted, never turned into a failed request: clients fill
the gap by replaying from their last `seq`.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger("pomodoro.events")


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


class PublishStats:
    """Counters read by /metrics."""

    published = 0
    failed = 0


def _broadcast(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
        PublishStats.published += 1
    except Exception:
        PublishStats.failed += 1
        logger.warning("event broadcast failed", extra={"group": group}, exc_info=True)


def publish_on_commit(group: str, message: dict) -> None:
    """Sends `message` to `group` once the current transaction commits (at once if none)."""
    transaction.on_commit(lambda: _broadcast(group, message))
