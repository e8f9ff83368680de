"""Publish benchmark: how fast one process hands events to Redis, against Redis itself.

The fan-out part drives 40 actions a second, far below what publishing costs, so its
delivered events per second say nothing about the publishing limit. This part
measures that limit directly, on the path every event takes after its commit:

- `through_publisher`: `events.publish.publish_on_commit` (outside a transaction, so
  at once) for `--count` events, handed to the process's publisher thread, which sends
  them one after another with `group_send` on one Redis connection (what a gunicorn
  worker does after each commit). Timed until the last was sent.
- `group_send`: the channel layer's `group_send` alone, awaited one after another on
  one event loop: the same minus the hand-over between threads.
- `redis-benchmark`: the physical reference, `PUBLISH` of a payload of the same size
  (the serialized event message), one connection with one command in flight (`-c 1`,
  as the publisher thread sends), and 16 connections (`-c 16`), what Redis takes from
  several publishing processes together.

Every message goes to its own group with no subscriber, like redis-benchmark's
channel: this is the publishing side only; delivery to sockets is the fan-out part's.
The message is a real event message (the newest event in the database) when there is
one. Prints one JSON object.

    DJANGO_ENV=production REDIS_URL=redis://127.0.0.1:6379/9 DATABASE_URL=... \
        .venv/bin/python -m bench.publish_bench
"""

import argparse
import asyncio
import csv
import io
import json
import os
import subprocess
import sys
import time
from urllib.parse import urlparse

import django

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pomodoro.env import use_settings_from_environment

use_settings_from_environment()
django.setup()

from channels.layers import get_channel_layer  # noqa: E402
from django.conf import settings  # noqa: E402
from prometheus_client import REGISTRY  # noqa: E402

from events import publish as events  # noqa: E402
from events.models import Event  # noqa: E402

# Group ids far above any user's, so that no open socket of a running server hears them.
GROUP_BASE = 10**12
CHUNK = 1000  # below events.MAX_PENDING: the publisher's queue never drops


def event_message() -> dict:
    event = Event.objects.order_by("-pk").first()
    if event is not None:
        return {"type": "event.message", "event": event.as_message()}
    return {
        "type": "event.message",
        "event": {
            "seq": 12,
            "type": "session.paused",
            "at": "2026-11-23T05:00:00.000000Z",
            "data": {"session": {"id": 1, "kind": "focus", "state": "paused", "version": 2}},
        },
    }


def broadcasts_sent() -> float | None:
    """The process's count of broadcasts handed to the channel layer (/metrics)."""
    return REGISTRY.get_sample_value("pomodoro_events_broadcast_total")


def through_publisher(message: dict, count: int) -> dict:
    sent_before = broadcasts_sent()
    started = time.perf_counter()
    for first in range(0, count, CHUNK):
        for index in range(first, min(count, first + CHUNK)):
            events.publish_on_commit(events.user_group(GROUP_BASE + index), message)
        events.flush_broadcasts(timeout=60)
    elapsed = time.perf_counter() - started
    return {
        "messages": count,
        "seconds": round(elapsed, 3),
        "per_s": round(count / elapsed, 1),
        # Sent as counted by the publisher itself: anything short of `messages` failed.
        "sent": None if sent_before is None else int(broadcasts_sent() - sent_before),
    }


def direct_group_send(message: dict, count: int) -> dict:
    async def send_all() -> float:
        layer = get_channel_layer()
        await layer.group_send(events.user_group(GROUP_BASE), message)  # connect first
        started = time.perf_counter()
        for index in range(count):
            await layer.group_send(events.user_group(GROUP_BASE + index), message)
        return time.perf_counter() - started

    elapsed = asyncio.run(send_all())
    return {"messages": count, "seconds": round(elapsed, 3), "per_s": round(count / elapsed, 1)}


def redis_benchmark(payload_bytes: int, count: int, clients: int) -> dict:
    url = urlparse(settings.REDIS_URL)
    command = [
        "redis-benchmark",
        "-h",
        url.hostname or "127.0.0.1",
        "-p",
        str(url.port or 6379),
        "--dbnum",
        (url.path or "/0").lstrip("/") or "0",
        "-n",
        str(count),
        "-c",
        str(clients),
        "--csv",
        "PUBLISH",
        f"{settings.REDIS_KEY_PREFIX}:bench-publish",
        "x" * payload_bytes,
    ]
    if url.password:
        command[1:1] = ["-a", url.password]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rows = list(csv.DictReader(io.StringIO(output)))
    row = rows[-1]
    return {
        "clients": clients,
        "messages": count,
        "per_s": float(row["rps"]),
        "avg_ms": float(row["avg_latency_ms"]),
        "p99_ms": float(row["p99_latency_ms"]),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20000, help="messages per measurement")
    args = parser.parse_args()
    message = event_message()
    payload_bytes = len(get_channel_layer().serialize(message))
    through_publisher(message, CHUNK)  # warm-up: thread, loop, connection
    publisher = through_publisher(message, args.count)
    direct = direct_group_send(message, args.count)
    raw_one = redis_benchmark(payload_bytes, args.count * 5, 1)
    raw_many = redis_benchmark(payload_bytes, args.count * 5, 16)
    print(
        json.dumps(
            {
                "payload_bytes": payload_bytes,
                "through_publisher": publisher,
                "group_send": direct,
                "redis_benchmark_1_connection": raw_one,
                "redis_benchmark_16_connections": raw_many,
                "publisher_share_of_raw_1_connection": round(
                    publisher["per_s"] / raw_one["per_s"], 3
                ),
                "group_send_share_of_raw_1_connection": round(
                    direct["per_s"] / raw_one["per_s"], 3
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
