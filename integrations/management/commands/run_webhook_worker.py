"""The webhook worker: delivers the outbox of webhook deliveries (integrations.delivery)."""

import asyncio
import logging
import signal

from django.core.management.base import BaseCommand

from integrations.delivery import WebhookWorker

logger = logging.getLogger("pomodoro.webhooks")


class Command(BaseCommand):
    help = "Delivers webhook messages: signed, retried for 24 hours, in seq order per endpoint."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval", type=float, default=0.1, help="Seconds between polls (default 0.1)."
        )
        parser.add_argument("--batch", type=int, default=500, help="Deliveries claimed a round.")
        parser.add_argument(
            "--once", action="store_true", help="Deliver what is due now, then exit."
        )
        parser.add_argument(
            "--heartbeat-file",
            default="",
            help="Touched after every round that reached the database (docker-compose.yml).",
        )

    def handle(
        self, *args, interval: float, batch: int, once: bool, heartbeat_file: str, **options
    ):
        worker = WebhookWorker(interval=interval, batch=batch, heartbeat_file=heartbeat_file)
        logger.info("webhook worker started", extra={"interval": interval, "batch": batch})
        if once:
            asyncio.run(worker.run_until_idle())
        else:
            asyncio.run(self._run(worker))
        self.stdout.write(f"delivered {worker.delivered}, failed {worker.failed} attempt(s)")
        logger.info("webhook worker stopped")

    async def _run(self, worker: WebhookWorker) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, worker.stop)
        await worker.run()
