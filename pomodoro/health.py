"""Liveness and readiness probes for load balancers and orchestrators."""

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from pomodoro.errors import problem_response
from pomodoro.metrics import READINESS_CHECK_FAILURES

logger = logging.getLogger("pomodoro.health")
CHECK_TIMEOUT_SECONDS = 2.0


@require_GET
def healthz(request):
    """The process is up and answering."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


async def _round_trip_channel_layer() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel("readyz.")
    await layer.send(channel, {"type": "readyz.ping"})
    await asyncio.wait_for(layer.receive(channel), CHECK_TIMEOUT_SECONDS)


def _check_channel_layer() -> None:
    async_to_sync(_round_trip_channel_layer)()


def _check_cache() -> None:
    cache.set("readyz", "ok", 10)
    if cache.get("readyz") != "ok":
        raise RuntimeError("cache did not return what was stored")


CHECKS = {"database": _check_database, "channel_layer": _check_channel_layer, "cache": _check_cache}


@require_GET
def readyz(request):
    """The database, the channel layer and the cache answer; else 503 naming what failed."""
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as error:
            logger.warning("readiness check failed", extra={"check": name}, exc_info=True)
            READINESS_CHECK_FAILURES.labels(name).inc()
            results[name] = f"failing: {type(error).__name__}"
    failing = [name for name, result in results.items() if result != "ok"]
    if failing:
        return problem_response(
            503, "not_ready", f"Not ready: {', '.join(failing)} unreachable.", checks=results
        )
    return JsonResponse({"status": "ok", "checks": results})
