"""Teams, their members and invites. Only teams.services changes these rows."""

import datetime
import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

INVITE_LIFETIME = datetime.timedelta(days=7)


def new_invite_code() -> str:
    """32 URL-safe characters, 192 random bits: not to be guessed, even without the
    rate limit on joining."""
    return secrets.token_urlsafe(24)


def default_invite_expiry() -> datetime.datetime:
    return timezone.now() + INVITE_LIFETIME


class Team(models.Model):
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner"
        ADMIN = "admin"
        MEMBER = "member"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_team_user"),
        ]
        # The unique index serves lookups by team; this one "my teams" by user.
        indexes = [models.Index(fields=["user", "team"], name="membership_user_team")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.team_id} ({self.role})"


class Invite(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invites")
    code = models.CharField(max_length=64, unique=True, default=new_invite_code)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=default_invite_expiry)
    # Null: any number of uses until it expires.
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(max_uses__gte=1), name="invite_max_uses"
            ),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(uses__lte=models.F("max_uses")),
                name="invite_uses_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return f"invite to {self.team_id}"

    def usable(self, at: datetime.datetime) -> bool:
        return (
            self.revoked_at is None
            and self.expires_at > at
            and (self.max_uses is None or self.uses < self.max_uses)
        )
