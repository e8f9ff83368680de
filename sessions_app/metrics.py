"""The sessions' gauges in /metrics, read from the database at scrape time
(registered in SessionsAppConfig.ready())."""

import logging

from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from sessions_app.models import Session

logger = logging.getLogger("pomodoro.metrics")


class SessionStateCollector:
    """Gauges read from the database at scrape time. Counting in each process instead
    would drift: sessions are completed by the worker, by writes, by the admin, and a
    process that dies takes its count with it. `pomodoro_active_sessions` counts rows as
    written: a session past its target still counts until the worker completes it, which
    `pomodoro_oldest_overdue_session_seconds` shows."""

    def describe(self):
        # Without it, registering would call collect() and query the database at import.
        return []

    def collect(self):
        now = timezone.now()
        live = Session.objects.filter(deleted_at__isnull=True)
        try:
            # Both use partial indexes: the active sessions' unique index (at most one
            # row per user) and session_due (running sessions by target_end_at).
            counts = dict(
                live.filter(state__in=Session.ACTIVE_STATES)
                .values_list("state")
                .annotate(sessions=Count("pk"))
                .order_by()
            )
            oldest_due = live.due(now).aggregate(oldest=Min("target_end_at"))["oldest"]
        except DatabaseError:
            # The scrape still answers the process's own series; /readyz and the
            # readiness failures counter say that the database is down.
            logger.warning("metrics: database state unreadable", exc_info=True)
            return
        active = GaugeMetricFamily(
            "pomodoro_active_sessions", "Running or paused sessions.", labels=["state"]
        )
        for state in Session.ACTIVE_STATES:
            active.add_metric([state], counts.get(state, 0))
        yield active
        overdue = GaugeMetricFamily(
            "pomodoro_oldest_overdue_session_seconds",
            "How long the oldest running session past its target_end_at has waited for "
            "the timer worker (0: none). Grows while the worker is stuck or down.",
        )
        overdue.add_metric([], (now - oldest_due).total_seconds() if oldest_due else 0.0)
        yield overdue
