import datetime
import functools
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone as django_timezone


@functools.cache
def _timezone_names() -> frozenset[str]:
    # available_timezones() reads the tz database from disk (milliseconds per call); the set
    # cannot change while the process runs, so it is read once, on first use.
    return frozenset(zoneinfo.available_timezones())


def validate_timezone_name(value: str) -> None:
    if value not in _timezone_names():
        raise ValidationError(f"{value!r} is not an IANA time zone name, such as Europe/Paris.")


class UserManager(BaseUserManager):
    """Used by `createsuperuser` and the admin; the API creates users through accounts.services."""

    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        # accounts.services imports these models: imported at call time, not at the top.
        from accounts.services import user_create

        return user_create(email=email, password=password, **fields)

    def create_superuser(self, email, password=None, **fields):
        # accounts.services imports these models: imported at call time, not at the top.
        from accounts.services import user_create

        return user_create(
            email=email, password=password, is_staff=True, is_superuser=True, **fields
        )


class User(AbstractBaseUser, PermissionsMixin):
    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    # Guests have no email; stored lower-cased so that login is case-insensitive.
    email = models.EmailField(max_length=254, unique=True, null=True, blank=True)
    display_name = models.CharField(max_length=100, blank=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone_name])
    day_starts_at = models.TimeField(default=datetime.time(0, 0))
    week_starts_on = models.PositiveSmallIntegerField(
        choices=Weekday.choices, default=Weekday.MONDAY
    )
    leaderboard_opt_out = models.BooleanField(default=False)
    is_guest = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=django_timezone.now)
    # Every token carries the generation it was issued in; raising it (on a password
    # change) makes every earlier access and refresh token invalid at once.
    token_generation = models.PositiveIntegerField(default=0)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(week_starts_on__gte=0, week_starts_on__lte=6),
                name="user_week_starts_on_range",
            ),
            models.CheckConstraint(
                condition=models.Q(is_guest=True) | models.Q(email__isnull=False),
                name="user_email_unless_guest",
            ),
        ]

    def __str__(self) -> str:
        return self.email or f"guest #{self.pk}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def set_password(self, raw_password):
        # Changing a password revokes every token issued before it (and with them the
        # open sockets); setting the first one, when a guest claims its account, does not.
        if self.password and self.has_usable_password():
            self.token_generation += 1
        super().set_password(raw_password)


class TimerSettings(models.Model):
    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="timer_settings"
    )
    focus_minutes = models.PositiveSmallIntegerField(
        default=25, validators=[MinValueValidator(1), MaxValueValidator(240)]
    )
    short_break_minutes = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(240)]
    )
    long_break_minutes = models.PositiveSmallIntegerField(
        default=15, validators=[MinValueValidator(1), MaxValueValidator(240)]
    )
    long_break_every = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    auto_start_breaks = models.BooleanField(default=False)
    auto_start_focus = models.BooleanField(default=False)
    daily_goal_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    # A running stopwatch is stopped by the server at this much running time (a forgotten
    # timer); null for no limit.
    stopwatch_max_minutes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        default=600,
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
    )

    class Meta:
        verbose_name_plural = "timer settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    focus_minutes__range=(1, 240),
                    short_break_minutes__range=(1, 240),
                    long_break_minutes__range=(1, 240),
                    long_break_every__range=(1, 12),
                ),
                name="timer_settings_ranges",
            ),
            models.CheckConstraint(
                condition=models.Q(daily_goal_minutes__isnull=True)
                | models.Q(daily_goal_minutes__range=(1, 1440)),
                name="timer_settings_daily_goal_range",
            ),
            models.CheckConstraint(
                condition=models.Q(stopwatch_max_minutes__isnull=True)
                | models.Q(stopwatch_max_minutes__range=(1, 1440)),
                name="timer_settings_stopwatch_max_range",
            ),
        ]

    def __str__(self) -> str:
        return f"settings of {self.user}"

    def planned_seconds_for(self, kind: str) -> int | None:
        minutes = {
            "focus": self.focus_minutes,
            "short_break": self.short_break_minutes,
            "long_break": self.long_break_minutes,
        }.get(kind)
        return None if minutes is None else minutes * 60

    @property
    def stopwatch_max_running_time(self) -> datetime.timedelta | None:
        """The running time at which a stopwatch is stopped; None for no limit."""
        if self.stopwatch_max_minutes is None:
            return None
        return datetime.timedelta(minutes=self.stopwatch_max_minutes)


class PersonalAccessToken(models.Model):
    """A long-lived API token for scripts (`Authorization: Bearer pat_...`). Only a keyed
    hash of it is stored (accounts.secrets): the database never holds a usable token."""

    class Scope(models.TextChoices):
        READ = "read"
        WRITE = "write"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=8, choices=Scope.choices)
    # The first characters of the token, shown so that a person can tell tokens apart.
    prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=django_timezone.now)
    # Written at most once a minute per token (accounts.authentication), not per request.
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="pat_user_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}...)"


class CalendarFeed(models.Model):
    """The secret URL of a user's calendar feed; one per user. Only a keyed hash of its
    token is stored, as for personal access tokens."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=django_timezone.now)

    def __str__(self) -> str:
        return f"calendar feed of user {self.user_id}"
