"""Prometheus metrics at /metrics.

Request counts and latencies are recorded by a middleware, labelled by the URL
route (not the raw path, so ids do not multiply the series). Gauges of state are
read when the endpoint is scraped: active sessions and the timer worker's lag from
the database, open sockets and broadcast counters from this process.

Each server process keeps its own counters: scrape every process (or run
prometheus_client's multiprocess mode, see docs/operations.md).
"""

import time

from django.db.models import Min
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

REQUESTS = Counter(
    "pomodoro_http_requests_total", "HTTP requests answered.", ["method", "route", "status"]
)
LATENCY = Histogram(
    "pomodoro_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None and match.route else "unmatched"
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        return response


class StateCollector:
    """Values read at scrape time."""

    def describe(self):
        # Without it, registering would call collect() and query the database at import.
        yield CounterMetricFamily("pomodoro_events_broadcast", "")
        yield CounterMetricFamily("pomodoro_events_broadcast_failures", "")
        yield GaugeMetricFamily("pomodoro_websocket_connections", "")
        yield GaugeMetricFamily("pomodoro_active_sessions", "", labels=["state"])
        yield GaugeMetricFamily("pomodoro_timer_worker_lag_seconds", "")

    def collect(self):
        from pomodoro.events import PublishStats
        from sessions_app.consumers import ConnectionStats
        from sessions_app.models import Session

        published = CounterMetricFamily(
            "pomodoro_events_broadcast", "Event broadcasts sent to the channel layer."
        )
        published.add_metric([], PublishStats.published)
        yield published
        failed = CounterMetricFamily(
            "pomodoro_events_broadcast_failures",
            "Event broadcasts that failed or were dropped (replay delivers them).",
        )
        failed.add_metric([], PublishStats.failed)
        yield failed
        sockets = GaugeMetricFamily("pomodoro_websocket_connections", "Open event sockets.")
        sockets.add_metric([], ConnectionStats.open_sockets)
        yield sockets

        now = timezone.now()
        active = GaugeMetricFamily(
            "pomodoro_active_sessions", "Running or paused sessions.", labels=["state"]
        )
        running = Session.objects.filter(deleted_at__isnull=True)
        for state in Session.ACTIVE_STATES:
            active.add_metric([state], running.filter(state=state).count())
        yield active
        oldest_due = running.filter(state=Session.State.RUNNING, target_end_at__lte=now).aggregate(
            oldest=Min("target_end_at")
        )["oldest"]
        lag = GaugeMetricFamily(
            "pomodoro_timer_worker_lag_seconds",
            "How long the oldest due running session has waited to be completed (0: none).",
        )
        lag.add_metric([], (now - oldest_due).total_seconds() if oldest_due else 0.0)
        yield lag


REGISTRY.register(StateCollector())


@require_GET
def metrics(request):
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
