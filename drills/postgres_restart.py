"""Drill: restart PostgreSQL under load; the service recovers without a restart of its own.

Runs gunicorn (sync workers) and uvicorn, with the timer worker, and keeps clients
doing timer actions on both. Restarts PostgreSQL twice (`pg_ctl restart -m fast`,
then `-m immediate`, a crash and recovery), and checks that requests during the
restart end quickly as 2xx or 503 problem+json (code service_unavailable, with
Retry-After), never a 500 nor a hang, that both servers answer 2xx again within
seconds of PostgreSQL being back, that the worker still completes a session that
falls due after the restarts, and that the invariants of drills/invariants.py hold.

    .venv/bin/python -m drills.postgres_restart
"""

import sys
import threading
import time
from collections import Counter

import httpx

from drills.harness import Drill, free_port, guest_token, is_problem, new_key, wait_until

CLIENTS_PER_SERVER = 3
REQUEST_TIMEOUT = 30.0
# A request answered later than this during a restart counts as a hang.
HANG_SECONDS = 12.0


class TimerClient(threading.Thread):
    """One user doing timer actions in a loop, recording (started, ended, outcome)."""

    def __init__(self, base_url: str, token: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.http = httpx.Client(
            base_url=f"{base_url}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=REQUEST_TIMEOUT,
        )
        self.stop = stop
        self.records: list[tuple[float, float, str]] = []
        self.session_id: int | None = None
        self.step = 0

    def _post(self, path: str, body: dict | None = None) -> httpx.Response | None:
        started = time.monotonic()
        try:
            response = self.http.post(path, json=body or {}, headers={"Idempotency-Key": new_key()})
        except httpx.HTTPError as error:
            self.records.append((started, time.monotonic(), f"transport:{type(error).__name__}"))
            return None
        outcome = str(response.status_code)
        if response.status_code == 503:
            good = is_problem(response, 503, "service_unavailable") and response.headers.get(
                "Retry-After"
            )
            outcome = "503" if good else "503-not-problem"
        self.records.append((started, time.monotonic(), outcome))
        return response

    def run(self) -> None:
        while not self.stop.is_set():
            self.step += 1
            if self.session_id is None:
                response = self._post("/sessions/", {"planned_seconds": 1500})
                if response is not None and response.status_code == 201:
                    self.session_id = response.json()["id"]
                elif response is not None and response.status_code == 409:
                    active = response.json().get("active_session")
                    self.session_id = active and active["id"]
            else:
                action = "stop" if self.step % 7 == 0 else ("pause", "start")[self.step % 2]
                response = self._post(f"/sessions/{self.session_id}/{action}/")
                if response is not None and (
                    response.status_code == 404 or (action == "stop" and response.is_success)
                ):
                    self.session_id = None
                elif response is not None and response.status_code == 409:
                    self.session_id = None  # ended meanwhile: start a new one
            time.sleep(0.02)


def summarize(records, window_start: float, window_end: float) -> dict:
    inside = [r for r in records if r[1] >= window_start and r[0] <= window_end]
    outcomes = Counter(outcome for _, _, outcome in inside)
    return {
        "requests": len(inside),
        "outcomes": dict(outcomes),
        "slowest_s": round(max((end - start for start, end, _ in inside), default=0), 2),
    }


def restart_round(drill: Drill, clients, servers: dict, mode: str) -> None:
    restart_started = time.monotonic()
    drill.pg.restart(mode)
    ready_at = time.monotonic()
    # Each server must answer a 2xx again; measured from PostgreSQL accepting connections.
    recovered = {}
    for name, client in servers.items():

        def answering(client=client) -> bool:
            try:
                return client.get("/api/v1/sessions/active/").status_code in (200, 204)
            except httpx.HTTPError:
                return False

        wait_until(answering, timeout=60, interval=0.05, what=f"{name} to recover")
        recovered[name] = round(time.monotonic() - ready_at, 2)
    time.sleep(3)
    settled_from = time.monotonic()
    time.sleep(3)
    records = [record for client in clients for record in client.records]
    during = summarize(records, restart_started, ready_at + max(recovered.values()))
    after = summarize(records, settled_from, time.monotonic())
    drill.figures[mode] = {
        "restart_s": round(ready_at - restart_started, 2),
        "recovered_s_after_pg_ready": recovered,
        "during": during,
        "after": after,
    }
    bad = {
        outcome: count
        for outcome, count in during["outcomes"].items()
        if not (
            outcome.startswith("2") or outcome in ("409", "503", "transport:RemoteProtocolError")
        )
    }
    drill.check(not bad, f"{mode}: only 2xx, 409 or 503 problem+json during the restart: {bad}")
    drill.check("500" not in during["outcomes"], f"{mode}: no 500 during the restart")
    drill.check(
        during["slowest_s"] < HANG_SECONDS, f"{mode}: no request hung ({during['slowest_s']} s)"
    )
    failing_after = {
        o: n for o, n in after["outcomes"].items() if not o.startswith("2") and o != "409"
    }
    drill.check(not failing_after, f"{mode}: all requests succeed after recovery: {failing_after}")
    drill.check(after["requests"] > 0, f"{mode}: requests flowed after recovery")


def run() -> bool:
    extra = {"RATE_LIMITS_ENABLED": "false"}
    with Drill("postgres_restart", extra_env=extra) as drill:
        gunicorn_port, uvicorn_port = free_port(58110), free_port(58111)
        drill.start_gunicorn(gunicorn_port, workers=2)
        drill.start_uvicorn(uvicorn_port)
        drill.start_worker()
        stop = threading.Event()
        clients, servers = [], {}
        for name, port in (("gunicorn", gunicorn_port), ("uvicorn", uvicorn_port)):
            base_url = f"http://127.0.0.1:{port}"
            token = guest_token(base_url)
            servers[name] = httpx.Client(
                base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=5
            )
            clients += [
                TimerClient(base_url, guest_token(base_url), stop)
                for _ in range(CLIENTS_PER_SERVER)
            ]
        for client in clients:
            client.start()
        time.sleep(2)
        restart_round(drill, clients, servers, "fast")
        restart_round(drill, clients, servers, "immediate")
        stop.set()
        for client in clients:
            client.join(REQUEST_TIMEOUT + 5)
        drill.figures["requests_total"] = sum(len(client.records) for client in clients)

        # The worker lived through both restarts: it completes a session due in 2 s.
        short = servers["gunicorn"].post("/api/v1/sessions/", json={"planned_seconds": 2})
        if short.status_code == 409:
            active = short.json()["active_session"]["id"]
            servers["gunicorn"].post(f"/api/v1/sessions/{active}/stop/")
            short = servers["gunicorn"].post("/api/v1/sessions/", json={"planned_seconds": 2})
        drill.check(short.status_code == 201, f"a 2 s session was created ({short.status_code})")
        database = drill.pg.connect()
        if short.status_code == 201:
            session_id = short.json()["id"]

            def completed() -> bool:
                return (
                    database.execute(
                        "SELECT state FROM sessions_app_session WHERE id = %s", [session_id]
                    ).fetchone()[0]
                    == "completed"
                )

            try:
                wait_until(completed, timeout=15, interval=0.1, what="the worker to complete it")
                drill.figures["worker_completed_after_restarts"] = True
            except TimeoutError:
                drill.check(False, "the worker completed a session due after the restarts")
        drill.check_invariants(database)
        database.close()
        return drill.report()


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
