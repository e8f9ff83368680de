"""Drill: kill -9 Redis while two sockets follow a user; REST keeps working, and when
Redis returns the sockets catch up on every event of the outage, in order, once.

Runs gunicorn (REST) and uvicorn (sockets). Three socket clients of one user (a
phone, a laptop, a tablet) follow the events; each reconnects when its socket closes, with a fresh
ticket and `after=<last seq it has>`, as docs/api.md tells clients to. Then:

1. Redis up: a few timer actions; every socket gets them live.
2. Redis killed (SIGKILL); the third client (a tablet) drops its socket and keeps
   trying to reconnect (its tickets answer 503 until Redis is back). Timer actions
   through REST must all answer 2xx; the leaderboard (cached in Redis) 200; /readyz
   503 naming the channel layer and cache; a realtime ticket 503 service_unavailable
   (tickets live in Redis).
3. Redis restarted, empty: with no new action, every socket must reach the last seq of
   the log (time measured); then a few more actions, delivered live.

The sockets that stayed open catch up through the consumer's periodic check of the
log (every 30 s; sessions_app/consumers.py), the tablet by replay on reconnect.
Each socket must have received seq 1..N exactly: every event, in order, no gap, no
duplicate, the same N as the log.

    .venv/bin/python -m drills.redis_down
"""

import asyncio
import json
import sys
import time

import httpx
import websockets

from drills.harness import Drill, free_port, guest_token, is_problem, new_key

OUTAGE_ACTIONS = 24
CATCH_UP_TIMEOUT = 45.0


class SocketFollower:
    """One client's events socket, reconnecting with `after` = the last seq it has."""

    def __init__(self, name: str, rest: httpx.AsyncClient, ws_port: int):
        self.name, self.rest, self.ws_port = name, rest, ws_port
        self.seqs: list[int] = []
        self.connects = 0
        self.closes: list[str] = []
        self.connected = False
        self.stopping = False
        self.socket = None
        self.reconnected_at: float | None = None

    @property
    def last_seq(self) -> int:
        return self.seqs[-1] if self.seqs else 0

    async def _ticket(self) -> str | None:
        try:
            answer = await self.rest.post("/api/v1/realtime/ticket/")
        except httpx.HTTPError:
            return None
        return answer.json()["ticket"] if answer.status_code == 201 else None

    async def run(self) -> None:
        while not self.stopping:
            ticket = await self._ticket()
            if ticket is None:
                await asyncio.sleep(0.25)
                continue
            url = (
                f"ws://127.0.0.1:{self.ws_port}/ws/v1/events/?ticket={ticket}&after={self.last_seq}"
            )
            try:
                async with websockets.connect(url, open_timeout=10, max_queue=None) as socket:
                    self.connects += 1
                    self.connected = True
                    self.socket = socket
                    self.reconnected_at = time.monotonic()
                    async for raw in socket:
                        message = json.loads(raw)
                        if "seq" in message:
                            self.seqs.append(message["seq"])
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as error:
                self.closes.append(type(error).__name__)
            else:
                self.closes.append("closed")
            self.connected = False
            await asyncio.sleep(0.25)


class Timer:
    """The user's timer through REST: always a valid next action, so any non-2xx is a failure."""

    def __init__(self, rest: httpx.AsyncClient):
        self.rest = rest
        self.session_id: int | None = None
        self.paused = False
        self.answers: list[int] = []

    async def act(self) -> int:
        if self.session_id is None:
            path, body = "/api/v1/sessions/", {"planned_seconds": 1500}
        else:
            action = "start" if self.paused else "pause"
            if len(self.answers) % 5 == 4:
                action = "stop"
            path, body = f"/api/v1/sessions/{self.session_id}/{action}/", {}
        try:
            answer = await self.rest.post(path, json=body, headers={"Idempotency-Key": new_key()})
        except httpx.HTTPError:
            self.answers.append(0)
            return 0
        self.answers.append(answer.status_code)
        if answer.is_success:
            session = answer.json()
            ended = session["state"] in ("completed", "interrupted")
            self.session_id = None if ended else session["id"]
            self.paused = session["state"] == "paused"
        return answer.status_code


async def wait_for(predicate, timeout: float) -> float | None:
    """Seconds until predicate() held, or None."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return round(time.monotonic() - started, 2)
        await asyncio.sleep(0.05)
    return None


async def drill_body(drill: Drill, rest_port: int, ws_port: int) -> None:
    base_url = f"http://127.0.0.1:{rest_port}"
    token = guest_token(base_url)
    database = drill.pg.connect()

    def log_last_seq() -> int:
        row = database.execute("SELECT max(seq) FROM events_event").fetchone()
        return row[0] or 0

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=15) as rest:
        names = ("phone", "laptop", "tablet")
        followers = [SocketFollower(name, rest, ws_port) for name in names]
        tasks = [asyncio.create_task(follower.run()) for follower in followers]
        timer = Timer(rest)
        await wait_for(lambda: all(f.connected for f in followers), 20)

        def all_caught_up() -> bool:
            last = log_last_seq()
            return all(f.last_seq == last for f in followers)

        for _ in range(6):
            await timer.act()
        live = await wait_for(all_caught_up, 10)
        drill.check(live is not None, "phase 1: every socket got the events live")

        # --- Redis down --------------------------------------------------------------
        seq_before_outage = log_last_seq()
        drill.redis.kill()
        killed_at = time.monotonic()
        # The tablet loses its network now: it reconnects (ticket, after=last seq) when it can.
        tablet = followers[2]
        await tablet.socket.close()
        statuses = []
        for _ in range(OUTAGE_ACTIONS):
            statuses.append(await timer.act())
            await asyncio.sleep(0.2)
        leaderboard = await rest.get("/api/v1/leaderboard/?period=today")
        readyz = await rest.get("/readyz")
        ticket = await rest.post("/api/v1/realtime/ticket/")
        outage_seconds = round(time.monotonic() - killed_at, 1)
        events_in_outage = log_last_seq() - seq_before_outage
        sockets_open = [f.connected for f in followers]
        failures = [status for status in statuses if not 200 <= status < 300]
        drill.figures["outage"] = {
            "seconds": outage_seconds,
            "rest_actions": len(statuses),
            "rest_errors": len(failures),
            "events_written": events_in_outage,
            "sockets_open_during_outage": sockets_open,
            "readyz": [readyz.status_code, readyz.json().get("checks")],
            "leaderboard": leaderboard.status_code,
            "ticket": ticket.status_code,
        }
        drill.check(not failures, f"REST timer actions all 2xx with Redis down (got {failures})")
        drill.check(leaderboard.status_code == 200, "leaderboard 200 with Redis down")
        checks = readyz.json().get("checks", {})
        drill.check(
            readyz.status_code == 503
            and checks.get("database") == "ok"
            and checks.get("cache", "ok") != "ok"
            and checks.get("channel_layer", "ok") != "ok",
            f"/readyz 503 naming Redis's parts, database ok: {checks}",
        )
        drill.check(
            is_problem(ticket, 503, "service_unavailable") and "Retry-After" in ticket.headers,
            f"realtime ticket 503 service_unavailable with Retry-After ({ticket.status_code})",
        )
        drill.check(events_in_outage == OUTAGE_ACTIONS, "every outage action wrote its event")

        # --- Redis back -----------------------------------------------------------------
        drill.redis.start()
        redis_back_at = time.monotonic()
        caught_up = await wait_for(all_caught_up, CATCH_UP_TIMEOUT)
        if tablet.reconnected_at and tablet.reconnected_at > redis_back_at:
            drill.figures["tablet_reconnect_s_after_redis_back"] = round(
                tablet.reconnected_at - redis_back_at, 2
            )
        drill.check(tablet.connects == 2, f"the tablet reconnected once ({tablet.connects - 1})")
        drill.figures["catch_up_s_after_redis_back"] = caught_up
        drill.check(caught_up is not None, "every socket caught up with no new action")
        for _ in range(6):
            await timer.act()
        live_again = await wait_for(all_caught_up, 10)
        drill.figures["live_after_s"] = live_again
        drill.check(live_again is not None, "phase 3: live delivery resumed")

        for follower in followers:
            follower.stopping = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

        last = log_last_seq()
        for follower in followers:
            drill.figures[follower.name] = {
                "events": len(follower.seqs),
                "connects": follower.connects,
                "closes": follower.closes,
            }
            drill.check(
                follower.seqs == list(range(1, last + 1)),
                f"{follower.name} got seq 1..{last} in order, once each "
                f"(got {len(follower.seqs)}, distinct {len(set(follower.seqs))})",
            )
    drill.check_invariants(database)
    database.close()


def run() -> bool:
    with Drill("redis_down") as drill:
        rest_port, ws_port = free_port(58120), free_port(58121)
        drill.start_gunicorn(rest_port, workers=2)
        drill.start_uvicorn(ws_port)
        asyncio.run(drill_body(drill, rest_port, ws_port))
        return drill.report()


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
