"""Bodies and answers of the team endpoints."""

from rest_framework import serializers

from analytics.selectors import LEADERBOARD_PERIODS
from teams.models import Invite, Membership


class TeamSerializer(serializers.Serializer):
    """A team as one member sees it: read from that member's membership."""

    id = serializers.IntegerField(source="team.id", read_only=True)
    name = serializers.CharField(source="team.name", read_only=True)
    role = serializers.ChoiceField(
        choices=Membership.Role.choices, read_only=True, help_text="Your role in the team."
    )


class TeamInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class MemberUserSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    display_name = serializers.CharField(read_only=True)


class MembershipSerializer(serializers.Serializer):
    team = serializers.IntegerField(source="team_id", read_only=True)
    user = MemberUserSerializer(read_only=True)
    role = serializers.ChoiceField(choices=Membership.Role.choices, read_only=True)
    joined_at = serializers.DateTimeField(read_only=True)


class RoleInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class InviteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invite
        fields = ["code", "expires_at", "max_uses", "uses", "created_at"]
        read_only_fields = fields


class InviteInput(serializers.Serializer):
    max_uses = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=10_000
    )


class JoinInput(serializers.Serializer):
    code = serializers.CharField(max_length=64)


# Named in SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] (sessions have a `state` too).
MEMBER_STATES = ("focus", "break", "paused", "idle")


class MemberStatusSerializer(serializers.Serializer):
    user = MemberUserSerializer()
    state = serializers.ChoiceField(choices=MEMBER_STATES)
    remaining_seconds = serializers.IntegerField(
        allow_null=True, help_text="Null when idle and for a stopwatch."
    )
    today_focus_seconds = serializers.IntegerField(help_text="In the member's own current day.")


class TeamStatusSerializer(serializers.Serializer):
    members = MemberStatusSerializer(many=True)


class TeamLeaderboardInput(serializers.Serializer):
    period = serializers.ChoiceField(choices=LEADERBOARD_PERIODS, default="today")
