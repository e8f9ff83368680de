"""Team benchmark: a team of 200 members, its live status board, its leaderboards, and a
member's session changes reaching every member's socket.

Seeds (bulk_create, a benchmark seed, not the services' path) `--members` users
(`teambench<N>@example.com`, in 8 time zones) in one team, each with focus time earlier
this week, most with some today, and a few with an active session now (running focus,
running break, paused). Then:

- through a running HTTP server (`--port`, gunicorn sync workers in scripts/bench),
  `--requests` timed requests each, after 5 of warm-up, of `GET teams/{id}/status/` and
  `GET teams/{id}/leaderboard/?period=today|week|all`, sequentially, as one member;
- every member opens one socket (tickets from `POST realtime/ticket/`), alternating
  between two uvicorn processes (`--ws-port-a`, `--ws-port-b`), and one member starts
  and pauses a session `--rounds` times through REST on `--port`, one action at a time.
  For every action and socket it records the time from the moment the REST request was
  sent to the receipt of the member's `team.member_status` (the message carries no
  `at`; client and sockets are this process, one clock), and also from the moment the
  REST answer came back (negative when the push arrived first: it is published on
  commit, before the answer is written). "All sockets" is the time until the last of
  the sockets got it. A socket with nothing after 2 s counts as missing.

Prints one JSON object.

    DJANGO_ENV=production DATABASE_URL=postgres://... .venv/bin/python -m bench.team_bench \
        --port 8100 --ws-port-a 8101 --ws-port-b 8102
"""

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import random
import sys
import time

import django

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pomodoro.env import use_settings_from_environment

use_settings_from_environment()
django.setup()

import websockets  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import TimerSettings, User  # noqa: E402
from accounts.tokens import token_pair_for  # noqa: E402
from bench.httpload import Connection, open_events_socket, percentile  # noqa: E402
from sessions_app.models import Session, SessionSegment  # noqa: E402
from teams.models import Membership, Team  # noqa: E402

EMAIL = "teambench{}@example.com"
TEAM_NAME = "Bench team"
ZONES = (
    "UTC",
    "Europe/Paris",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)
TARGETS_MS = {"status": 50, "leaderboard_today": 50, "leaderboard_week": 50}
TARGET_PUSH_P99_MS = 150
WAIT_FOR_PUSH = 2.0
API = "/api/v1/"


# --- Seed --------------------------------------------------------------------------


def _users(count: int) -> list[User]:
    emails = [EMAIL.format(n) for n in range(count)]
    existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    password = make_password("bench passphrase 1")
    missing = [
        User(
            email=email,
            password=password,
            display_name=f"Team bench {n}",
            timezone=ZONES[n % len(ZONES)],
            day_starts_at=datetime.time(4 if n % 5 == 1 else 0),
            week_starts_on=6 if n % 7 == 3 else 0,
            leaderboard_opt_out=n % 20 == 7,
        )
        for n, email in enumerate(emails)
        if email not in existing
    ]
    created = User.objects.bulk_create(missing, batch_size=1000)
    TimerSettings.objects.bulk_create(TimerSettings(user=user) for user in created)
    by_email = {user.email: user for user in User.objects.filter(email__in=emails)}
    return [by_email[email] for email in emails]


def _ended(user, kind, start, seconds) -> Session:
    return Session(
        user=user,
        kind=kind,
        state=Session.State.COMPLETED,
        planned_seconds=seconds,
        started_at=start,
        ended_at=start + datetime.timedelta(seconds=seconds),
        closed_running_time=datetime.timedelta(seconds=seconds),
    )


def _active(user, kind, now, n) -> tuple[Session, tuple]:
    """An active session begun 2 minutes ago: running (members 1 to 12 focus, 13 to 16
    break) or paused (17 to 20)."""
    start = now - datetime.timedelta(minutes=2)
    planned = 1500 if kind == "focus" else 300
    session = Session(
        user=user, kind=kind, planned_seconds=planned, started_at=start, ended_at=None
    )
    if n <= 16:
        session.state = Session.State.RUNNING
        session.running_since = start
        session.target_end_at = start + datetime.timedelta(seconds=planned)
        session.closed_running_time = datetime.timedelta(0)
        return session, ((start, None),)
    session.state = Session.State.PAUSED
    session.closed_running_time = datetime.timedelta(minutes=1)
    return session, ((start, start + datetime.timedelta(minutes=1)),)


def seed(members: int) -> dict:
    """(Re)creates the team, its memberships and the members' sessions."""
    started = time.perf_counter()
    now = timezone.now()
    rng = random.Random(6)
    users = _users(members)
    with transaction.atomic():
        Team.objects.filter(name=TEAM_NAME).delete()
        Session.objects.filter(user__in=users).delete()
        team = Team.objects.create(name=TEAM_NAME)
        Membership.objects.bulk_create(
            Membership(
                team=team,
                user=user,
                role="owner" if n == 0 else ("admin" if n < 5 else "member"),
                joined_at=now - datetime.timedelta(days=10, seconds=-n),
            )
            for n, user in enumerate(users)
        )
        history: list[tuple[Session, tuple]] = []
        minutes = datetime.timedelta(minutes=1)
        for n, user in enumerate(users):
            for _ in range(3):  # earlier this week (and before)
                start = now - rng.randint(26 * 60, 8 * 24 * 60) * minutes
                history.append((_ended(user, "focus", start, 1500), ()))
            if n % 4 != 3:  # today, in the last hours
                for j in range(rng.randint(1, 3)):
                    start = now - (rng.randint(40, 10 * 60) + 30 * j) * minutes
                    history.append((_ended(user, "focus", start, rng.randint(600, 1500)), ()))
            if 1 <= n <= 20:
                history.append(_active(user, "short_break" if 13 <= n <= 16 else "focus", now, n))
        sessions = Session.objects.bulk_create([s for s, _ in history], batch_size=5000)
        SessionSegment.objects.bulk_create(
            (
                SessionSegment(session=session, user_id=session.user_id, started_at=a, ended_at=b)
                for session, (_, parts) in zip(sessions, history, strict=True)
                for a, b in (parts or ((session.started_at, session.ended_at),))
            ),
            batch_size=5000,
        )
    connection.cursor().execute("ANALYZE")
    return {
        "members": Membership.objects.filter(team=team).count(),
        "sessions": Session.objects.filter(user__in=users).count(),
        "active_sessions": Session.objects.filter(
            user__in=users, state__in=Session.ACTIVE_STATES
        ).count(),
        "seed_seconds": round(time.perf_counter() - started, 1),
        "team_id": team.pk,
    }


# --- Measure -----------------------------------------------------------------------


def figures(seconds: list[float], target_ms: float | None = None) -> dict:
    result = {
        "count": len(seconds),
        "p50_ms": round(percentile(seconds, 0.50) * 1000, 1),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 1),
        "max_ms": round(max(seconds) * 1000, 1) if seconds else None,
    }
    if target_ms is not None:
        result["target_p99_ms"] = target_ms
        result["met"] = result["p99_ms"] < target_ms
    return result


async def measure_reads(port: int, token: str, team_id: int, requests: int) -> dict:
    cases = {
        "status": f"{API}teams/{team_id}/status/",
        "leaderboard_today": f"{API}teams/{team_id}/leaderboard/?period=today",
        "leaderboard_week": f"{API}teams/{team_id}/leaderboard/?period=week",
        "leaderboard_all": f"{API}teams/{team_id}/leaderboard/?period=all",
    }
    server = Connection("127.0.0.1", port)
    results = {}
    try:
        for name, path in cases.items():
            for _ in range(5):
                await server.request("GET", path, token=token)
            timings = []
            for _ in range(requests):
                status, body, took = await server.request("GET", path, token=token)
                assert status == 200, (path, status, body)
                timings.append(took)
            results[name] = figures(timings, TARGETS_MS.get(name))
        _, body, _ = await server.request("GET", cases["status"], token=token)
        results["status_rows"] = len(body["members"])
        states: dict[str, int] = {}
        for row in body["members"]:
            states[row["state"]] = states.get(row["state"], 0) + 1
        results["status_states"] = states
    finally:
        await server.close()
    return results


class Round:
    def __init__(self, state: str, sockets: int):
        self.state = state
        self.sent = time.perf_counter()
        self.answered: float | None = None
        self.received: dict[int, float] = {}
        self.sockets = sockets
        self.all_in = asyncio.Event()


class MemberSocket:
    def __init__(self, index: int, port: int, driver_id: int, rounds: list):
        self.index, self.port, self.driver_id, self.rounds = index, port, driver_id, rounds
        self.socket = None
        self.reader: asyncio.Task | None = None

    async def open(self, ticket: str) -> None:
        self.socket = await open_events_socket(self.port, ticket)
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.socket:
                received = time.perf_counter()
                message = json.loads(raw)
                if message.get("type") != "team.member_status":
                    continue
                data = message["data"]
                current = self.rounds[-1] if self.rounds else None
                if (
                    current is None
                    or data["user"]["id"] != self.driver_id
                    or data["state"] != current.state
                    or self.index in current.received
                ):
                    continue
                current.received[self.index] = received
                if len(current.received) == current.sockets:
                    current.all_in.set()
        except websockets.ConnectionClosed:
            pass


async def measure_push(args, tokens: list[str], driver_id: int) -> dict:
    api = Connection("127.0.0.1", args.port)
    rounds: list[Round] = []
    sockets = []
    ws_ports = (args.ws_port_a, args.ws_port_b)
    opened = time.perf_counter()
    for index, token in enumerate(tokens):
        status, body, _ = await api.request("POST", f"{API}realtime/ticket/", token=token)
        assert status == 201, (status, body)
        socket = MemberSocket(index, ws_ports[index % 2], driver_id, rounds)
        await socket.open(body["ticket"])
        sockets.append(socket)
    open_seconds = time.perf_counter() - opened
    await asyncio.sleep(1)

    driver = tokens[0]
    status, body, _ = await api.request(
        "POST", f"{API}sessions/", token=driver, body={"kind": "focus"}
    )
    assert status == 201, (status, body)
    session_id = body["id"]
    await asyncio.sleep(0.5)
    results = {}
    # The new session runs: pause it first, so that every round is start then pause.
    status, body, _ = await api.request("POST", f"{API}sessions/{session_id}/pause/", token=driver)
    assert status == 200, (status, body)
    await asyncio.sleep(0.5)
    done: dict[str, list[Round]] = {"start": [], "pause": []}
    for _ in range(args.rounds):
        for action, state in (("start", "focus"), ("pause", "paused")):
            current = Round(state, len(sockets))
            rounds.append(current)
            status, body, _ = await api.request(
                "POST", f"{API}sessions/{session_id}/{action}/", token=driver
            )
            current.answered = time.perf_counter()
            assert status == 200, (status, body)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(current.all_in.wait(), WAIT_FOR_PUSH)
            done[action].append(current)
            await asyncio.sleep(0.05)
    await api.request("POST", f"{API}sessions/{session_id}/stop/", token=driver)

    for action, measured in done.items():
        from_sent = [t - r.sent for r in measured for t in r.received.values()]
        from_answer = [t - r.answered for r in measured for t in r.received.values()]
        last_socket = [max(r.received.values()) - r.sent for r in measured if r.received]
        results[action] = {
            "actions": len(measured),
            "deliveries": len(from_sent),
            "missing": sum(len(sockets) - len(r.received) for r in measured),
            "from_request_sent": figures(
                from_sent, TARGET_PUSH_P99_MS if action == "start" else None
            ),
            "from_answer_received": figures(from_answer),
            "until_last_socket_from_request_sent": figures(last_socket),
        }
    for socket in sockets:
        await socket.socket.close()
    await api.close()
    return {"sockets": len(sockets), "open_seconds": round(open_seconds, 1), **results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--port", type=int, default=8100, help="HTTP server (gunicorn)")
    parser.add_argument("--ws-port-a", type=int, default=8101)
    parser.add_argument("--ws-port-b", type=int, default=8102)
    parser.add_argument("--skip-push", action="store_true")
    args = parser.parse_args()

    result: dict = {"seed": seed(args.members)}
    users = list(
        Membership.objects.filter(team_id=result["seed"]["team_id"])
        .order_by("joined_at")
        .select_related("user")
    )
    tokens = [token_pair_for(m.user)["access"] for m in users]
    # Read as a plain member with an active session of their own.
    result["reads"] = asyncio.run(
        measure_reads(args.port, tokens[7], result["seed"]["team_id"], args.requests)
    )
    if not args.skip_push:
        result["push"] = asyncio.run(measure_push(args, tokens, users[0].user_id))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
