"""Input validation and output shapes of projects, tasks, sessions and events."""

import datetime
import re

from django.utils import timezone
from rest_framework import serializers

from accounts import timeframes
from accounts.timeframes import PERIODS
from pomodoro.timefmt import isoformat_utc
from pomodoro.validation import (
    BoundedDateField,
    BoundedDateTimeField,
    ensure_date_in_range,
    ensure_instant_in_range,
)
from sessions_app.models import MAX_PLANNED_SECONDS, Project, Session, Task


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name", "description", "color"]


class ProjectIdField(serializers.IntegerField):
    """A project id in and out; a deleted project is no longer shown, its tasks read as having
    none."""

    def get_attribute(self, task):
        project = task.project
        return project.pk if project is not None and project.deleted_at is None else None


class TaskSerializer(serializers.ModelSerializer):
    project = ProjectIdField(
        allow_null=True, required=False, min_value=1, help_text="A project of yours, or null."
    )
    today_focus_seconds = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Task
        fields = ["id", "title", "project", "daily_goal_minutes", "archived", "today_focus_seconds"]


class TaskFilterInput(serializers.Serializer):
    archived = serializers.BooleanField(required=False, allow_null=True, default=None)
    project = serializers.IntegerField(required=False, min_value=1)


class SessionSerializer(serializers.Serializer):
    """The session object of the contract; figures are as of `server_time`. The fields
    declare it (for the schema); `session_representation` renders it."""

    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=Session.Kind.choices, read_only=True)
    state = serializers.ChoiceField(choices=Session.State.choices, read_only=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    task = serializers.IntegerField(source="task_id", allow_null=True, read_only=True)
    planned_seconds = serializers.IntegerField(allow_null=True, read_only=True)
    elapsed_seconds = serializers.IntegerField(read_only=True)
    remaining_seconds = serializers.IntegerField(allow_null=True, read_only=True)
    started_at = serializers.DateTimeField(read_only=True)
    ended_at = serializers.DateTimeField(allow_null=True, read_only=True)
    target_end_at = serializers.DateTimeField(allow_null=True, read_only=True)
    version = serializers.IntegerField(read_only=True)
    source = serializers.ChoiceField(choices=Session.Source.choices, read_only=True)
    server_time = serializers.DateTimeField(read_only=True)

    def _now(self):
        if "now" not in self.context:
            self.context["now"] = timezone.now()
        return self.context["now"]

    def to_representation(self, session):
        return session_representation(
            session, now=self._now(), as_written=self.context.get("as_written", False)
        )


def session_representation(session: Session, *, now, as_written: bool = False) -> dict:
    """The session object as SessionSerializer declares it, built directly: a timer action
    renders its session twice (the event and the answer), and constructing a serializer
    (a deep copy of every declared field) cost more than the rendering itself.
    SessionSerializer renders through this function, so the two cannot differ.

    As of `now`: one past its target reads completed there (Session.as_of), except
    `as_written`, in an event, which records the session as the change wrote it."""
    if not as_written:
        session = session.as_of(now)
    return {
        "id": session.pk,
        "kind": session.kind,
        "state": session.state,
        "name": session.name,
        "description": session.description,
        "task": session.task_id,
        "planned_seconds": session.planned_seconds,
        "elapsed_seconds": session.elapsed_seconds(now),
        "remaining_seconds": session.remaining_seconds(now),
        "started_at": _moment(session.started_at),
        "ended_at": _moment(session.ended_at),
        "target_end_at": _moment(session.target_end_at),
        "version": session.version,
        "source": session.source,
        "server_time": isoformat_utc(now),
    }


def _moment(at):
    return None if at is None else isoformat_utc(at)


class PlannedSecondsField(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_PLANNED_SECONDS)
        super().__init__(**kwargs)


class SessionCreateInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Session.Kind.choices, default=Session.Kind.FOCUS)
    task = serializers.IntegerField(allow_null=True, required=False, default=None, min_value=1)
    name = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    description = serializers.CharField(
        max_length=2000, allow_blank=True, required=False, default=""
    )
    planned_seconds = PlannedSecondsField(
        allow_null=True,
        required=False,
        default=None,
        help_text="Defaults to the length in your settings for this kind; none for a stopwatch.",
    )
    start = serializers.BooleanField(default=True)

    def validate(self, attrs):
        if attrs["kind"] == Session.Kind.STOPWATCH and attrs.get("planned_seconds") is not None:
            raise serializers.ValidationError(
                {"planned_seconds": ["A stopwatch counts up and has no planned length."]}
            )
        return attrs


class SessionUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    description = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    task = serializers.IntegerField(allow_null=True, required=False, min_value=1)
    planned_seconds = PlannedSecondsField(required=False)
    started_at = BoundedDateTimeField(
        required=False,
        help_text="Corrects the start: on an ended session, its running time becomes the one "
        "span from here to ended_at; on an active one, only earlier, and the first running "
        "span starts here.",
    )
    ended_at = BoundedDateTimeField(
        required=False,
        help_text="Corrects the end of an ended session (its running time becomes the one "
        "span from started_at to here); not accepted on an active session.",
    )


class SessionStopInput(serializers.Serializer):
    at = BoundedDateTimeField(
        required=False,
        help_text="When it really ended (a forgotten timer): a past moment, not before the "
        "session's last start or pause. Default: now.",
    )


class SessionLogInput(serializers.Serializer):
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=Session.Kind.choices, default=Session.Kind.FOCUS)
    task = serializers.IntegerField(allow_null=True, required=False, default=None, min_value=1)
    name = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    description = serializers.CharField(
        max_length=2000, allow_blank=True, required=False, default=""
    )

    def validate(self, attrs):
        if attrs["ended_at"] <= attrs["started_at"]:
            raise serializers.ValidationError({"ended_at": ["Must be after started_at."]})
        return attrs


class SessionFilterInput(serializers.Serializer):
    period = serializers.ChoiceField(choices=PERIODS, required=False)
    date = BoundedDateField(required=False, help_text="A day of the period; default today.")
    task = serializers.IntegerField(required=False, min_value=1)
    kind = serializers.ChoiceField(choices=Session.Kind.choices, required=False)
    state = serializers.ChoiceField(choices=Session.State.choices, required=False)

    def get_fields(self):
        fields = super().get_fields()
        # `from` is a Python keyword, so these two are added by name.
        fields["from"] = BoundedDateTimeField(required=False)
        fields["to"] = BoundedDateTimeField(required=False)
        return fields

    def validate(self, attrs):
        if "period" in attrs and ("from" in attrs or "to" in attrs):
            raise serializers.ValidationError(
                {"period": ["Give either period (and date) or from/to, not both."]}
            )
        if "date" in attrs and "period" not in attrs:
            raise serializers.ValidationError({"date": ["date goes with period."]})
        if "from" in attrs and "to" in attrs and attrs["to"] <= attrs["from"]:
            raise serializers.ValidationError({"to": ["Must be after from."]})
        return attrs


class DateOrDateTimeField(serializers.Field):
    """`YYYY-MM-DD` (a date) or an ISO 8601 datetime with an offset."""

    DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    default_error_messages = {
        "invalid": "Give a date (YYYY-MM-DD) or a datetime with an offset "
        "(2026-01-01T09:00:00+01:00 or ...Z).",
        "naive": "Give the datetime's offset (+01:00 or Z), or a date (YYYY-MM-DD).",
    }

    def to_internal_value(self, data) -> datetime.date | datetime.datetime:
        text = str(data).strip()
        try:
            if self.DATE.match(text):
                return ensure_date_in_range(datetime.date.fromisoformat(text))
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            self.fail("invalid")
        if moment.tzinfo is None:
            self.fail("naive")
        return ensure_instant_in_range(moment)

    def to_representation(self, value) -> str:
        return value.isoformat()


class SessionExportInput(serializers.Serializer):
    """`from` and `to` bound the sessions' start as a half-open range [from, to); a date
    means the instant the user's day of that date begins (their `day_starts_at` in their
    timezone). Needs the user in the context (`user`)."""

    FORMATS = ("csv", "json")

    format = serializers.ChoiceField(choices=FORMATS, default="csv")

    def get_fields(self):
        fields = super().get_fields()
        # `from` is a Python keyword, so these two are added by name.
        fields["from"] = DateOrDateTimeField(required=False)
        fields["to"] = DateOrDateTimeField(required=False)
        return fields

    def validate(self, attrs):
        user = self.context["user"]
        for bound in ("from", "to"):
            value = attrs.get(bound)
            if value is None:
                continue
            try:
                if isinstance(value, datetime.datetime):
                    attrs[bound] = value.astimezone(datetime.UTC)
                else:
                    attrs[bound] = timeframes.day_start(user, value)
            except OverflowError:
                raise serializers.ValidationError({bound: ["Out of range."]}) from None
        if "from" in attrs and "to" in attrs and attrs["to"] <= attrs["from"]:
            raise serializers.ValidationError({"to": ["Must be after from."]})
        return attrs


class SessionExportRowSerializer(serializers.Serializer):
    """The shape of one exported session (for the schema; `sessions_app.export` writes the
    rows itself, to stream them)."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Session.Kind.choices)
    state = serializers.ChoiceField(choices=Session.State.choices)
    source = serializers.ChoiceField(choices=Session.Source.choices)
    name = serializers.CharField()
    description = serializers.CharField()
    task_id = serializers.IntegerField(allow_null=True)
    task_title = serializers.CharField(allow_null=True)
    project_name = serializers.CharField(allow_null=True)
    started_at_utc = serializers.DateTimeField()
    ended_at_utc = serializers.DateTimeField(allow_null=True)
    started_at_local = serializers.DateTimeField(help_text="In your timezone, with its offset.")
    ended_at_local = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.IntegerField(
        help_text="Running time (pauses excluded); a running session up to now."
    )
    planned_seconds = serializers.IntegerField(allow_null=True)


class NextStepSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Session.Kind.choices)
    planned_seconds = serializers.IntegerField()
