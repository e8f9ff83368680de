"""Accounts benchmark: the account export's speed and memory, and the cost of
authenticating by personal access token against a JWT.

Export: streams `GET /api/v1/me/export/` of the heavy analytics user (about 9,800
sessions over three years with their segments; seeded by bench/analytics_bench.py,
reused while fresh) through Django's test client in this process, and reports sessions
a second of wall time (target 20,000) and of this process's CPU time, and memory:
tracemalloc's peak and the RSS rise over the whole stream, and the tracemalloc peak when
only its first third has been read. The peaks being about equal is what "flat" means:
reading more history holds no more.

Authentication: the CPU time (time.process_time) of GET /api/v1/me/ in process with a
JWT and with a personal access token, and of the authentication classes' authenticate()
alone, per request; the PAT must cost no more than the JWT.

    DJANGO_ENV=production DATABASE_URL=postgres://... .venv/bin/python -m bench.account_bench
"""

import argparse
import gc
import json
import os
import statistics
import sys
import time
import tracemalloc

import django

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pomodoro.env import use_settings_from_environment

use_settings_from_environment()
django.setup()

from django.test import Client  # noqa: E402
from rest_framework.test import APIRequestFactory  # noqa: E402

from accounts.authentication import (  # noqa: E402
    AccessTokenAuthentication,
    PersonalAccessTokenAuthentication,
)
from accounts.models import PersonalAccessToken, User  # noqa: E402
from accounts.services import personal_token_create  # noqa: E402
from accounts.tokens import token_pair_for  # noqa: E402
from bench import analytics_bench  # noqa: E402
from bench.export_bench import rss_kb  # noqa: E402
from sessions_app.models import Session  # noqa: E402

PATH = "/api/v1/me/export/"
TARGET_SESSIONS_PER_S = 20_000


def stream(client: Client, *, trace: bool, stop_after_bytes: int | None = None) -> dict:
    gc.collect()
    if trace:
        tracemalloc.start()
    baseline = peak_rss = rss_kb()
    size = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    response = client.get(PATH)
    assert response.status_code == 200, response.status_code
    for chunk in response.streaming_content:
        size += len(chunk)
        peak_rss = max(peak_rss, rss_kb())
        if stop_after_bytes is not None and size >= stop_after_bytes:
            break
    response.close()
    result = {
        "bytes": size,
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu_started,
        "rss_growth_kb": peak_rss - baseline,
    }
    if trace:
        result["tracemalloc_peak_kb"] = tracemalloc.get_traced_memory()[1] // 1024
        tracemalloc.stop()
    return result


def measure_export(heavy: User, runs: int) -> dict:
    sessions = Session.objects.filter(user=heavy, deleted_at__isnull=True).count()
    client = Client(
        HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token_pair_for(heavy)['access']}"
    )
    stream(client, trace=False)  # warm-up
    timed = [stream(client, trace=False) for _ in range(runs)]
    median = statistics.median(run["seconds"] for run in timed)
    whole = stream(client, trace=True)
    third = stream(client, trace=True, stop_after_bytes=whole["bytes"] // 3)
    return {
        "sessions": sessions,
        "bytes": timed[0]["bytes"],
        "runs": runs,
        "median_seconds": round(median, 4),
        "sessions_per_s_median": round(sessions / median),
        "sessions_per_s_best": round(sessions / min(run["seconds"] for run in timed)),
        # This process's CPU alone (PostgreSQL's work excluded): what the machine's other
        # load cannot stretch.
        "sessions_per_cpu_s_median": round(
            sessions / statistics.median(run["cpu_seconds"] for run in timed)
        ),
        "target_sessions_per_s": TARGET_SESSIONS_PER_S,
        "met": sessions / median >= TARGET_SESSIONS_PER_S,
        "tracemalloc_peak_kb_whole": whole["tracemalloc_peak_kb"],
        "tracemalloc_peak_kb_first_third": third["tracemalloc_peak_kb"],
        "rss_growth_kb_whole": whole["rss_growth_kb"],
        "rss_growth_kb_max_untraced": max(run["rss_growth_kb"] for run in timed),
    }


def cpu_per_call(calls: dict, count: int, rounds: int = 5) -> dict:
    """Microseconds of this process's CPU per call of each of `calls`, best of `rounds`
    rounds; the calls take turns round by round, so that a busy spell of the machine
    weighs on all of them alike."""
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(rounds):
        for name, call in calls.items():
            started = time.process_time()
            for _ in range(count):
                call()
            best[name] = min(best[name], (time.process_time() - started) / count * 1e6)
    return {name: round(value, 1) for name, value in best.items()}


def measure_authentication(user: User, requests: int) -> dict:
    PersonalAccessToken.objects.filter(user=user, name="bench").delete()
    _, secret = personal_token_create(user=user, name="bench", scope="read")
    access = token_pair_for(user)["access"]
    jwt_client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {access}")
    pat_client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {secret}")
    for client in (jwt_client, pat_client):
        assert client.get("/api/v1/me/").status_code == 200
    factory = APIRequestFactory()
    jwt_request = factory.get("/", HTTP_AUTHORIZATION=f"Bearer {access}")
    pat_request = factory.get("/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    jwt_auth, pat_auth = AccessTokenAuthentication(), PersonalAccessTokenAuthentication()
    figures = {
        "requests_each": requests,
        **cpu_per_call(
            {
                "request_cpu_us_jwt": lambda: jwt_client.get("/api/v1/me/"),
                "request_cpu_us_pat": lambda: pat_client.get("/api/v1/me/"),
            },
            requests,
        ),
        # A JWT request also passes the PAT class first: it looks at the header and returns.
        **cpu_per_call(
            {
                "authenticate_cpu_us_jwt": lambda: (
                    pat_auth.authenticate(jwt_request),
                    jwt_auth.authenticate(jwt_request),
                ),
                "authenticate_cpu_us_pat": lambda: pat_auth.authenticate(pat_request),
            },
            requests,
        ),
    }
    figures["pat_over_jwt_request"] = round(
        figures["request_cpu_us_pat"] / figures["request_cpu_us_jwt"], 3
    )
    figures["pat_over_jwt_authenticate"] = round(
        figures["authenticate_cpu_us_pat"] / figures["authenticate_cpu_us_jwt"], 3
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1, help="analytics bench users to seed")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--auth-requests", type=int, default=1000)
    args = parser.parse_args()

    result: dict = {"seed": analytics_bench.seed(users=args.users, active_share=0.2)}
    heavy = User.objects.get(email=analytics_bench.HEAVY_EMAIL)
    result["where"] = "in process: django.test.Client, whole Django request, no HTTP server"
    result["export"] = measure_export(heavy, args.runs)
    result["authentication"] = measure_authentication(heavy, args.auth_requests)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
