"""Input validation and output shapes of the accounts API. No business rules here."""

from django.contrib.auth import password_validation
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import PersonalAccessToken, TimerSettings, User, validate_timezone_name

HH_MM = "%H:%M"


class TimezoneField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("help_text", "An IANA time zone name, such as Europe/Paris.")
        super().__init__(**kwargs)
        self.validators.append(validate_timezone_name)


@extend_schema_field(
    {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "04:00"}
)
class HourMinuteField(serializers.TimeField):
    """A time of day as HH:MM. OpenAPI's `time` format means HH:MM:SS, so it is a pattern."""

    def __init__(self, **kwargs):
        super().__init__(format=HH_MM, input_formats=[HH_MM], **kwargs)


class PasswordField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.update(write_only=True, trim_whitespace=False, max_length=128)
        kwargs.setdefault("help_text", password_validation.password_validators_help_text_html())
        kwargs.setdefault("style", {"input_type": "password"})
        super().__init__(**kwargs)


class ProfileSerializer(serializers.ModelSerializer):
    timezone = TimezoneField(required=False)
    day_starts_at = HourMinuteField(required=False)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "display_name",
            "timezone",
            "day_starts_at",
            "week_starts_on",
            "is_guest",
            "leaderboard_opt_out",
        ]
        read_only_fields = ["id", "email", "is_guest"]


class TimerSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = TimerSettings
        fields = [
            "focus_minutes",
            "short_break_minutes",
            "long_break_minutes",
            "long_break_every",
            "auto_start_breaks",
            "auto_start_focus",
            "daily_goal_minutes",
            "stopwatch_max_minutes",
        ]


class RegisterInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = PasswordField()
    display_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    timezone = TimezoneField(required=False)


class LoginInput(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = PasswordField()


class ClaimInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = PasswordField()


class RefreshTokenInput(serializers.Serializer):
    refresh = serializers.CharField(max_length=2048)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class UserWithTokensSerializer(serializers.Serializer):
    user = ProfileSerializer()
    access = serializers.CharField()
    refresh = serializers.CharField()


class UserOnlySerializer(serializers.Serializer):
    user = ProfileSerializer()


class PasswordChangeInput(serializers.Serializer):
    current_password = PasswordField(help_text="Your password now.")
    new_password = PasswordField()


class PasswordResetInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmInput(serializers.Serializer):
    token = serializers.CharField(max_length=200, help_text="The token of the emailed link.")
    new_password = PasswordField()


class AccountDeleteInput(serializers.Serializer):
    password = PasswordField(
        required=False, help_text="Your password; a guest account, which has none, sends none."
    )


class PersonalAccessTokenSerializer(serializers.ModelSerializer):
    expires_at = serializers.DateTimeField(required=False, allow_null=True)

    class Meta:
        model = PersonalAccessToken
        fields = ["id", "name", "scope", "prefix", "created_at", "last_used_at", "expires_at"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at"]


class PersonalAccessTokenCreatedSerializer(PersonalAccessTokenSerializer):
    token = serializers.CharField(
        read_only=True, help_text="The token itself (pat_...), shown this once."
    )

    class Meta(PersonalAccessTokenSerializer.Meta):
        fields = [*PersonalAccessTokenSerializer.Meta.fields, "token"]


class CalendarFeedSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="The secret feed URL; anyone with it can read the feed.")
