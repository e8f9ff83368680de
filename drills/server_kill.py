"""Drill: kill -9 server processes while timer actions are in flight; no committed data
is lost, no transition is half done, and retries with the same Idempotency-Key take
effect exactly once.

Runs gunicorn (4 sync workers). CLIENTS threads do timer actions (create, pause,
start, stop, reset) for USERS users picked at random, so one user's requests also
race each other. Every POST carries a fresh Idempotency-Key; a request that got no
answer (connection cut) or a 5xx, or 409 idempotency_in_progress, is sent again with
the same key until it gets a real answer. Meanwhile gunicorn workers are killed with
SIGKILL one after another (the master starts new ones), then the whole gunicorn
(master and workers) is killed and started again.

Afterwards, against the database: every invariant of drills/invariants.py (one active
session per user, each session's fields agree with its segments, each transition
announced by exactly one event, each user's seqs 1..N); every 2xx answer a client got
is in the database (its session version announced by an event); every session in the
database was answered to a client (nothing committed behind a lost answer without the
retry replaying it); every key ended done, with the stored answer the client got.

IDEMPOTENCY_STALE_SECONDS is 3 here (60 by default): a key whose request died with
its process is in progress until then, and retries answer 409 meanwhile.

    .venv/bin/python -m drills.server_kill
"""

import os
import random
import sys
import threading
import time
from collections import Counter

import httpx

from drills.harness import Drill, free_port, guest_token, new_key

USERS = int(os.environ.get("DRILL_USERS", "24"))
CLIENTS = int(os.environ.get("DRILL_CLIENTS", "12"))
WORKER_KILLS = int(os.environ.get("DRILL_WORKER_KILLS", "8"))
STALE_SECONDS = 3
RETRY_DEADLINE = 60.0


class Answers:
    """What the clients were told, shared by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.final: list[dict] = []
        self.cut_requests = 0  # sent, no answer: the process died or the connection broke
        self.retried_statuses: Counter = Counter()
        self.active: dict[int, int | None] = {}

    def record(self, answer: dict) -> None:
        with self.lock:
            self.final.append(answer)


def client_loop(base_url: str, tokens: list[str], answers: Answers, stop: threading.Event):
    rng = random.Random()
    http = httpx.Client(base_url=f"{base_url}/api/v1", timeout=30)
    while not stop.is_set():
        user = rng.randrange(len(tokens))
        session_id = answers.active.get(user)
        if session_id is None:
            path, body = "/sessions/", {"planned_seconds": 1500}
        else:
            action = rng.choices(["pause", "start", "stop", "reset"], [4, 4, 1, 1])[0]
            path, body = f"/sessions/{session_id}/{action}/", {}
        key = new_key()
        headers = {"Authorization": f"Bearer {tokens[user]}", "Idempotency-Key": key}
        attempts, deadline = 0, time.monotonic() + RETRY_DEADLINE
        response = None
        while time.monotonic() < deadline:
            attempts += 1
            try:
                response = http.post(path, json=body, headers=headers)
            except httpx.TransportError:
                with answers.lock:
                    answers.cut_requests += 1
                response = None
                time.sleep(0.1)
                continue
            in_progress = response.status_code == 409 and (
                response.json().get("code") == "idempotency_in_progress"
            )
            if response.status_code >= 500 or in_progress:
                with answers.lock:
                    answers.retried_statuses[response.status_code] += 1
                time.sleep(0.2)
                continue
            break
        if response is None or response.status_code >= 500:
            answers.record({"key": key, "user": user, "path": path, "status": None})
            continue
        data = response.json() if response.content else {}
        answers.record(
            {
                "key": key,
                "user": user,
                "path": path,
                "status": response.status_code,
                "body": data,
                "attempts": attempts,
                "replayed": response.headers.get("Idempotent-Replayed") == "true",
            }
        )
        session = data if response.is_success else (
            data.get("active_session") or data.get("session")
        )  # fmt: skip
        if response.status_code == 404:
            answers.active[user] = None
        elif isinstance(session, dict) and "state" in session:
            active = session["state"] in ("running", "paused")
            answers.active[user] = session["id"] if active else None


def run() -> bool:
    extra = {"RATE_LIMITS_ENABLED": "false", "IDEMPOTENCY_STALE_SECONDS": str(STALE_SECONDS)}
    with Drill("server_kill", extra_env=extra) as drill:
        port = free_port(58130)
        base_url = f"http://127.0.0.1:{port}"
        gunicorn = drill.start_gunicorn(port, workers=4)
        tokens = [guest_token(base_url) for _ in range(USERS)]
        answers, stop = Answers(), threading.Event()
        threads = [
            threading.Thread(
                target=client_loop, args=(base_url, tokens, answers, stop), daemon=True
            )
            for _ in range(CLIENTS)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(2)
        killed_workers = 0
        for _ in range(WORKER_KILLS):
            workers = gunicorn.children()
            if workers:
                os.kill(random.choice(workers), 9)
                killed_workers += 1
            time.sleep(0.7)
        gunicorn.kill_group()
        time.sleep(0.5)
        restart_started = time.monotonic()
        drill.processes.remove(gunicorn)
        drill.start_gunicorn(port, workers=4)
        drill.figures["gunicorn_restart_s"] = round(time.monotonic() - restart_started, 2)
        time.sleep(3)
        stop.set()
        for thread in threads:
            thread.join(RETRY_DEADLINE + 35)
        drill.figures["seconds"] = round(time.monotonic() - started, 1)

        final = answers.final
        statuses = Counter(str(answer["status"]) for answer in final)
        retried = [a for a in final if a.get("attempts", 1) > 1]
        drill.figures.update(
            actions=len(final),
            answers=dict(statuses),
            worker_kills=killed_workers,
            whole_gunicorn_kills=1,
            requests_cut=answers.cut_requests,
            retry_answers=dict(answers.retried_statuses),
            retried_actions=len(retried),
            retried_then_replayed=sum(1 for a in retried if a["replayed"]),
        )
        drill.check(answers.cut_requests > 0, "some requests were cut mid-flight")
        drill.check(statuses.get("None", 0) == 0, "every action got a real answer in time")
        drill.check(
            not [s for s in statuses if s.startswith("5")], "no action ended on a 5xx answer"
        )

        database = drill.pg.connect()
        drill.check_invariants(database)

        announced = set()
        for session, new_session in database.execute(
            "SELECT data->'session', data->'new_session' FROM events_event"
            " WHERE type LIKE 'session.%'"
        ):
            for announced_session in (session, new_session):
                if announced_session:
                    announced.add((announced_session["id"], announced_session["version"]))
        answered_2xx = [a for a in final if a["status"] and 200 <= a["status"] < 300]
        lost = [
            (a["body"]["id"], a["body"]["version"])
            for a in answered_2xx
            if (a["body"]["id"], a["body"]["version"]) not in announced
        ]
        drill.check(
            not lost, f"every 2xx answer is in the database ({len(lost)} missing: {lost[:5]})"
        )

        heard_of = set()
        for answer in final:
            body = answer.get("body") or {}
            for session in (body, body.get("active_session"), body.get("session")):
                if isinstance(session, dict) and "id" in session:
                    heard_of.add(session["id"])
        in_database = {row[0] for row in database.execute("SELECT id FROM sessions_app_session")}
        unheard = sorted(in_database - heard_of)
        drill.check(not unheard, f"every session in the database was answered ({unheard[:5]})")
        drill.figures["sessions"] = len(in_database)
        drill.figures["events"] = database.execute("SELECT count(*) FROM events_event").fetchone()[
            0
        ]

        records = {
            key: (state, status, body)
            for key, state, status, body in database.execute(
                "SELECT key, state, response_status, response_body FROM pomodoro_idempotencyrecord"
            )
        }
        in_progress = [key for key, (state, _, _) in records.items() if state != "done"]
        drill.check(not in_progress, f"no key left in progress ({len(in_progress)})")
        mismatched = [
            a["key"]
            for a in final
            if a["status"]
            and (
                a["key"] not in records
                or records[a["key"]][1] != a["status"]
                or (records[a["key"]][2] or {}).get("version") != a["body"].get("version")
            )
        ]
        drill.check(not mismatched, f"each key's stored answer is the one sent ({mismatched[:5]})")
        database.close()
        return drill.report()


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
