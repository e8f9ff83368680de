"""Prometheus metrics at /metrics; every name, label and alert is in docs/operations.md.

Two kinds of series:

- **Counted by the process** (requests, sockets, broadcasts, readiness failures, the
  timer worker's completion lag): prometheus_client metrics defined here and updated
  where the thing happens. With PROMETHEUS_MULTIPROC_DIR set (gunicorn with several
  workers, see gunicorn.conf.py) they are kept in files in that directory and
  /metrics adds up every process's; without it they are this process's own.
- **Read from the database when /metrics is scraped** (active sessions, the oldest
  overdue session): the truth for the whole deployment, whichever process answers,
  and still right while the timer worker is dead; each is one indexed query.

Routes are labelled by their URL pattern (`api/v1/sessions/<pk>/`), never the raw
path, and methods outside the HTTP set become "other": a client cannot make series.
"""

import hmac
import logging
import os
import time

from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from pomodoro.errors import problem_response
from pomodoro.request_log import route_of

logger = logging.getLogger("pomodoro.metrics")

# The `_created` series would double the exposition for nothing an alert reads.
disable_created_metrics()

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUESTS = Counter(
    "pomodoro_http_requests",
    "HTTP requests answered, by method, URL route and status.",
    ["method", "route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "pomodoro_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, URL route and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# livesum: the open sockets of the processes alive now (a dead process's are gone).
WEBSOCKET_CONNECTIONS = Gauge(
    "pomodoro_websocket_connections",
    "Open event sockets (accepted and authenticated).",
    multiprocess_mode="livesum",
)
WEBSOCKET_DISCONNECTS = Counter(
    "pomodoro_websocket_disconnects",
    "Event sockets closed, by reason (normal, unauthorized, too_far_behind, abnormal, other).",
    ["reason"],
)
EVENTS_BROADCAST = Counter(
    "pomodoro_events_broadcast", "Event broadcasts handed to the channel layer."
)
EVENTS_BROADCAST_FAILURES = Counter(
    "pomodoro_events_broadcast_failures",
    "Event broadcasts that failed or were dropped (clients get them by replay).",
)
TIMER_COMPLETION_LAG = Histogram(
    "pomodoro_timer_completion_lag_seconds",
    "Seconds from a session's target_end_at to the timer worker completing it.",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900),
)
READINESS_CHECK_FAILURES = Counter(
    "pomodoro_readiness_check_failures",
    "Failed /readyz checks, by check (database, channel_layer, cache).",
    ["check"],
)


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        method = request.method if request.method in HTTP_METHODS else "other"
        labels = (method, route_of(request), str(response.status_code))
        HTTP_REQUEST_DURATION.labels(*labels).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(*labels).inc()
        return response


class DatabasePoolCollector:
    """This process's PostgreSQL connection pool (psycopg_pool), when one is configured."""

    def describe(self):
        return []

    def collect(self):
        pool = getattr(connection, "pool", None) if connection.vendor == "postgresql" else None
        if pool is None:
            return
        stats = pool.get_stats()
        in_use = GaugeMetricFamily(
            "pomodoro_db_pool_connections",
            "This process's pooled database connections, by state.",
            labels=["state"],
        )
        in_use.add_metric(["in_use"], stats["pool_size"] - stats["pool_available"])
        in_use.add_metric(["idle"], stats["pool_available"])
        yield in_use
        yield GaugeMetricFamily(
            "pomodoro_db_pool_max_connections",
            "DATABASE_POOL_MAX_SIZE of this process's pool.",
            value=stats["pool_max"],
        )
        yield GaugeMetricFamily(
            "pomodoro_db_pool_requests_waiting",
            "Requests of this process waiting for a pooled connection now.",
            value=stats.get("requests_waiting", 0),
        )
        # requests_errors: requests that got no connection within DATABASE_POOL_TIMEOUT.
        yield CounterMetricFamily(
            "pomodoro_db_pool_timeouts",
            "Connection requests of this process that got no connection in time.",
            value=stats.get("requests_errors", 0),
        )


# Not in the default REGISTRY: the timer worker serves that one (--metrics-port), and
# these describe the whole deployment or the web process, not the worker.
SCRAPE_TIME_STATE = CollectorRegistry(auto_describe=False)
SCRAPE_TIME_STATE.register(DatabasePoolCollector())


def multiprocess_mode() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def process_metrics_exposition() -> bytes:
    """The counted series: every live and dead process's in multiprocess mode, else ours."""
    if multiprocess_mode():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def _authorized(request) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return True
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode(), token.encode()
    )


@require_GET
def metrics(request):
    """Prometheus text format. With METRICS_TOKEN set, only for `Authorization: Bearer <it>`."""
    if not _authorized(request):
        response = problem_response(
            401, "not_authenticated", "Send Authorization: Bearer <METRICS_TOKEN>."
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body = process_metrics_exposition() + generate_latest(SCRAPE_TIME_STATE)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
