"""Deletes guest accounts nobody has used for GUEST_INACTIVE_DAYS (30) days. The timer
worker runs the same service once a day; this command is for cron or by hand."""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.services import guests_delete_inactive


class Command(BaseCommand):
    help = "Deletes guest accounts with no activity for GUEST_INACTIVE_DAYS days (default 30)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=settings.GUEST_INACTIVE_DAYS,
            help="Days without activity (default GUEST_INACTIVE_DAYS).",
        )

    def handle(self, *args, days: int, **options):
        inactive_for = datetime.timedelta(days=days)
        total = 0
        while deleted := guests_delete_inactive(inactive_for=inactive_for):
            total += deleted
        self.stdout.write(f"deleted {total} inactive guest account(s)")
