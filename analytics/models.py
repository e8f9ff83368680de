from django.conf import settings
from django.db import models


class Badge(models.Model):
    """An achievement a user earned, once: the unique constraint makes a second award of
    the same code, even from a concurrent transaction, fail instead of duplicating it."""

    class Code(models.TextChoices):
        FIRST_POMODORO = "first_pomodoro", "First Pomodoro"
        POMODOROS_10 = "pomodoros_10", "10 Pomodoros"
        POMODOROS_100 = "pomodoros_100", "100 Pomodoros"
        POMODOROS_1000 = "pomodoros_1000", "1,000 Pomodoros"
        STREAK_7 = "streak_7", "7-day streak"
        STREAK_30 = "streak_30", "30-day streak"
        STREAK_100 = "streak_100", "100-day streak"
        GOAL_WEEK = "goal_week", "Daily goal met 5 days in a week"
        PERFECT_CYCLE = "perfect_cycle", "A full cycle without interruption"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=32, choices=Code.choices)
    # When the achievement happened in the user's data (the session that earned it).
    earned_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "code"], name="badge_user_code")]

    def __str__(self) -> str:
        return f"{self.code} of user {self.user_id}"

    @property
    def name(self) -> str:
        return self.Code(self.code).label
