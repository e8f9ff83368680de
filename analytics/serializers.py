"""Query parameters and answers of the analytics endpoints."""

from rest_framework import serializers

from accounts.timeframes import PERIODS
from analytics.models import Badge
from analytics.selectors import HEATMAP_MAX_DAYS, LEADERBOARD_PERIODS
from pomodoro.validation import BoundedDateField


class SummaryInput(serializers.Serializer):
    period = serializers.ChoiceField(choices=PERIODS)
    date = BoundedDateField(
        required=False, help_text="A day of the period (one of your days); default today."
    )


class HeatmapInput(serializers.Serializer):
    def get_fields(self):
        fields = super().get_fields()
        # `from` is a Python keyword, so these two are added by name.
        fields["from"] = BoundedDateField(help_text="Your first day, inclusive.")
        fields["to"] = BoundedDateField(help_text="Your last day, inclusive.")
        return fields

    def validate(self, attrs):
        days = (attrs["to"] - attrs["from"]).days + 1
        if days < 1:
            raise serializers.ValidationError({"to": ["Must not be before from."]})
        if days > HEATMAP_MAX_DAYS:
            raise serializers.ValidationError(
                {"to": [f"The range can cover {HEATMAP_MAX_DAYS} days at most."]}
            )
        return attrs


class LeaderboardInput(serializers.Serializer):
    period = serializers.ChoiceField(choices=LEADERBOARD_PERIODS, default="today")


class TaskFocusSerializer(serializers.Serializer):
    task = serializers.IntegerField(allow_null=True, help_text="Null for time without a task.")
    title = serializers.CharField(allow_null=True)
    focus_seconds = serializers.IntegerField()
    goal_seconds = serializers.IntegerField(
        allow_null=True, help_text="The task's daily goal times the days of the period."
    )


class DayFocusSerializer(serializers.Serializer):
    date = serializers.DateField()
    focus_seconds = serializers.IntegerField()


class SummarySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=PERIODS)
    start = serializers.DateTimeField(help_text="The instant the period begins.")
    end = serializers.DateTimeField(help_text="The instant the next period begins (exclusive).")
    focus_seconds = serializers.IntegerField()
    break_seconds = serializers.IntegerField()
    completed_focus_count = serializers.IntegerField()
    interrupted_count = serializers.IntegerField()
    by_task = TaskFocusSerializer(many=True)
    by_day = DayFocusSerializer(many=True)
    previous_focus_seconds = serializers.IntegerField()


_INSTANT = serializers.DateTimeField()
_DAY = serializers.DateField()


def summary_data(summary) -> dict:
    """What `SummarySerializer(summary).data` gives, built directly: DRF's serializer
    took a third of the request's Python time for the 30 days and the tasks of a month
    (the output's fields and formats are the serializer's, which stays the schema)."""
    return {
        "period": summary.period,
        "start": _INSTANT.to_representation(summary.start),
        "end": _INSTANT.to_representation(summary.end),
        "focus_seconds": summary.focus_seconds,
        "break_seconds": summary.break_seconds,
        "completed_focus_count": summary.completed_focus_count,
        "interrupted_count": summary.interrupted_count,
        "by_task": [
            {
                "task": row.task,
                "title": row.title,
                "focus_seconds": row.focus_seconds,
                "goal_seconds": row.goal_seconds,
            }
            for row in summary.by_task
        ],
        "by_day": [
            {"date": _DAY.to_representation(row.date), "focus_seconds": row.focus_seconds}
            for row in summary.by_day
        ],
        "previous_focus_seconds": summary.previous_focus_seconds,
    }


class HeatmapSerializer(serializers.Serializer):
    cells = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), min_length=24, max_length=24),
        min_length=7,
        max_length=7,
        help_text="Focus seconds by local weekday (Monday first) and local hour (0-23).",
    )


class BadgeSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=Badge.Code.choices)
    name = serializers.CharField()
    earned_at = serializers.DateTimeField()


class StreakSerializer(serializers.Serializer):
    current_days = serializers.IntegerField()
    longest_days = serializers.IntegerField()
    badges = BadgeSerializer(many=True)


class LeaderboardUserSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="user_id")
    display_name = serializers.CharField()


class LeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    user = LeaderboardUserSerializer(source="*")
    focus_seconds = serializers.IntegerField()


class LeaderboardSerializer(serializers.Serializer):
    results = LeaderboardRowSerializer(many=True)
