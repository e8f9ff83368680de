"""Timer benchmark: start/pause/stop throughput and latency with concurrent clients.

Each client owns a slice of the users and runs the cycle create (start) -> pause ->
start -> stop over and over, one user after another, for a fixed duration.
Prints a JSON line with throughput and p50/p99 latency per action.
"""

import argparse
import asyncio
import itertools
import json
import time

from bench.httpload import Connection, percentile

CYCLE = ("create", "pause", "start", "stop")


async def client(host, port, tokens, deadline, latencies, errors):
    connection = Connection(host, port)
    users = itertools.cycle(tokens)
    try:
        while time.perf_counter() < deadline:
            token = next(users)
            status, body, took = await connection.request(
                "POST", "/api/v1/sessions/", token=token, body={"kind": "focus"}
            )
            if status != 201:
                errors.append(("create", status, body))
                continue
            latencies["create"].append(took)
            session_id = body["id"]
            for action in ("pause", "start", "stop"):
                status, body, took = await connection.request(
                    "POST", f"/api/v1/sessions/{session_id}/{action}/", token=token
                )
                if status != 200:
                    errors.append((action, status, body))
                latencies[action].append(took)
    finally:
        await connection.close()


async def run(host, port, tokens, clients, seconds, warmup):
    # Warm-up: every server process imports and connects before we measure.
    await asyncio.gather(
        *(
            client(host, port, tokens[i::clients], time.perf_counter() + warmup, _fresh(), [])
            for i in range(clients)
        )
    )
    latencies, errors = _fresh(), []
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            client(host, port, tokens[i::clients], deadline, latencies, errors)
            for i in range(clients)
        )
    )
    wall = time.perf_counter() - started
    total = sum(len(v) for v in latencies.values())
    every = [x for v in latencies.values() for x in v]
    return {
        "clients": clients,
        "seconds": round(wall, 2),
        "requests": total,
        "errors": len(errors),
        "error_sample": errors[:3],
        "throughput_rps": round(total / wall, 1),
        "p50_ms": round(percentile(every, 0.50) * 1000, 2),
        "p99_ms": round(percentile(every, 0.99) * 1000, 2),
        "by_action": {
            action: {
                "count": len(values),
                "p50_ms": round(percentile(values, 0.50) * 1000, 2),
                "p99_ms": round(percentile(values, 0.99) * 1000, 2),
            }
            for action, values in latencies.items()
        },
    }


def _fresh():
    return {action: [] for action in CYCLE}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--tokens", required=True, help="JSON file with access tokens")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    args = parser.parse_args()
    with open(args.tokens) as handle:
        tokens = json.load(handle)
    result = asyncio.run(run(args.host, args.port, tokens, args.clients, args.seconds, args.warmup))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
