"""The timer worker: completes sessions that reached their planned length, so that
completion events (and auto-started breaks) go out with no client connected."""

import logging
import os
import signal
import time
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections
from django.utils import timezone
from prometheus_client import start_http_server

from pomodoro.idempotency import idempotency_purge_expired
from sessions_app.models import Session
from sessions_app.services import sessions_complete_due

logger = logging.getLogger("pomodoro.worker")

PURGE_EVERY_SECONDS = 3600
FAILED_RETRY_SECONDS = 60


class Command(BaseCommand):
    help = "Completes due timer sessions within a second of their target. Run one or more."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=0.25,
            help="Seconds between polls when nothing is due soon (default 0.25).",
        )
        parser.add_argument("--batch", type=int, default=50, help="Sessions per transaction.")
        parser.add_argument(
            "--once", action="store_true", help="Complete what is due now, then exit."
        )
        parser.add_argument(
            "--heartbeat-file",
            default="",
            help="Touched after every batch that reached the database: a health check "
            "reads its age (docker-compose.yml).",
        )
        parser.add_argument(
            "--metrics-port",
            type=int,
            default=int(os.environ.get("TIMER_WORKER_METRICS_PORT") or 0),
            help="Serve this worker's Prometheus metrics (completion lag) on this port "
            "(default $TIMER_WORKER_METRICS_PORT; 0: off).",
        )

    def handle(
        self,
        *args,
        interval: float,
        batch: int,
        once: bool,
        heartbeat_file: str,
        metrics_port: int,
        **options,
    ):
        self.stopping = False
        if metrics_port and not once:
            # A thread of its own: a scrape never waits for a batch, nor a batch for it.
            start_http_server(metrics_port)
        if not once:
            # Only the long-running loop takes over the signals: `--once` (cron, tests,
            # call_command) must leave its caller's Ctrl-C handling alone.
            signal.signal(signal.SIGTERM, self._stop)
            signal.signal(signal.SIGINT, self._stop)
        last_purge = 0.0
        # Sessions whose completion failed, left out of the batches until then (monotonic
        # time): one bad row must not take a place in every batch.
        failing_until: dict[int, float] = {}
        logger.info(
            "timer worker started",
            extra={"interval": interval, "batch": batch, "metrics_port": metrics_port or None},
        )
        while not self.stopping:
            close_old_connections()
            try:
                moment = time.monotonic()
                failing_until = {pk: t for pk, t in failing_until.items() if t > moment}
                completed, failed = sessions_complete_due(
                    limit=batch, skip_ids=frozenset(failing_until)
                )
                failing_until.update((pk, moment + FAILED_RETRY_SECONDS) for pk in failed)
                if time.monotonic() - last_purge > PURGE_EVERY_SECONDS:
                    idempotency_purge_expired()
                    last_purge = time.monotonic()
                if heartbeat_file:
                    # Only after a batch that succeeded: a worker that cannot reach the
                    # database is alive but not doing its work, and should look unhealthy.
                    Path(heartbeat_file).touch()
            except Exception:
                # A database that went away comes back; the worker must outlive it.
                logger.exception("timer worker batch failed; retrying")
                completed = 0
                time.sleep(1)
            if once:
                self.stdout.write(f"completed {completed} session(s)")
                return
            if completed < batch:
                time.sleep(self._pause(interval))
        logger.info("timer worker stopped")

    def _pause(self, interval: float) -> float:
        """Sleeps until the next target if it is sooner than the interval."""
        try:
            next_target = (
                Session.objects.filter(state=Session.State.RUNNING, target_end_at__isnull=False)
                .order_by("target_end_at")
                .values_list("target_end_at", flat=True)
                .first()
            )
        except DatabaseError:
            # Outside the batch's own error handling: a lost database must not end the loop.
            logger.warning("timer worker could not read the next target", exc_info=True)
            return interval
        if next_target is None:
            return interval
        return min(max((next_target - timezone.now()).total_seconds(), 0.0), interval)

    def _stop(self, signum, frame):
        self.stopping = True
