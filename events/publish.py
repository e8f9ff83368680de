"""The one place that broadcasts to the channel layer, and only after the commit.

The event row is the truth and is written in the same transaction as the change
(events.log.event_record). The broadcast runs in `transaction.on_commit`,
so no client hears of a change that was rolled back. A failed broadcast (Redis
down) is logged and counted (pomodoro_events_broadcast_failures_total in /metrics),
never turned into a failed request: clients fill the gap by replaying from their
last `seq`.

With Redis, each process hands its broadcasts to one long-lived publisher thread
that owns an event loop and the channel layer's connections: `async_to_sync` from a
WSGI worker would build a new loop and a new Redis connection for every event. The
thread sends in the order it was given; two request threads may still hand over
their events out of commit order, and the consumer puts them back in `seq` order.
While Redis is down the queue is bounded: past MAX_PENDING broadcasts are dropped
and counted as failed (the log has them; replay delivers them).
The in-memory layer (embedded mode, one process) lives on the ASGI server's own
loop, so there the broadcast goes through `async_to_sync`, which hands it to that loop.
"""

import asyncio
import logging
import threading

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

from pomodoro.metrics import EVENTS_BROADCAST, EVENTS_BROADCAST_FAILURES

logger = logging.getLogger("pomodoro.events")


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def team_group(team_id: int) -> str:
    return f"team.{team_id}"


MAX_PENDING = 10_000


class _Publisher:
    """A daemon thread running its own event loop, sending broadcasts one after another."""

    def __init__(self):
        self._pending = 0  # submitted, not yet sent; read across threads, an estimate
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        thread = threading.Thread(target=self._run, name="event-publisher", daemon=True)
        thread.start()
        self._started.wait()

    def submit(self, group: str, message: dict) -> None:
        if self._pending >= MAX_PENDING:
            EVENTS_BROADCAST_FAILURES.inc()
            logger.warning("event broadcast dropped: publisher queue full", extra={"group": group})
            return
        self._pending += 1
        self._loop.call_soon_threadsafe(self._queue.put_nowait, (group, message))

    def flush(self, timeout: float = 5.0) -> None:
        """Waits until everything submitted so far was sent (tests and shutdown)."""
        done = threading.Event()
        self._loop.call_soon_threadsafe(self._queue.put_nowait, (None, done))
        done.wait(timeout)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._queue: asyncio.Queue = asyncio.Queue()
        self._loop.create_task(self._serve())
        self._started.set()
        self._loop.run_forever()

    async def _serve(self) -> None:
        while True:
            group, message = await self._queue.get()
            if group is None:
                message.set()
                continue
            self._pending -= 1
            try:
                await get_channel_layer().group_send(group, message)
                EVENTS_BROADCAST.inc()
            except Exception:
                EVENTS_BROADCAST_FAILURES.inc()
                logger.warning("event broadcast failed", extra={"group": group}, exc_info=True)


_publisher: _Publisher | None = None
_publisher_lock = threading.Lock()


def _publisher_thread() -> _Publisher:
    global _publisher
    with _publisher_lock:
        if _publisher is None:
            _publisher = _Publisher()
        return _publisher


def _broadcast(group: str, message: dict) -> None:
    # Runs after the commit: whatever goes wrong here must not fail the request.
    try:
        layer = get_channel_layer()
        if layer is None:
            return
        if not isinstance(layer, InMemoryChannelLayer):
            _publisher_thread().submit(group, message)
            return
        async_to_sync(layer.group_send)(group, message)
        EVENTS_BROADCAST.inc()
    except Exception:
        EVENTS_BROADCAST_FAILURES.inc()
        logger.warning("event broadcast failed", extra={"group": group}, exc_info=True)


def publish_on_commit(group: str, message: dict) -> None:
    """Sends `message` to `group` once the current transaction commits (at once if none)."""
    transaction.on_commit(lambda: _broadcast(group, message))


def flush_broadcasts(timeout: float = 5.0) -> None:
    """Waits for this process's pending broadcasts to be sent."""
    if _publisher is not None:
        _publisher.flush(timeout)
