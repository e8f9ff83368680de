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
from sessions_app.models import MAX_PLANNED_SECONDS, MAX_TAGS, Project, Session, Tag, Task

# Ids are bigints: a larger number names nothing, and must not reach SQL as one.
MAX_ID = 2**63 - 1


def object_id(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name", "description", "color"]


class TagSerializer(serializers.ModelSerializer):
    """A tag in and out. Uniqueness of the name (ignoring case) is the service's rule,
    checked with the database constraint behind it (sessions_app.tags). A name holds
    no comma: exports and imports list a session's tags in one comma-separated cell."""

    class Meta:
        model = Tag
        fields = ["id", "name", "color"]

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("This field may not be blank.")
        if "," in value:
            raise serializers.ValidationError("A tag name cannot hold a comma.")
        return value


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
    project = serializers.IntegerField(source="project_id", allow_null=True, read_only=True)
    tags = serializers.ListField(
        child=serializers.IntegerField(), read_only=True, help_text="Tag ids, ascending."
    )
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
        "project": session.project_id,
        "tags": list(session.tag_ids),
        "server_time": isoformat_utc(now),
    }


def _moment(at):
    return None if at is None else isoformat_utc(at)


def project_input(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(
        allow_null=True,
        required=False,
        min_value=1,
        help_text="A project of yours. With a task, it must be the task's project "
        "(the default when left out).",
        **kwargs,
    )


def tags_input(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=object_id(),
        required=False,
        max_length=MAX_TAGS,
        help_text=f"Ids of tags of yours (at most {MAX_TAGS}); the list replaces the "
        "session's tags.",
        **kwargs,
    )


class PlannedSecondsField(serializers.IntegerField):
    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_PLANNED_SECONDS)
        super().__init__(**kwargs)


class SessionCreateInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Session.Kind.choices, default=Session.Kind.FOCUS)
    task = serializers.IntegerField(allow_null=True, required=False, default=None, min_value=1)
    project = project_input()
    tags = tags_input()
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
    project = project_input()
    tags = tags_input()
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
    project = project_input()
    tags = tags_input()
    name = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    description = serializers.CharField(
        max_length=2000, allow_blank=True, required=False, default=""
    )

    def validate(self, attrs):
        if attrs["ended_at"] <= attrs["started_at"]:
            raise serializers.ValidationError({"ended_at": ["Must be after started_at."]})
        return attrs


class SessionBulkChanges(serializers.Serializer):
    task = serializers.IntegerField(
        allow_null=True,
        required=False,
        min_value=1,
        help_text="A task of yours (the sessions take its project), or null.",
    )
    name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    description = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    add_tags = serializers.ListField(child=object_id(), required=False, max_length=MAX_TAGS)
    remove_tags = serializers.ListField(child=object_id(), required=False, max_length=MAX_TAGS)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Name at least one change.")
        return attrs


class SessionBulkInput(serializers.Serializer):
    """All or nothing: one id that is not yours answers 404 and changes nothing."""

    ACTIONS = ("delete", "update")

    ids = serializers.ListField(child=object_id(), min_length=1, max_length=500)
    action = serializers.ChoiceField(choices=ACTIONS)
    changes = SessionBulkChanges(required=False, help_text="With `update` only.")

    def validate(self, attrs):
        if attrs["action"] == "update" and "changes" not in attrs:
            raise serializers.ValidationError({"changes": ["update needs changes."]})
        if attrs["action"] == "delete" and "changes" in attrs:
            raise serializers.ValidationError({"changes": ["delete takes no changes."]})
        return attrs


class SessionBulkResult(serializers.Serializer):
    count = serializers.IntegerField(
        help_text="Sessions changed: every one deleted; for update, those not already as asked."
    )


class SessionFilterInput(serializers.Serializer):
    period = serializers.ChoiceField(choices=PERIODS, required=False)
    date = BoundedDateField(required=False, help_text="A day of the period; default today.")
    task = serializers.IntegerField(required=False, min_value=1)
    project = object_id(required=False)
    tag = object_id(required=False, help_text="Sessions with this tag.")
    kind = serializers.ChoiceField(choices=Session.Kind.choices, required=False)
    state = serializers.ChoiceField(choices=Session.State.choices, required=False)
    source = serializers.ChoiceField(choices=Session.Source.choices, required=False)
    q = serializers.CharField(
        required=False,
        max_length=200,
        help_text="Text in the name, description or task title, ignoring case.",
    )

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
    project_id = serializers.IntegerField(allow_null=True)
    project_name = serializers.CharField(
        allow_null=True, help_text="The session's project, unless it was deleted."
    )
    tags = serializers.CharField(help_text="The names of its tags, sorted, joined by ', '.")
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


# Why `sessions/import/` skips a row (sessions_app/imports.py says when each applies).
IMPORT_SKIP_REASONS = (
    "invalid_row",
    "invalid_time",
    "invalid_kind",
    "not_ended",
    "in_future",
    "ends_before_start",
    "too_long",
    "text_too_long",
    "overlaps_session",
    "overlaps_row",
)


class SessionImportInput(serializers.Serializer):
    dry_run = serializers.BooleanField(
        default=False, help_text="true: check every row and answer the same, writing nothing."
    )


class SkippedRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The data row, counted from 1 (after the header).")
    reason = serializers.ChoiceField(
        choices=IMPORT_SKIP_REASONS, help_text="Why it was skipped (docs/api.md, Import)."
    )


class SessionImportResultSerializer(serializers.Serializer):
    imported = serializers.IntegerField(
        help_text="Sessions written (or, in a dry run, that would be)."
    )
    skipped = SkippedRowSerializer(many=True)
