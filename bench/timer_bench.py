"""Timer benchmark: start/pause/stop throughput and latency with concurrent clients, for
the service and for its lean reference (bench/reference/) on the same server, and
optionally pgbench's raw transaction, in alternating rounds of one run.

Each client owns a slice of the users and runs the cycle create (start) -> pause ->
start -> stop over and over, one user after another, for a fixed duration. The
service's cycle goes to /api/v1/sessions/, the reference's to /bench/reference/sessions/
(served when the server runs bench.reference.settings). The targets take turns, round
after round, so that a neighbour's load on this shared machine falls on all of them
alike rather than on whichever ran during it.

Prints a JSON line: the service's throughput and p50/p99 latency per action (the keys
the report has always read), the same for the reference under "reference", pgbench's
rate under "pgbench", and the service's rate as a share of each. A summary goes to
stderr.
"""

import argparse
import asyncio
import itertools
import json
import re
import subprocess
import sys
import time

from bench.httpload import Connection, percentile

CYCLE = ("create", "pause", "start", "stop")
PREFIXES = {"service": "/api/v1/sessions/", "reference": "/bench/reference/sessions/"}


async def client(host, port, prefix, tokens, deadline, latencies, errors):
    connection = Connection(host, port)
    users = itertools.cycle(tokens)
    try:
        while time.perf_counter() < deadline:
            token = next(users)
            status, body, took = await connection.request(
                "POST", prefix, token=token, body={"kind": "focus"}
            )
            if status != 201:
                errors.append(("create", status, body))
                continue
            latencies["create"].append(took)
            session_id = body["id"]
            for action in ("pause", "start", "stop"):
                status, body, took = await connection.request(
                    "POST", f"{prefix}{session_id}/{action}/", token=token
                )
                if status != 200:
                    errors.append((action, status, body))
                latencies[action].append(took)
    finally:
        await connection.close()


async def load(host, port, prefix, tokens, clients, seconds, latencies, errors) -> float:
    """Runs the cycle with `clients` clients for `seconds`; answers the wall time."""
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(
        *(
            client(host, port, prefix, tokens[i::clients], deadline, latencies, errors)
            for i in range(clients)
        )
    )
    return time.perf_counter() - started


def pgbench(database: str, clients: int, seconds: float) -> tuple[float, float]:
    """Runs bench/transition.pgbench on random sessions; answers (tps, average latency ms)."""
    count = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-tAc",
            "SELECT max(id) FROM sessions_app_session",
            database,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    output = subprocess.run(
        [
            "pgbench",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-n",
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(max(1, round(seconds))),
            "-D",
            f"sessions={count or 1}",
            "-f",
            "bench/transition.pgbench",
            database,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    tps = float(re.search(r"^tps = ([0-9.]+)", output, re.M).group(1))
    latency = float(re.search(r"latency average = ([0-9.]+)", output).group(1))
    return tps, latency


async def run(host, port, tokens, clients, seconds, warmup, targets, rounds, pgbench_db):
    figures = {target: (_fresh(), [], [0.0]) for target in targets}
    # Warm-up: every server process imports and connects, on every path, before we measure.
    for target in targets:
        await load(host, port, PREFIXES[target], tokens, clients, warmup, _fresh(), [])
    pgbench_rounds = []
    for _round in range(rounds):
        for target in targets:
            latencies, errors, wall = figures[target]
            wall[0] += await load(
                host, port, PREFIXES[target], tokens, clients, seconds / rounds, latencies, errors
            )
        if pgbench_db:
            pgbench_rounds.append(pgbench(pgbench_db, clients, seconds / rounds))
    result = {}
    for target in targets:
        latencies, errors, wall = figures[target]
        result[target] = _summary(clients, wall[0], latencies, errors)
    if pgbench_rounds:
        result["pgbench"] = {
            "clients": clients,
            "tps": round(sum(tps for tps, _ in pgbench_rounds) / len(pgbench_rounds), 1),
            "latency_avg_ms": round(
                sum(latency for _, latency in pgbench_rounds) / len(pgbench_rounds), 2
            ),
        }
    return result


def _summary(clients, wall, latencies, errors):
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


def _combined(result: dict) -> dict:
    """The service's figures at the top level (as the report reads them), the others
    beside them, and the shares."""
    combined = dict(result.get("service") or {})
    for other in ("reference", "pgbench"):
        if other in result:
            combined[other] = result[other]
    service = combined.get("throughput_rps")
    if service and "reference" in result:
        combined["share_of_reference"] = round(service / result["reference"]["throughput_rps"], 4)
    if service and "pgbench" in result:
        combined["share_of_pgbench"] = round(service / result["pgbench"]["tps"], 4)
    return combined


def _describe(combined: dict) -> str:
    lines = []
    if "throughput_rps" in combined:
        lines.append(
            f"service   {combined['throughput_rps']:8.1f} requests/s  p50 {combined['p50_ms']} ms"
            f"  p99 {combined['p99_ms']} ms  errors {combined['errors']}"
        )
    if "reference" in combined:
        r = combined["reference"]
        lines.append(
            f"reference {r['throughput_rps']:8.1f} requests/s  p50 {r['p50_ms']} ms"
            f"  p99 {r['p99_ms']} ms  errors {r['errors']}"
        )
    if "pgbench" in combined:
        p = combined["pgbench"]
        lines.append(f"pgbench   {p['tps']:8.1f} tps          avg {p['latency_avg_ms']} ms")
    for name in ("share_of_reference", "share_of_pgbench"):
        if name in combined:
            lines.append(f"service rate as a {name.replace('_', ' ')}: {combined[name]:.1%}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--tokens", required=True, help="JSON file with access tokens")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument(
        "--targets",
        default="service,reference",
        help="comma-separated: service, reference (the server must run bench.reference.settings)",
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="rounds per target; --seconds is split over them"
    )
    parser.add_argument(
        "--pgbench-db", help="also run bench/transition.pgbench on this database, each round"
    )
    args = parser.parse_args()
    with open(args.tokens) as handle:
        tokens = json.load(handle)
    targets = [target for target in args.targets.split(",") if target]
    result = asyncio.run(
        run(
            args.host,
            args.port,
            tokens,
            args.clients,
            args.seconds,
            args.warmup,
            targets,
            args.rounds,
            args.pgbench_db,
        )
    )
    combined = _combined(result)
    print(_describe(combined), file=sys.stderr)
    print(json.dumps(combined))


if __name__ == "__main__":
    main()
