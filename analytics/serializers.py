"""Query parameters and answers of the analytics endpoints."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.timeframes import PERIODS
from analytics.models import Badge
from analytics.reports import REPORT_KEYS, REPORT_MAX_DAYS, Report, ReportGroup
from analytics.selectors import HEATMAP_MAX_DAYS, LEADERBOARD_PERIODS
from pomodoro.validation import BoundedDateField
from sessions_app.models import Session


class SummaryInput(serializers.Serializer):
    period = serializers.ChoiceField(choices=PERIODS)
    date = BoundedDateField(
        required=False, help_text="A day of the period (one of your days); default today."
    )


class DayRangeInput(serializers.Serializer):
    """`from` and `to`, the user's first and last day (inclusive), `max_days` at most."""

    max_days: int
    to_help = "Your last day, inclusive."

    def get_fields(self):
        fields = super().get_fields()
        # `from` is a Python keyword, so these two are added by name.
        fields["from"] = BoundedDateField(help_text="Your first day, inclusive.")
        fields["to"] = BoundedDateField(help_text=self.to_help)
        return fields

    def too_long(self) -> str:
        return f"The range can cover {self.max_days} days at most."

    def validate(self, attrs):
        days = (attrs["to"] - attrs["from"]).days + 1
        if days < 1:
            raise serializers.ValidationError({"to": ["Must not be before from."]})
        if days > self.max_days:
            raise serializers.ValidationError({"to": [self.too_long()]})
        return attrs


class HeatmapInput(DayRangeInput):
    max_days = HEATMAP_MAX_DAYS


class ReportInput(DayRangeInput):
    FORMATS = ("json", "csv")
    max_days = REPORT_MAX_DAYS
    to_help = f"Your last day, inclusive; at most {REPORT_MAX_DAYS - 1} days after from."

    group_by = serializers.CharField(
        help_text=(
            "One key, or two separated by a comma (the second nested in each group of the "
            f"first), of: {', '.join(REPORT_KEYS)}."
        )
    )
    project = serializers.IntegerField(required=False, min_value=1, help_text="Only this project.")
    task = serializers.IntegerField(required=False, min_value=1, help_text="Only this task.")
    tag = serializers.IntegerField(required=False, min_value=1, help_text="Only this tag.")
    kind = serializers.ChoiceField(
        choices=Session.Kind.choices,
        required=False,
        help_text="Only this kind; default focus and stopwatch (focus time).",
    )
    format = serializers.ChoiceField(
        choices=FORMATS, default="json", help_text="json (the default) or csv."
    )

    def validate_group_by(self, value):
        keys = value.split(",")
        unknown = [key for key in keys if key not in REPORT_KEYS]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown key {unknown[0]!r}; use one or two of: {', '.join(REPORT_KEYS)}."
            )
        if len(keys) > 2:
            raise serializers.ValidationError("At most two keys.")
        if len(set(keys)) != len(keys):
            raise serializers.ValidationError("A key may appear once.")
        return keys

    def too_long(self) -> str:
        return f"Must be at most {REPORT_MAX_DAYS - 1} days after from."


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string", "format": "date"}],
        "nullable": True,
        "description": (
            "The id of the project, task or tag (null for time without one), or the ISO "
            "date of the first day of the day, week or month."
        ),
    }
)
class ReportKeyField(serializers.Field):
    def to_representation(self, value):
        return value


class ReportNestedGroupSerializer(serializers.Serializer):
    key = ReportKeyField()
    label = serializers.CharField(help_text="Name, title or period; (none) for a null key.")
    seconds = serializers.IntegerField()
    sessions = serializers.IntegerField(help_text="Sessions with time in this group.")


class ReportGroupSerializer(ReportNestedGroupSerializer):
    groups = ReportNestedGroupSerializer(
        many=True, required=False, help_text="With a second key only: this group, split by it."
    )


class ReportSerializer(serializers.Serializer):
    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        fields["to"] = serializers.DateField()
        fields["total_seconds"] = serializers.IntegerField(
            help_text="Each second once, however many tag groups it is in."
        )
        fields["groups"] = ReportGroupSerializer(many=True)
        return fields


def _group_data(group: ReportGroup) -> dict:
    data = {
        "key": group.key,
        "label": group.label,
        "seconds": group.seconds,
        "sessions": group.sessions,
    }
    if group.groups is not None:
        data["groups"] = [_group_data(nested) for nested in group.groups]
    return data


def report_data(report: Report) -> dict:
    return {
        "from": _DAY.to_representation(report.first),
        "to": _DAY.to_representation(report.last),
        "total_seconds": report.total_seconds,
        "groups": [_group_data(group) for group in report.groups],
    }


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
