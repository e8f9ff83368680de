"""One socket's view of the user's event log: every seq after the client's start sent
once, in order, whether it arrives live from the channel layer or from the log.

Plain asyncio, no Channels: the consumer (events.consumers) gives it a way to read the
log and a way to send, and tests drive it directly (tests/events/test_replay.py).
"""

import asyncio
from collections.abc import Awaitable, Callable

# read_page(after, limit): the events with seq > after, oldest first, at most limit.
ReadPage = Callable[[int, int], Awaitable[list[dict]]]
Send = Callable[[dict], Awaitable[None]]


class TooFarBehind(Exception):
    """A live gap too large to fill without stalling the socket: the client should
    reconnect with ?after=<last_sent> (a new socket replays in pages)."""

    def __init__(self, last_sent: int):
        super().__init__(last_sent)
        self.last_sent = last_sent


class SeqReplay:
    """Sends a user's events in `seq` order with no duplicate and no gap.

    `begin` sets where the client stands; `fill` sends what the log has up to a seq
    (the replay on connect, the watchdog's catch-up); `live` sends a broadcast event
    only if it is the next seq: one already sent is dropped, and a jump (a broadcast
    the channel layer lost, or two processes publishing out of order) is filled from the
    log first. A seq is only handed out after every lower seq of the user committed
    (events.log), so the log always has what a gap lacks. Sends run one at a time.
    """

    def __init__(self, *, read_page: ReadPage, send: Send, page_size: int, max_live_gap: int):
        self._read_page = read_page
        self._send = send
        self._page_size = page_size
        self._max_live_gap = max_live_gap
        self._sending = asyncio.Lock()
        self.last_sent: int | None = None

    def begin(self, *, after: int | None, last_seq: int) -> None:
        """The client has everything up to `after` (None: it wants only new events)."""
        self.last_sent = last_seq if after is None else min(after, last_seq)

    async def fill(self, to: int, *, limited: bool = False) -> None:
        """Sends every event after last_sent up to `to` from the log, in pages. With
        `limited`, refuses (TooFarBehind) a gap larger than max_live_gap."""
        async with self._sending:
            await self._fill(to, limited=limited)

    async def live(self, event: dict) -> None:
        """A broadcast event: sent if new, after whatever the log has before it."""
        if self.last_sent is None:
            return  # not started: the replay on connect will read it from the log
        async with self._sending:
            if event["seq"] <= self.last_sent:
                return  # sent already, by the replay or a catch-up
            if event["seq"] > self.last_sent + 1:
                await self._fill(event["seq"] - 1, limited=True)
            await self._send(event)
            self.last_sent = event["seq"]

    async def _fill(self, to: int, *, limited: bool) -> None:
        if limited and to - self.last_sent > self._max_live_gap:
            raise TooFarBehind(self.last_sent)
        while self.last_sent < to:
            events = [
                e for e in await self._read_page(self.last_sent, self._page_size) if e["seq"] <= to
            ]
            if not events:
                return
            for event in events:
                await self._send(event)
                self.last_sent = event["seq"]
