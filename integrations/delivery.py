"""The webhook worker: sends the outbox's deliveries, signed per Standard Webhooks.

One asyncio loop with aiohttp does the network; the database work (claiming rows,
recording outcomes: integrations.outbox) runs in one thread of its own, in short
transactions, never during a request to an endpoint. Each endpoint has at most one
request in flight, and its claimed deliveries are sent one after another in id order,
so its first attempts arrive in `seq` order; endpoints do not wait for each other, so a
slow or dead endpoint (10 s timeout each time) delays nobody else's deliveries. A failed
attempt is scheduled again later (integrations.outbox.retry_delay) and the endpoint goes
on with the next delivery: later deliveries are not held back.

Each request: a POST of `{"type", "timestamp", "data": event}` with `webhook-id` (the
delivery's, the same on every attempt), `webhook-timestamp` (this attempt's) and
`webhook-signature` (`v1,<base64 HMAC-SHA256>`, signed by the reference library
`standardwebhooks`). A 2xx within the timeout (10 s for the whole exchange) is success;
redirects are not followed; at most RESPONSE_READ_LIMIT bytes of the answer are read,
and discarded. Before connecting, every address the endpoint's name resolves to must be
public (integrations.targets), and the connection goes to one of those addresses: the
check and the connection use one resolution, so DNS rebinding cannot slip a private
address in between.
"""

import asyncio
import contextlib
import datetime
import json
import logging
import socket
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone
from standardwebhooks import Webhook as Signer
from yarl import URL

from integrations import outbox
from integrations.outbox import Claimed, Outcome
from integrations.targets import TargetRefused, address_ensure_allowed, ip_literal

logger = logging.getLogger("pomodoro.webhooks")

TIMEOUT_SECONDS = 10.0
RESPONSE_READ_LIMIT = 4096
USER_AGENT = "pomodoro-webhooks/1"
PURGE_EVERY_SECONDS = 3600


class PublicAddressResolver(AbstractResolver):
    """Resolves a name and refuses it unless every address is allowed: aiohttp then
    connects to exactly these addresses (and keeps the name for TLS SNI and Host)."""

    def __init__(self, *, allow_private: bool):
        self._allow_private = allow_private
        self._resolver = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._resolver.resolve(host, port, family)
        for result in results:
            address_ensure_allowed(result["host"], allow_private=self._allow_private)
        return results

    async def close(self) -> None:
        await self._resolver.close()


def _error_text(error: BaseException) -> str:
    """What the delivery log says of a failed exchange: the refusal if there was one."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, TargetRefused):
            return f"Refused: {seen}."
        seen = seen.__cause__ or seen.__context__
    if isinstance(error, asyncio.TimeoutError):
        return "Timed out."
    return f"{type(error).__name__}: {error}"[:300]


class WebhookWorker:
    """Sends due deliveries until stopped. `run()` runs forever (the command);
    `run_until_idle()` returns once nothing is due or in flight (tests, benchmarks)."""

    def __init__(
        self,
        *,
        timeout: float = TIMEOUT_SECONDS,
        interval: float = 0.1,
        batch: int = 500,
        per_endpoint: int = 10,
        max_in_flight: int = 256,
        allow_private: bool | None = None,
        heartbeat_file: str = "",
    ):
        self.timeout = timeout
        self.interval = interval
        self.batch = batch
        self.per_endpoint = per_endpoint
        self.allow_private = (
            settings.WEBHOOK_ALLOW_PRIVATE_TARGETS if allow_private is None else allow_private
        )
        self.heartbeat_file = heartbeat_file
        # An endpoint is claimed for again while at most half its rows are left (so it
        # need not wait for a round when they run out): it holds at most 1.5 times
        # per_endpoint rows, each sent within the lease, one after another, each within
        # the timeout, plus a margin for the claim and the recording.
        self.lease = datetime.timedelta(seconds=(per_endpoint * 3 // 2) * timeout + 60)
        self._max_in_flight = max_in_flight
        self._queues: dict[int, deque[Claimed]] = {}
        self._tasks: set[asyncio.Task] = set()
        self._outcomes: list[Outcome] = []
        self._db_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhook-db")
        self._stopping = asyncio.Event()
        self.delivered = 0
        self.failed = 0

    # --- The loop --------------------------------------------------------------------

    async def run(self) -> None:
        await self._serve(until_idle=False)

    async def run_until_idle(self) -> None:
        await self._serve(until_idle=True)

    def stop(self) -> None:
        """Stops claiming; what is in flight finishes and is recorded (thread-safe when
        called through loop.call_soon_threadsafe)."""
        self._stopping.set()

    async def _serve(self, *, until_idle: bool) -> None:
        connector = aiohttp.TCPConnector(
            resolver=PublicAddressResolver(allow_private=self.allow_private),
            limit=self._max_in_flight,
            limit_per_host=0,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            trust_env=False,  # no proxy from the environment: the address rule is ours
            auto_decompress=False,
        )
        last_purge = 0.0
        try:
            while not self._stopping.is_set():
                busy = frozenset(
                    webhook_id
                    for webhook_id, queue in self._queues.items()
                    if len(queue) > self.per_endpoint // 2
                )
                try:
                    claimed = await self._db(
                        outbox.deliveries_claim,
                        limit=self.batch,
                        per_endpoint=self.per_endpoint,
                        busy=busy,
                        lease=self.lease,
                    )
                    await self._record()
                    if time.monotonic() - last_purge > PURGE_EVERY_SECONDS:
                        await self._db(outbox.deliveries_purge_old)
                        last_purge = time.monotonic()
                    if self.heartbeat_file:
                        Path(self.heartbeat_file).touch()
                except Exception:
                    # A database that went away comes back; the worker must outlive it.
                    logger.exception("webhook worker round failed; retrying")
                    claimed = []
                    await asyncio.sleep(1)
                for delivery in claimed:
                    self._enqueue(delivery)
                # Idle: nothing due, and no endpoint was left out of the claim as busy.
                if until_idle and not claimed and not busy and not self._queues:
                    await self._record()
                    if not self._outcomes:
                        return
                if len(claimed) < self.batch:
                    await self._sleep(self.interval)
        finally:
            await self._shut_down()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _shut_down(self) -> None:
        # Rows claimed but not started go back at once, for another worker; the attempts
        # in flight finish (within the timeout) and are recorded.
        unsent = [d.id for queue in self._queues.values() for d in list(queue)[1:]]
        for queue in self._queues.values():
            while len(queue) > 1:
                queue.pop()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self.timeout + 5)
        with contextlib.suppress(Exception):
            if unsent:
                await self._db(outbox.deliveries_release, ids=unsent)
            await self._record()
        await self._session.close()
        await self._db(connections.close_all)
        self._db_thread.shutdown(wait=True)

    async def _db(self, function, **kwargs):
        def call():
            close_old_connections()
            return function(**kwargs)

        return await asyncio.get_running_loop().run_in_executor(self._db_thread, call)

    async def _record(self) -> None:
        if not self._outcomes:
            return
        outcomes, self._outcomes = self._outcomes, []
        try:
            disabled = await self._db(outbox.outcomes_record, outcomes=outcomes)
        except Exception:
            self._outcomes = outcomes + self._outcomes  # written at the next round
            raise
        for webhook_id in disabled:
            logger.warning(
                "webhook disabled after 24 hours of failures", extra={"webhook_id": webhook_id}
            )
            queue = self._queues.get(webhook_id)
            while queue is not None and len(queue) > 1:
                queue.pop()

    # --- Endpoints -------------------------------------------------------------------

    def _enqueue(self, delivery: Claimed) -> None:
        queue = self._queues.get(delivery.webhook_id)
        if queue is not None:
            queue.append(delivery)
            return
        self._queues[delivery.webhook_id] = deque([delivery])
        task = asyncio.create_task(self._drain(delivery.webhook_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, webhook_id: int) -> None:
        """Sends an endpoint's claimed deliveries one after another, in claim order."""
        queue = self._queues[webhook_id]
        try:
            while queue:
                outcome = await self.attempt(queue[0])
                queue.popleft()
                self._outcomes.append(outcome)
                if outcome.ok:
                    self.delivered += 1
                else:
                    self.failed += 1
        finally:
            del self._queues[webhook_id]

    async def attempt(self, delivery: Claimed) -> Outcome:
        """One signed POST of the delivery to its endpoint."""
        body = json.dumps(
            {"type": delivery.type, "timestamp": delivery.payload["at"], "data": delivery.payload},
            separators=(",", ":"),
        ).encode()
        now = timezone.now()
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Signer(delivery.secret).sign(delivery.message_id, now, body),
        }
        try:
            url = URL(delivery.url)
            self._url_ensure_allowed(url)
            async with self._session.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                remaining = RESPONSE_READ_LIMIT
                while remaining > 0:
                    chunk = await response.content.read(remaining)
                    if not chunk:
                        break
                    remaining -= len(chunk)
                status = response.status
        except Exception as error:
            return Outcome(delivery=delivery, ok=False, at=timezone.now(), error=_error_text(error))
        ok = 200 <= status < 300
        return Outcome(
            delivery=delivery,
            ok=ok,
            at=timezone.now(),
            status_code=status,
            error="" if ok else f"HTTP {status}.",
        )

    def _url_ensure_allowed(self, url: URL) -> None:
        # The address rule for names is the resolver's; an address written in the URL is
        # never resolved, so it is checked here.
        if url.scheme != "https" and not self.allow_private:
            raise TargetRefused("only https URLs may be called")
        literal = ip_literal(url.host or "")
        if literal is not None:
            address_ensure_allowed(literal, allow_private=self.allow_private)
