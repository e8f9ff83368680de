"""Webhook benchmark: delivery throughput and commit-to-receipt latency from one worker
process to 100 endpoints on a local receiver, and the timer worker's completion lag
while 10 endpoints hang.

Starts (each a process of its own) a receiver on 127.0.0.1 (aiohttp: answers 204 on
/ok/<n> at once, and holds /hang/<n> for 30 s, past the worker's 10 s timeout), and
`manage.py run_webhook_worker` with WEBHOOK_ALLOW_PRIVATE_TARGETS=true (the receiver is
on 127.0.0.1). Seeds `--endpoints` users (bulk, a benchmark seed), one endpoint each on
/ok/<n>, all event types. Then:

1. throughput: with the worker stopped, `--backlog` events are recorded (event_record,
   so the outbox rows are written by the real reaction), spread over the users; the
   worker is started and the receiver's first and last receipt give deliveries a second;
2. latency: with the worker running (and warmed up: measured once a first event has
   arrived), events are committed one per transaction by `--producers` threads at
   `--rate` a second in all for `--seconds`; each event's commit time (taken right
   after the commit, in this process) is matched with its receipt (the receiver's
   clock: one machine) by endpoint and seq: p50, p99, max;
3. hanging endpoints: 10 more endpoints on /hang/<n>, on 10 of the users. The timer
   worker (`manage.py run_timer_worker`) completes `--sessions` sessions due over 10 s,
   of users with webhooks (the hanging ones included), once without the webhook worker
   running and once with it: completion lag = the `session.completed` event's `at`
   minus the session's planned end, p50/p99/max each time; and the receipts of the
   same events on the healthy endpoints (commit-to-receipt) while 10 hang.

Prints one JSON object.

    DJANGO_ENV=production DATABASE_URL=postgres://... .venv/bin/python -m bench.webhook_bench
"""

import argparse
import datetime
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import django

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pomodoro.env import use_settings_from_environment

use_settings_from_environment()
django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import TimerSettings, User  # noqa: E402
from bench.httpload import percentile  # noqa: E402
from events.log import event_record  # noqa: E402
from events.models import Event  # noqa: E402
from integrations.models import Webhook, WebhookDelivery  # noqa: E402
from integrations.services import webhook_secret_new  # noqa: E402
from sessions_app import services as session_services  # noqa: E402
from sessions_app.models import Session, SessionSegment  # noqa: E402

EMAIL = "hookbench{}@example.com"
HANGING = 10

RECEIVER = r"""
import asyncio, json, sys, time
from aiohttp import web

receipts = []

async def ok(request):
    body = await request.read()
    receipts.append((time.time(), request.match_info["n"], json.loads(body)["data"]["seq"]))
    return web.Response(status=204)

async def hang(request):
    await asyncio.sleep(30)
    return web.Response(status=204)

async def dump(request):
    return web.json_response(receipts)

async def reset(request):
    receipts.clear()
    return web.Response(status=204)

app = web.Application()
app.add_routes([web.post("/ok/{n}", ok), web.post("/hang/{n}", hang),
                web.get("/receipts", dump), web.post("/reset", reset)])
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str):
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
    return json.loads(body) if body else None


def start(*command: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        env={**os.environ, **(env or {})},
        start_new_session=True,
        stdout=subprocess.DEVNULL,  # this process prints the JSON
    )


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def start_webhook_worker() -> subprocess.Popen:
    return start(
        sys.executable,
        "manage.py",
        "run_webhook_worker",
        env={"WEBHOOK_ALLOW_PRIVATE_TARGETS": "true"},
    )


def seed(endpoints: int, base: str) -> list[User]:
    User.objects.filter(email__startswith="hookbench").delete()
    users = User.objects.bulk_create(
        User(email=EMAIL.format(n), display_name=f"hook {n}", password="!")
        for n in range(endpoints)
    )
    TimerSettings.objects.bulk_create(TimerSettings(user=user) for user in users)
    Webhook.objects.bulk_create(
        Webhook(user=user, url=f"{base}/ok/{n}", event_types=["*"], secret=webhook_secret_new())
        for n, user in enumerate(users)
    )
    return users


def wait_for(base: str, count: int, timeout: float) -> list:
    deadline = time.time() + timeout
    while True:
        receipts = http("GET", f"{base}/receipts")
        if len(receipts) >= count or time.time() > deadline:
            return receipts
        time.sleep(0.5)


def ms(values: list[float], q: float) -> float | None:
    found = percentile(sorted(values), q) if values else None
    return None if found is None else round(found * 1000, 1)


def throughput(users: list[User], base: str, backlog: int) -> dict:
    WebhookDelivery.objects.all().delete()
    http("POST", f"{base}/reset")
    per_transaction = 50
    for start_at in range(0, backlog, per_transaction):
        with transaction.atomic():
            for n in range(start_at, min(start_at + per_transaction, backlog)):
                event_record(user=users[n % len(users)], type="profile.updated", data={"n": n})
    worker = start_webhook_worker()
    try:
        receipts = wait_for(base, backlog, timeout=backlog / 50 + 60)
    finally:
        stop(worker)
    times = sorted(t for t, _n, _seq in receipts)
    seconds = times[-1] - times[0] if len(times) > 1 else None
    return {
        "endpoints": len(users),
        "deliveries": backlog,
        "received": len(receipts),
        "seconds": round(seconds, 2) if seconds else None,
        "deliveries_per_second": round(len(times) / seconds, 1) if seconds else None,
        "target_per_second": 500,
        "met": bool(seconds) and len(receipts) == backlog and len(times) / seconds >= 500,
    }


def latency(users: list[User], base: str, rate: float, seconds: float, producers: int) -> dict:
    WebhookDelivery.objects.all().delete()
    worker = start_webhook_worker()
    committed: dict[tuple[str, int], float] = {}
    index = {user.pk: str(n) for n, user in enumerate(users)}

    def produce(share: list[User], share_rate: float, began: float) -> None:
        sent = 0
        try:
            while time.time() - began < seconds:
                user = share[sent % len(share)]
                with transaction.atomic():
                    event = event_record(user=user, type="profile.updated", data={"n": sent})
                committed[(index[user.pk], event.seq)] = time.time()
                sent += 1
                pause = began + sent / share_rate - time.time()
                if pause > 0:
                    time.sleep(pause)
        finally:
            connection.close()

    try:
        # Measured from the first receipt on: the worker's start-up is not latency.
        with transaction.atomic():
            event_record(user=users[0], type="profile.updated", data={"warm-up": True})
        wait_for(base, 1, timeout=60)
        http("POST", f"{base}/reset")
        began = time.time()
        threads = [
            threading.Thread(target=produce, args=(users[n::producers], rate / producers, began))
            for n in range(producers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        produced_rate = len(committed) / (time.time() - began)
        receipts = wait_for(base, len(committed), timeout=30)
    finally:
        stop(worker)
    lags = [t - committed[(n, seq)] for t, n, seq in receipts if (n, seq) in committed]
    return {
        "rate_asked": rate,
        "producers": producers,
        "rate_committed": round(produced_rate, 1),
        "events": len(committed),
        "received": len(lags),
        "p50_ms": ms(lags, 0.5),
        "p99_ms": ms(lags, 0.99),
        "max_ms": round(max(lags) * 1000, 1) if lags else None,
        "target_p99_ms": 1000,
        "met": bool(lags) and len(lags) == len(committed) and ms(lags, 0.99) < 1000,
    }


def completions(users: list[User], count: int, spread: float) -> tuple[list[int], float]:
    """Sessions of the users that reach their planned end over the next `spread` seconds
    (moved into the past from a 25-minute focus: setup, not the services' path)."""
    Session.objects.filter(user__in=users).delete()
    ids = []
    lead = 2.0
    for n in range(count):
        user = users[n % len(users)]
        with transaction.atomic():
            session = session_services.session_create(user=user, planned_seconds=1500)
        target = timezone.now() + datetime.timedelta(seconds=lead + spread * n / count)
        shift = session.target_end_at - target
        Session.objects.filter(pk=session.pk).update(
            started_at=session.started_at - shift,
            running_since=session.running_since - shift,
            target_end_at=target,
        )
        SessionSegment.objects.filter(session=session).update(started_at=session.started_at - shift)
        ids.append(session.pk)
        if n % len(users) == len(users) - 1:
            # One active session a user: wait for this round to complete first.
            while Session.objects.filter(pk__in=ids, state="running").exists():
                time.sleep(0.2)
    return ids, lead + spread


def completion_lag(session_ids: list[int]) -> dict:
    lags = []
    for event in Event.objects.filter(type="session.completed"):
        session = event.data.get("session", {})
        if session.get("id") in session_ids:
            ended = datetime.datetime.fromisoformat(session["ended_at"])
            lags.append((event.at - ended).total_seconds())
    return {
        "sessions": len(session_ids),
        "completed": len(lags),
        "p50_ms": ms(lags, 0.5),
        "p99_ms": ms(lags, 0.99),
        "max_ms": round(max(lags) * 1000, 1) if lags else None,
    }


def hanging(users: list[User], base: str, sessions: int) -> dict:
    Webhook.objects.bulk_create(
        Webhook(
            user=users[n], url=f"{base}/hang/{n}", event_types=["*"], secret=webhook_secret_new()
        )
        for n in range(HANGING)
    )
    users = users[: max(HANGING * 2, sessions // 10)]
    timer = start(sys.executable, "manage.py", "run_timer_worker")
    try:
        Event.objects.filter(type="session.completed").delete()
        WebhookDelivery.objects.all().delete()
        ids, _ = completions(users, sessions, spread=10)
        baseline = completion_lag(ids)

        Event.objects.filter(type="session.completed").delete()
        WebhookDelivery.objects.all().delete()
        http("POST", f"{base}/reset")
        worker = start_webhook_worker()
        try:
            time.sleep(3)
            ids, _ = completions(users, sessions, spread=10)
            time.sleep(2)
            with_hanging = completion_lag(ids)
            receipts = wait_for(base, 1, timeout=5)
            stats = WebhookDelivery.objects.filter(webhook__url__contains="/hang/")
            hanging_attempts = sum(stats.values_list("attempts", flat=True))
        finally:
            stop(worker)
    finally:
        stop(timer)
    # Receipts on the healthy endpoints of the completions' events, from the event's
    # commit (its `at`, within a few ms of the commit) to the receiver.
    index = {str(n): user.pk for n, user in enumerate(users)}
    at = {
        (e.user_id, e.seq): e.at.timestamp()
        for e in Event.objects.filter(user__in=users).only("user_id", "seq", "at")
    }
    lags = [t - at[(index[n], seq)] for t, n, seq in receipts if (index.get(n), seq) in at]
    return {
        "hanging_endpoints": HANGING,
        "hanging_attempts": hanging_attempts,
        "completion_lag_without_webhook_worker": baseline,
        "completion_lag_with_hanging_endpoints": with_hanging,
        "healthy_endpoint_receipts": {
            "count": len(lags),
            "p50_ms": ms(lags, 0.5),
            "p99_ms": ms(lags, 0.99),
            "max_ms": round(max(lags) * 1000, 1) if lags else None,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoints", type=int, default=100)
    parser.add_argument("--backlog", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--producers", type=int, default=4, help="threads committing events")
    parser.add_argument("--parts", default="throughput,latency,hanging")
    args = parser.parse_args()
    random.seed(1)

    port = free_port()
    receiver = start(sys.executable, "-c", RECEIVER, str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                http("GET", f"{base}/receipts")
                break
            except OSError:
                time.sleep(0.1)
        users = seed(args.endpoints, base)
        parts = args.parts.split(",")
        result = {}
        if "throughput" in parts:
            print("== webhooks: throughput", file=sys.stderr)
            result["throughput"] = throughput(users, base, args.backlog)
        if "latency" in parts:
            print("== webhooks: latency", file=sys.stderr)
            result["latency"] = latency(users, base, args.rate, args.seconds, args.producers)
        if "hanging" in parts:
            print("== webhooks: hanging endpoints and the timer worker", file=sys.stderr)
            result["hanging"] = hanging(users, base, args.sessions)
    finally:
        stop(receiver)
        User.objects.filter(email__startswith="hookbench").delete()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
