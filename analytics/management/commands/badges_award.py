"""Awards every badge that users' whole history has earned and they do not hold.

Badges are awarded as they are earned (analytics.services); this is for history that
came in another way: data from before badges existed, or restored from a backup."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from analytics.services import badges_award


class Command(BaseCommand):
    help = "Awards the badges every user's history has earned and they do not hold yet."

    def handle(self, *args, **options):
        awarded = 0
        for user in get_user_model().objects.filter(is_active=True).iterator():
            awarded += len(badges_award(user=user))
        self.stdout.write(f"awarded {awarded} badge(s)")
