"""The events socket: the glue between Channels and the event log.

Authenticated by a ticket (events.realtime_auth), it joins the user's group and the
groups other apps register (a user's teams), replays the log after `after`, then
forwards live events; SeqReplay (events.replay) keeps them in seq order, each once.
Hand-over from replay to live: the consumer joins the user's group *before* it reads
the log, so an event that commits during the replay is in what the replay reads or
after it, and queued for this consumer; SeqReplay drops what the replay already sent.
Commands received over the socket run the services that the apps registered
(events.registry: sessions_app's start, pause, stop and reset), as REST runs them.
"""

import asyncio
import functools
import json
import logging
import re
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from events import registry, selectors, tickets
from events.publish import user_group
from events.replay import SeqReplay, TooFarBehind
from pomodoro.errors import problem_body, problem_for_exception
from pomodoro.metrics import WEBSOCKET_CONNECTIONS, WEBSOCKET_DISCONNECTS
from pomodoro.request_log import bind_request_id, request_id_from
from pomodoro.throttling import user_write_ensure_allowed
from pomodoro.timefmt import isoformat_utc

logger = logging.getLogger("pomodoro.realtime")

CLOSE_UNAUTHORIZED = 4401
# Told to a client so far behind that catching up here would stall the socket: it
# should reconnect with ?after=<the last seq it has> (a new socket replays in pages).
CLOSE_TOO_FAR_BEHIND = 4409
MAX_LIVE_CATCH_UP = 2000
CREDENTIALS_CHECK_SECONDS = 30
AFTER_PATTERN = re.compile(r"[0-9]{1,18}")


# Close codes as pomodoro_websocket_disconnects_total{reason} counts them: a
# client cannot make new series by choosing a code.
DISCONNECT_REASONS = {
    1000: "normal",
    1001: "normal",
    1006: "abnormal",  # no close frame: the network or a process went away
    CLOSE_UNAUTHORIZED: "unauthorized",
    CLOSE_TOO_FAR_BEHIND: "too_far_behind",
}


def _run_command(user, action: str, session_id: int) -> dict:
    # A command is a write like a REST one, counted against the same per-user limit;
    # refused (Throttled) before it touches anything.
    user_write_ensure_allowed(user_id=user.pk)
    return registry.socket_commands()[action](user=user, session_id=session_id)


def _read_page(user_id: int, after: int, limit: int) -> list[dict]:
    events, _ = selectors.event_list(user_id=user_id, after=after, limit=limit)
    return [event.as_message() for event in events]


class EventsConsumer(AsyncJsonWebsocketConsumer):
    # Set by close(): from then on nothing is sent and no command runs, although the
    # consumer lives on until the client's side of the close handshake arrives.
    closed = False
    replay: SeqReplay | None = None

    async def connect(self):
        # The consumer's handlers all run in this task: every log line of the socket's
        # life (its commands' services included) carries this id.
        headers = dict(self.scope.get("headers", ()))
        self.request_id = request_id_from(headers.get(b"x-request-id"))
        bind_request_id(self.request_id)
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            logger.info("socket refused: no valid ticket")
            await self.accept()
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        self.user = user
        self.generation = self.scope["token_generation"]
        self.replay = SeqReplay(
            read_page=database_sync_to_async(functools.partial(_read_page, user.pk)),
            send=self._send_unless_closed,
            page_size=settings.EVENTS_PAGE_SIZE,
            max_live_gap=MAX_LIVE_CATCH_UP,
        )
        await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        self.groups_joined: set[str] = set()
        await self._sync_groups()
        await self.accept()
        WEBSOCKET_CONNECTIONS.inc()
        self.counted = True
        self.connected_at = time.monotonic()
        logger.info("socket connected", extra={"user_id": user.pk})
        last_seq = await self._last_seq()
        await self.send_json(
            {"type": "hello", "server_time": isoformat_utc(timezone.now()), "last_seq": last_seq}
        )
        self.replay.begin(after=self._after_parameter(), last_seq=last_seq)
        await self.replay.fill(last_seq)
        self.watchdog = asyncio.create_task(self._watch_credentials())

    async def disconnect(self, code):
        if getattr(self, "counted", False):
            WEBSOCKET_CONNECTIONS.dec()
            WEBSOCKET_DISCONNECTS.labels(DISCONNECT_REASONS.get(code, "other")).inc()
            self.counted = False
            logger.info(
                "socket disconnected",
                extra={
                    "user_id": self.user.pk,
                    "code": code,
                    "connected_seconds": round(time.monotonic() - self.connected_at, 1),
                },
            )
        watchdog = getattr(self, "watchdog", None)
        if watchdog is not None:
            watchdog.cancel()
        if getattr(self, "user", None) is not None:
            await self.channel_layer.group_discard(user_group(self.user.pk), self.channel_name)
            for group in getattr(self, "groups_joined", ()):
                await self.channel_layer.group_discard(group, self.channel_name)

    # --- Messages from the channel layer ------------------------------------------------

    async def event_message(self, message):
        """A live event of this user, published after its commit."""
        if self.closed or self.replay is None:
            return
        await self._following(self.replay.live(message["event"]))

    async def group_message(self, message):
        """A message to a group the user's socket joined (a teammate's state, from teams):
        forwarded as is; it has no seq and is not in the log."""
        if self.closed or self.replay is None or self.replay.last_sent is None:
            return
        await self.send_json(message["payload"])

    async def groups_changed(self, message):
        """The groups of the user changed (joined or left a team): follow them."""
        if not self.closed:
            await self._sync_groups()

    async def auth_revoked(self, message):
        await self.close(code=CLOSE_UNAUTHORIZED)

    async def close(self, code=None, reason=None):
        if self.closed:
            return
        self.closed = True
        await super().close(code=code, reason=reason)

    # --- Commands from the client --------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if self.closed:
            return  # a command in flight when the socket was closed (credentials gone)
        try:
            content = json.loads(text_data) if text_data is not None else None
        except ValueError:
            content = None
        if not isinstance(content, dict):
            await self._ack_invalid(None, "non_field_errors", "Send a JSON object.")
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        request_id = content.get("request_id")
        action = content.get("action")
        if action == "ping":
            await self.send_json(
                {
                    "type": "pong",
                    "request_id": request_id,
                    "server_time": isoformat_utc(timezone.now()),
                }
            )
            return
        session_id = content.get("session")
        # A tuple, not the dict: an action that is a list or an object cannot be hashed.
        if action not in tuple(registry.socket_commands()):
            await self._ack_invalid(
                request_id, "action", "action must be start, pause, stop, reset or ping."
            )
            return
        if not isinstance(session_id, int) or isinstance(session_id, bool) or session_id < 1:
            await self._ack_invalid(request_id, "session", "session must be a session id.")
            return
        if not await self._credentials_current():
            # Revoked without a push reaching us yet (the watchdog may be 30 s away).
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        try:
            session = await database_sync_to_async(_run_command)(self.user, action, session_id)
        except Exception as error:
            body, headers = problem_for_exception(error)
            if "Retry-After" in headers:
                # What REST says in the header (a 429, a 503), as a member of the error.
                body["retry_after"] = int(headers["Retry-After"])
            await self.send_json(
                {"type": "ack", "request_id": request_id, "ok": False, "error": body}
            )
            return
        await self.send_json(
            {"type": "ack", "request_id": request_id, "ok": True, "session": session}
        )

    # --- Helpers -------------------------------------------------------------------------

    async def _send_unless_closed(self, message: dict) -> None:
        if not self.closed:
            await self.send_json(message)

    async def _following(self, sending) -> None:
        """Awaits a send of the replay; a client too far behind is told to reconnect."""
        try:
            await sending
        except TooFarBehind as behind:
            logger.info(
                "socket too far behind, told to reconnect",
                extra={"user_id": self.user.pk, "last_sent": behind.last_sent},
            )
            await self.send_json({"type": "reconnect", "last_seq": behind.last_sent})
            await self.close(code=CLOSE_TOO_FAR_BEHIND)

    async def _ack_invalid(self, request_id, field: str, detail: str) -> None:
        """A refused command as the REST API refuses invalid input: 400 `invalid` with
        the message under its field in `errors` (the contract's validation errors)."""
        error = problem_body(
            status=400,
            code="invalid",
            title="Invalid command",
            detail=detail,
            errors={field: [detail]},
        )
        await self.send_json({"type": "ack", "request_id": request_id, "ok": False, "error": error})

    def _after_parameter(self) -> int | None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        value = (query.get("after") or [None])[0]
        # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
        if value is None or not AFTER_PATTERN.fullmatch(value):
            return None
        return int(value)

    async def _last_seq(self) -> int:
        _, last_seq = await database_sync_to_async(selectors.event_list)(
            user_id=self.user.pk, after=0, limit=0
        )
        return last_seq

    async def _watch_credentials(self) -> None:
        """Closes the socket within CREDENTIALS_CHECK_SECONDS of the user being disabled or
        changing their password, even if the push from the service was lost. Also sends
        what the log has beyond the last event sent: broadcasts lost while Redis was down
        reach an idle socket within the same period, not only when the user's next event
        reveals the gap (docs/drills.md, Redis down)."""
        while True:
            await asyncio.sleep(CREDENTIALS_CHECK_SECONDS)
            try:
                if not await self._credentials_current():
                    await self.close(code=CLOSE_UNAUTHORIZED)
                    return
                last_seq = await self._last_seq()
                if last_seq > self.replay.last_sent:
                    await self._following(self.replay.fill(last_seq, limited=True))
                if self.closed:
                    return
                # The channel layer forgets a group member after its group_expiry (a day by
                # default); joining again keeps a long-lived socket in its groups.
                await self.channel_layer.group_add(user_group(self.user.pk), self.channel_name)
                # Also re-reads the groups, in case a groups.changed push was lost.
                await self._sync_groups(rejoin=True)
            except Exception:
                # Redis or PostgreSQL down for a moment: the watchdog must outlive it,
                # or this socket would never be checked again.
                logger.warning("socket watchdog check failed; retrying", exc_info=True)

    async def _sync_groups(self, *, rejoin: bool = False) -> None:
        """Joins the groups the apps registered for the user (events.registry) and leaves
        those the user is no longer in."""
        current = await database_sync_to_async(registry.socket_groups_of)(self.user.pk)
        for group in self.groups_joined - current:
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in current if rejoin else current - self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = current

    async def _credentials_current(self) -> bool:
        """False once the user was disabled or changed their password since the socket
        opened: the rules REST applies to every request's token."""
        return await database_sync_to_async(tickets.realtime_credentials_current)(
            user_id=self.user.pk, generation=self.generation
        )
