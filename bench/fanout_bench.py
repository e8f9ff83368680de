"""Fan-out benchmark: events from REST actions to every open socket of the user.

Opens 2 sockets per user, one on each of two server processes, drives a steady
stream of timer actions through REST (alternating processes), and measures for every
event on every device the time from the event's commit (`at`, written in the
committing transaction) to its receipt. Then checks every device got every seq of its
user exactly once, and reports the servers' memory per 1,000 idle sockets.
"""

import argparse
import asyncio
import datetime
import itertools
import json
import random
import time

import websockets

from bench.httpload import Connection, open_events_socket, percentile


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def get_ticket(connection: Connection, token: str) -> str:
    status, body, _ = await connection.request("POST", "/api/v1/realtime/ticket/", token=token)
    assert status == 201, (status, body)
    return body["ticket"]


class Device:
    def __init__(self, user_index: int, port: int):
        self.user_index, self.port = user_index, port
        self.seqs: list[int] = []
        self.latencies: list[float] = []
        self.socket = None
        self.reader: asyncio.Task | None = None

    async def open(self, ticket: str, after: int) -> None:
        self.socket = await open_events_socket(self.port, ticket, after)
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.socket:
                received = time.time()
                message = json.loads(raw)
                if "seq" in message:
                    self.seqs.append(message["seq"])
                    at = datetime.datetime.fromisoformat(message["at"].replace("Z", "+00:00"))
                    self.latencies.append(received - at.timestamp())
        except websockets.ConnectionClosed:
            pass


async def drive(ports, tokens, rate, seconds, sessions) -> int:
    """Runs timer actions at `rate` per second; answers how many succeeded."""
    connections = [Connection("127.0.0.1", port) for port in ports]
    done = 0
    interval = 1.0 / rate
    deadline = time.perf_counter() + seconds
    next_at = time.perf_counter()
    pending = set()

    async def one(index):
        nonlocal done
        token = tokens[index]
        connection = Connection("127.0.0.1", ports[index % len(ports)])
        try:
            session_id = sessions.get(index)
            if session_id is None:
                status, body, _ = await connection.request(
                    "POST", "/api/v1/sessions/", token=token, body={"kind": "stopwatch"}
                )
                if status == 201:
                    sessions[index] = body["id"]
                    done += 1
            else:
                action = random.choice(("pause", "start", "stop"))
                status, body, _ = await connection.request(
                    "POST", f"/api/v1/sessions/{session_id}/{action}/", token=token
                )
                if status == 200:
                    done += 1
                    if action == "stop":
                        sessions.pop(index, None)
        finally:
            await connection.close()

    busy = set()
    while time.perf_counter() < deadline:
        index = random.randrange(len(tokens))
        if index not in busy:
            busy.add(index)
            task = asyncio.create_task(one(index))
            task.add_done_callback(lambda _t, i=index: busy.discard(i))
            pending.add(task)
            task.add_done_callback(pending.discard)
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    await asyncio.gather(*pending, return_exceptions=True)
    for connection in connections:
        await connection.close()
    return done


async def run(args) -> dict:
    with open(args.tokens) as handle:
        tokens = json.load(handle)[: args.users]
    ports = [args.port_a, args.port_b]
    pids = [args.pid_a, args.pid_b]
    api = Connection("127.0.0.1", ports[0])
    # Each user's newest seq, so devices only count events of this run.
    starts = []
    for token in tokens:
        _status, body, _ = await api.request("GET", "/api/v1/events/?after=0", token=token)
        starts.append(body["last_seq"])
    rss_before = [rss_kib(pid) for pid in pids]
    devices = []
    for index, token in enumerate(tokens):
        for port in ports:
            device = Device(index, port)
            await device.open(await get_ticket(api, token), starts[index])
            devices.append(device)
    await asyncio.sleep(2)
    rss_after = [rss_kib(pid) for pid in pids]
    sockets = len(devices)
    per_thousand_mb = (sum(rss_after) - sum(rss_before)) / 1024 / sockets * 1000

    actions = await drive(ports, tokens, args.rate, args.seconds, {})
    await asyncio.sleep(3)  # let the last events arrive

    expected = []
    for index, token in enumerate(tokens):
        _status, body, _ = await api.request(
            "GET", f"/api/v1/events/?after={starts[index]}", token=token
        )
        expected.append([event["seq"] for event in body["results"]])
    lost = duplicated = out_of_order = 0
    for device in devices:
        want = expected[device.user_index]
        got = device.seqs
        duplicated += len(got) - len(set(got))
        lost += len(set(want) - set(got))
        out_of_order += sum(1 for a, b in itertools.pairwise(got) if b <= a)
    latencies = [x for device in devices for x in device.latencies]
    for device in devices:
        await device.socket.close()
    await api.close()
    return {
        "users": len(tokens),
        "sockets": sockets,
        "actions": actions,
        "events_delivered": len(latencies),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "lost": lost,
        "duplicated": duplicated,
        "out_of_order": out_of_order,
        "server_rss_mb_before": [round(x / 1024, 1) for x in rss_before],
        "server_rss_mb_with_sockets": [round(x / 1024, 1) for x in rss_after],
        "server_mb_per_1000_idle_sockets": round(per_thousand_mb, 1),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--port-a", type=int, default=8101)
    parser.add_argument("--port-b", type=int, default=8102)
    parser.add_argument("--pid-a", type=int, required=True)
    parser.add_argument("--pid-b", type=int, required=True)
    parser.add_argument("--rate", type=float, default=40, help="actions per second")
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
