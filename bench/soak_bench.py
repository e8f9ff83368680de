"""Soak: minutes of mixed load on the production set-up, every user's socket connected.

Against gunicorn (`--http-port`), two uvicorn processes (`--ws-ports`) and the timer
worker, as `scripts/bench soak` starts them:

- every user keeps one socket open (alternating between the uvicorn processes),
  opened with `after=<their last seq>`, and reopened (counted as an error) if it closes;
- timer actions at `--action-rate` per second, open loop, one at a time per user: three
  users in four run stopwatches (create, then pause/start/stop at random); every fourth
  user creates a focus session of `--focus-seconds` and leaves it to the timer worker,
  creating the next one once its socket got the `session.completed`;
- reads at `--read-rate` per second: history (`GET sessions/`), the event log, the week's
  summary, a 30-day heatmap, today's leaderboard, and the status of a team of the first
  `--team-size` users (created through the services on the first run).

Errors, which must all be zero: HTTP answers other than the expected 200/201 (or a
failed connection), sockets that closed, events a socket missed, got twice or out of
order (checked at the end against each user's log), and timed sessions not completed
by the worker at exactly their planned end. It also reports, per `--bucket` seconds,
the p50/p99 of the HTTP requests and of the events' commit-to-socket time, the
worker's completion lag (event `at` minus the planned end), and the resident memory of
every server process (`--pids name=pid`, a gunicorn master's workers included) after
`--warmup` seconds of load and at the end. Prints one JSON object.
"""

import argparse
import asyncio
import datetime
import itertools
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
from django.db import transaction  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.httpload import Connection, open_events_socket, percentile  # noqa: E402
from teams import services as team_services  # noqa: E402
from teams.models import Membership, Team  # noqa: E402

TEAM_NAME = "Soak team"
HOST = "127.0.0.1"


# --- Set-up ------------------------------------------------------------------------


def soak_team(emails: list[str]) -> int:
    """A team of these users (the first is its owner), created through the services once."""
    owner = User.objects.get(email=emails[0])
    team = Team.objects.filter(name=TEAM_NAME, memberships__user=owner).first()
    if team is None:
        team = team_services.team_create(user=owner, name=TEAM_NAME).team
    present = set(Membership.objects.filter(team=team).values_list("user__email", flat=True))
    missing = [email for email in emails if email not in present]
    if missing:
        code = team_services.invite_create(user=owner, team_id=team.pk).code
        for user in User.objects.filter(email__in=missing):
            with transaction.atomic():
                team_services.team_join(user=user, code=code)
    return team.pk


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def processes(named: dict[str, int]) -> dict[str, int]:
    """Every named process and its children (gunicorn's and uvicorn's workers)."""
    found = {}
    for name, pid in named.items():
        found[name] = pid
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as handle:
                children = handle.read().split()
        except FileNotFoundError:
            children = []
        for number, child in enumerate(children, start=1):
            found[f"{name}.{number}"] = int(child)
    return found


def memory_mb(pids: dict[str, int]) -> dict[str, float]:
    return {name: round(rss_kib(pid) / 1024, 1) for name, pid in pids.items()}


# --- Load --------------------------------------------------------------------------


class Recorder:
    def __init__(self, started: float, bucket: float):
        self.started, self.bucket = started, bucket
        self.http: list[tuple[float, str, float]] = []  # (at, kind, seconds)
        self.events: list[tuple[float, float]] = []  # (at, commit to receipt)
        self.completion_lag: list[tuple[float, float]] = []
        self.errors: dict[str, int] = {}
        self.error_sample: list = []
        self.recording = False

    def error(self, kind: str, detail) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
        if len(self.error_sample) < 10:
            self.error_sample.append([kind, str(detail)[:300]])

    def request(self, kind: str, seconds: float) -> None:
        if self.recording:
            self.http.append((time.perf_counter() - self.started, kind, seconds))


class SoakUser:
    def __init__(self, index: int, token: str, ws_port: int, timed: bool):
        self.index, self.token, self.ws_port, self.timed = index, token, ws_port, timed
        self.start_seq = 0
        self.seqs: list[int] = []
        self.session_id: int | None = None
        self.waiting_for_completion: int | None = None
        self.timed_sessions: list[int] = []
        self.completed: set[int] = set()
        self.socket = None
        self.reader: asyncio.Task | None = None
        self.busy = False


async def request(recorder, kind, port, method, path, token, body=None, expect=200):
    connection = Connection(HOST, port)
    try:
        status, answer, took = await connection.request(method, path, token=token, body=body)
    except (OSError, asyncio.IncompleteReadError) as error:
        recorder.error(f"{kind}: connection", error)
        return None
    finally:
        await connection.close()
    recorder.request(kind, took)
    if status != expect:
        recorder.error(f"{kind}: HTTP {status}", answer)
        return None
    return answer


async def open_socket(user: SoakUser, recorder: Recorder, http_port: int, stopping) -> None:
    ticket = await request(
        recorder, "ticket", http_port, "POST", "/api/v1/realtime/ticket/", user.token, expect=201
    )
    if ticket is None:
        return
    after = user.seqs[-1] if user.seqs else user.start_seq
    user.socket = await open_events_socket(user.ws_port, ticket["ticket"], after)
    user.reader = asyncio.create_task(read_socket(user, recorder, http_port, stopping))


async def read_socket(user: SoakUser, recorder: Recorder, http_port: int, stopping) -> None:
    try:
        async for raw in user.socket:
            received = time.time()
            message = json.loads(raw)
            if "seq" not in message:
                continue  # team.member_status and the like
            user.seqs.append(message["seq"])
            at = datetime.datetime.fromisoformat(message["at"].replace("Z", "+00:00"))
            if recorder.recording:
                since_start = time.perf_counter() - recorder.started
                recorder.events.append((since_start, received - at.timestamp()))
            if message["type"] == "session.completed":
                session = message["data"]["session"]
                user.completed.add(session["id"])
                if session["id"] == user.waiting_for_completion:
                    user.waiting_for_completion = None
                ended = datetime.datetime.fromisoformat(session["ended_at"].replace("Z", "+00:00"))
                if recorder.recording:
                    recorder.completion_lag.append(
                        (time.perf_counter() - recorder.started, (at - ended).total_seconds())
                    )
    except websockets.ConnectionClosed as closed:
        if not stopping.is_set():
            recorder.error("socket closed", closed)
    if not stopping.is_set():
        try:
            await open_socket(user, recorder, http_port, stopping)
        except (OSError, websockets.WebSocketException) as error:
            recorder.error("socket reopen failed", error)


async def timer_action(user: SoakUser, recorder: Recorder, port: int, focus_seconds: int) -> None:
    sessions = "/api/v1/sessions/"
    if user.timed:
        if user.waiting_for_completion is not None:
            return
        body = {"kind": "focus", "planned_seconds": focus_seconds}
        answer = await request(recorder, "create", port, "POST", sessions, user.token, body, 201)
        if answer is not None:
            user.waiting_for_completion = answer["id"]
            user.timed_sessions.append(answer["id"])
        return
    if user.session_id is None:
        body = {"kind": "stopwatch"}
        answer = await request(recorder, "create", port, "POST", sessions, user.token, body, 201)
        if answer is not None:
            user.session_id = answer["id"]
        return
    action = random.choice(("pause", "start", "stop"))
    path = f"{sessions}{user.session_id}/{action}/"
    answer = await request(recorder, action, port, "POST", path, user.token)
    if answer is not None and action == "stop":
        user.session_id = None


async def read(user: SoakUser, recorder: Recorder, port: int, team_id: int, team_size: int) -> None:
    today = datetime.date.today()
    choices = [
        ("history", "/api/v1/sessions/?page_size=50"),
        ("events", f"/api/v1/events/?after={max(0, (user.seqs or [user.start_seq])[-1] - 20)}"),
        ("summary", "/api/v1/analytics/summary/?period=week"),
        (
            "heatmap",
            f"/api/v1/analytics/heatmap/?from={today - datetime.timedelta(days=29)}&to={today}",
        ),
        ("leaderboard", "/api/v1/leaderboard/?period=today"),
    ]
    if user.index < team_size:
        choices.append(("team_status", f"/api/v1/teams/{team_id}/status/"))
    kind, path = random.choice(choices)
    await request(recorder, kind, port, "GET", path, user.token)


async def drive(users, recorder, args, team_id, deadline) -> None:
    rate = args.action_rate + args.read_rate
    interval = 1.0 / rate
    next_at = time.perf_counter()
    pending: set[asyncio.Task] = set()
    while time.perf_counter() < deadline:
        user = random.choice(users)
        if not user.busy:
            user.busy = True
            if random.random() < args.action_rate / rate:
                work = timer_action(user, recorder, args.http_port, args.focus_seconds)
            else:
                work = read(user, recorder, args.http_port, team_id, args.team_size)
            task = asyncio.create_task(work)
            task.add_done_callback(lambda _t, u=user: setattr(u, "busy", False))
            pending.add(task)
            task.add_done_callback(pending.discard)
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    await asyncio.gather(*pending, return_exceptions=True)


# --- Report ------------------------------------------------------------------------


def ms(values: list[float], fraction: float) -> float | None:
    return round(percentile(values, fraction) * 1000, 1) if values else None


def by_bucket(recorder: Recorder, seconds: float) -> list[dict]:
    rows = []
    buckets = max(1, int(seconds // recorder.bucket))
    for number in range(buckets):
        low, high = number * recorder.bucket, (number + 1) * recorder.bucket
        if number == buckets - 1:
            high = float("inf")
        http = [took for at, _kind, took in recorder.http if low <= at < high]
        actions = [
            took
            for at, kind, took in recorder.http
            if low <= at < high and kind in ("create", "pause", "start", "stop")
        ]
        events = [lag for at, lag in recorder.events if low <= at < high]
        rows.append(
            {
                "from_s": round(low),
                "requests": len(http),
                "http_p50_ms": ms(http, 0.5),
                "http_p99_ms": ms(http, 0.99),
                "actions_p99_ms": ms(actions, 0.99),
                "events_delivered": len(events),
                "event_p50_ms": ms(events, 0.5),
                "event_p99_ms": ms(events, 0.99),
            }
        )
    return rows


async def run(args) -> dict:
    with open(args.tokens) as handle:
        tokens = json.load(handle)[: args.users]
    emails = [f"bench{n}@example.com" for n in range(len(tokens))]
    team_id = await asyncio.to_thread(soak_team, emails[: args.team_size])
    ws_ports = [int(port) for port in args.ws_ports.split(",")]
    users = [
        SoakUser(n, token, ws_ports[n % len(ws_ports)], timed=n % 4 == 3)
        for n, token in enumerate(tokens)
    ]
    stopping = asyncio.Event()
    recorder = Recorder(time.perf_counter(), args.bucket)
    api = Connection(HOST, args.http_port)
    for user in users:
        _status, body, _ = await api.request("GET", "/api/v1/events/?after=0", token=user.token)
        user.start_seq = body["last_seq"]
    await api.close()
    opening = time.perf_counter()
    for user in users:
        await open_socket(user, recorder, args.http_port, stopping)
    sockets_opened_in_s = round(time.perf_counter() - opening, 1)

    named = dict(item.split("=") for item in args.pids.split(",")) if args.pids else {}
    pids = processes({name: int(pid) for name, pid in named.items()})

    # Warm-up: imports, connection pools, caches; memory is taken after it.
    await drive(users, recorder, args, team_id, time.perf_counter() + args.warmup)
    memory_start = memory_mb(pids)
    memory_series = [{"at_s": 0, **memory_start}]
    recorder.started = time.perf_counter()
    recorder.recording = True
    deadline = recorder.started + args.seconds

    async def sample_memory():
        while True:
            await asyncio.sleep(recorder.bucket)
            at = round(time.perf_counter() - recorder.started)
            memory_series.append({"at_s": at, **memory_mb(pids)})

    sampler = asyncio.create_task(sample_memory())
    await drive(users, recorder, args, team_id, deadline)
    measured = time.perf_counter() - recorder.started
    recorder.recording = False
    sampler.cancel()
    await asyncio.sleep(max(3.0, args.focus_seconds / 2))  # the last events and completions
    memory_end = memory_mb(pids)

    # Every event of the run reached the socket once and in order.
    stopping.set()
    api = Connection(HOST, args.http_port)
    lost = duplicated = out_of_order = 0
    for user in users:
        expected, after = [], user.start_seq
        while True:
            _status, body, _ = await api.request(
                "GET", f"/api/v1/events/?after={after}", token=user.token
            )
            expected += [event["seq"] for event in body["results"]]
            if not body["results"]:
                break
            after = expected[-1]
        got = user.seqs
        duplicated += len(got) - len(set(got))
        lost += len(set(expected) - set(got))
        out_of_order += sum(1 for a, b in itertools.pairwise(got) if b <= a)
    # Timed sessions whose end passed are completed (the worker's target: within a
    # second). A completion the socket missed is already counted as a lost event.
    for user in users:
        for session_id in user.timed_sessions:
            if session_id in user.completed:
                continue
            _status, body, _ = await api.request(
                "GET", f"/api/v1/sessions/{session_id}/", token=user.token
            )
            if body["state"] == "running" and body["remaining_seconds"] < -1:
                recorder.error("timed session not completed by the worker", body)
    await api.close()
    for user in users:
        if user.reader is not None:
            user.reader.cancel()
        if user.socket is not None:
            await user.socket.close()
    for kind, count in (("lost", lost), ("duplicated", duplicated), ("out of order", out_of_order)):
        if count:
            recorder.errors[f"events {kind}"] = count

    requests = len(recorder.http)
    buckets = by_bucket(recorder, measured)
    lags = [lag for _at, lag in recorder.completion_lag]
    return {
        "seconds": round(measured, 1),
        "warmup_s": args.warmup,
        "users": len(users),
        "sockets": len(users),
        "sockets_opened_in_s": sockets_opened_in_s,
        "team_size": args.team_size,
        "action_rate": args.action_rate,
        "read_rate": args.read_rate,
        "requests": requests,
        "requests_per_s": round(requests / measured, 1),
        "by_kind": {
            kind: {
                "count": len(values),
                "p50_ms": ms(values, 0.5),
                "p99_ms": ms(values, 0.99),
            }
            for kind, values in sorted(
                {
                    kind: [took for _at, k, took in recorder.http if k == kind]
                    for kind in {k for _a, k, _t in recorder.http}
                }.items()
            )
        },
        "events_delivered": len(recorder.events),
        "event_p50_ms": ms([lag for _at, lag in recorder.events], 0.5),
        "event_p99_ms": ms([lag for _at, lag in recorder.events], 0.99),
        "timed_sessions": sum(len(user.timed_sessions) for user in users),
        "completion_lag_ms": {
            "count": len(lags),
            "p50": ms(lags, 0.5),
            "p99": ms(lags, 0.99),
            "max": round(max(lags) * 1000, 1) if lags else None,
        },
        "errors": sum(recorder.errors.values()),
        "errors_by_kind": recorder.errors,
        "error_sample": recorder.error_sample,
        "buckets_s": recorder.bucket,
        "by_bucket": buckets,
        "memory_mb_start": memory_start,
        "memory_mb_end": memory_end,
        "memory_mb_growth": {
            name: round(memory_end.get(name, 0) - memory_start[name], 1) for name in memory_start
        },
        "memory_mb_series": memory_series,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--http-port", type=int, default=8100)
    parser.add_argument("--ws-ports", default="8101,8102")
    parser.add_argument("--pids", default="", help="name=pid,... of the server processes")
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--warmup", type=float, default=20)
    parser.add_argument(
        "--bucket",
        type=float,
        default=0,
        help="seconds per row (default 60, or a sixth of a run under 6 minutes)",
    )
    parser.add_argument("--action-rate", type=float, default=20)
    parser.add_argument("--read-rate", type=float, default=10)
    parser.add_argument("--focus-seconds", type=int, default=30)
    parser.add_argument("--team-size", type=int, default=20)
    args = parser.parse_args()
    args.bucket = args.bucket or (60 if args.seconds >= 360 else max(5, args.seconds / 6))
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
