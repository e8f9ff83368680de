import copy
import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce, Least, Lower, Upper
from django.db.models.lookups import GreaterThan

MAX_PLANNED_SECONDS = 24 * 3600
MAX_TAGS = 20  # on one session


# Text search (`q` on GET sessions/) is a case-insensitive substring match, which Django
# writes `UPPER(column) LIKE UPPER(pattern)`: trigram GIN indexes on UPPER(column) answer
# it without reading the user's whole history. They lead with the user (btree_gin), so
# that a common word is looked up among the user's rows, not every user's
# (docs/benchmarks.md, "Search and filters").
TRIGRAM_OPS = "gin_trgm_ops"


class Project(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=1000, blank=True)
    color = models.CharField(
        max_length=7,
        default="#e5533d",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a hex colour such as #e5533d.")],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["user", "id"],
                name="project_user_live",
                condition=Q(deleted_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return self.name


class Task(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks"
    )
    title = models.CharField(max_length=200)
    daily_goal_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Soft delete: the task leaves lists, its sessions keep their time in history.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["user", "id"], name="task_user_live", condition=Q(deleted_at__isnull=True)
            ),
            # q on GET sessions/ matches task titles too.
            GinIndex(
                F("user"), OpClass(Upper("title"), name=TRIGRAM_OPS), name="task_user_title_trgm"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(daily_goal_minutes__isnull=True)
                | Q(daily_goal_minutes__range=(1, 1440)),
                name="task_daily_goal_range",
            )
        ]

    def __str__(self) -> str:
        return self.title


class Tag(models.Model):
    """A label a user puts on sessions. Sessions hold the ids of their tags
    (`Session.tag_ids`); deleting a tag (a hard delete) takes it off them."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=50)
    color = models.CharField(
        max_length=7,
        default="#6b7280",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a hex colour such as #6b7280.")],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Unique per user ignoring case; also the index of the user's tag list.
            models.UniqueConstraint(F("user"), Lower("name"), name="tag_user_name_ci"),
        ]

    def __str__(self) -> str:
        return self.name


class SessionQuerySet(models.QuerySet):
    """Sessions as they stand at a moment. A running session whose planned length is
    reached (a stopwatch: its user's `stopwatch_max_minutes` of running time) is ended at
    its `target_end_at`, whether or not the worker has written it yet (`Session.as_of`);
    these filters and session_end_sql are the one way every read, report, board, metric
    and the worker itself select by that rule."""

    def due(self, at: datetime.datetime) -> "SessionQuerySet":
        """Running past target_end_at at `at` (the planned length, or a stopwatch's limit):
        completed there."""
        return self.filter(due_q(at))

    def active_at(self, at: datetime.datetime) -> "SessionQuerySet":
        return self.filter(state__in=Session.ACTIVE_STATES).exclude(due_q(at))

    def completed_at(self, at: datetime.datetime) -> "SessionQuerySet":
        return self.filter(Q(state=Session.State.COMPLETED) | due_q(at))

    def ended_or_due(self, at: datetime.datetime) -> "SessionQuerySet":
        return self.filter(Q(state__in=Session.ENDED_STATES) | due_q(at))

    def in_state_at(self, state: str, at: datetime.datetime) -> "SessionQuerySet":
        """The sessions that a read at `at` shows in `state`."""
        if state == Session.State.COMPLETED:
            return self.completed_at(at)
        if state == Session.State.RUNNING:
            return self.filter(state=state).exclude(due_q(at))
        return self.filter(state=state)


def due_q(at: datetime.datetime, *, prefix: str = "") -> Q:
    return Q(**{f"{prefix}state": "running", f"{prefix}target_end_at__lte": at})


def session_end(at: datetime.datetime) -> Case:
    """A session's end as a read at `at` sees it (null while it runs or is paused)."""
    return Case(When(due_q(at), then=F("target_end_at")), default=F("ended_at"))


def segment_end(at: datetime.datetime) -> Coalesce:
    """A segment's end as a read at `at` sees it: its own, else `at`, or its session's
    target if that came first (the running stretch of a due session ends there)."""
    moment = Value(at, output_field=models.DateTimeField())
    return Coalesce(F("ended_at"), Least(moment, Coalesce(F("session__target_end_at"), moment)))


# The same rule in SQL, for the reports written in SQL, given the session table's alias:
# whether the row is due at %(now)s, and its end as a read at %(now)s sees it.
def due_sql(alias: str) -> str:
    return f"({alias}.state = 'running' AND {alias}.target_end_at <= %(now)s)"


def session_end_sql(alias: str) -> str:
    return f"CASE WHEN {due_sql(alias)} THEN {alias}.target_end_at ELSE {alias}.ended_at END"


def segment_end_sql(segment: str, session: str) -> str:
    """`segment_end` in SQL, given the aliases of the segment and of its session: its own
    end, else %(now)s, or the session's target if that came first."""
    return (
        f"COALESCE({segment}.ended_at, LEAST(%(now)s, COALESCE({session}.target_end_at, %(now)s)))"
    )


class Session(models.Model):
    """One timed run. Running time is the sum of its segments; see sessions_app.services."""

    class Kind(models.TextChoices):
        FOCUS = "focus"
        SHORT_BREAK = "short_break"
        LONG_BREAK = "long_break"
        STOPWATCH = "stopwatch"

    class State(models.TextChoices):
        RUNNING = "running"
        PAUSED = "paused"
        COMPLETED = "completed"
        INTERRUPTED = "interrupted"

    class Source(models.TextChoices):
        TIMER = "timer"
        MANUAL = "manual"

    ACTIVE_STATES = (State.RUNNING, State.PAUSED)
    ENDED_STATES = (State.COMPLETED, State.INTERRUPTED)
    # Kinds whose running time is focus time in every report.
    FOCUS_KINDS = (Kind.FOCUS, Kind.STOPWATCH)
    BREAK_KINDS = (Kind.SHORT_BREAK, Kind.LONG_BREAK)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.FOCUS)
    state = models.CharField(max_length=16, choices=State.choices)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.TIMER)
    name = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=2000, blank=True)
    task = models.ForeignKey(
        Task, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    # The session's own project; the task's project whenever a task is set (services).
    # Indexed by `session_project_history`, which leads with it.
    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sessions",
        db_index=False,
    )
    # The ids of the user's tags on the session, ascending, no repeats. An array, not a
    # join table: a timer action reads and renders its session from one row
    # (sessions_app.statements), so tags cost it nothing. Tag deletion removes its id.
    tag_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    # Null for a stopwatch, which counts up with no planned length.
    planned_seconds = models.PositiveIntegerField(null=True, blank=True)
    # When the session was opened (created running, or created paused and not yet run).
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    # Set while running: the moment it ends by itself, where the planned length is reached
    # or, for a stopwatch, the user's stopwatch_max_minutes of running time (null with no
    # limit). Every read takes a running session past it as ended there (due_q).
    target_end_at = models.DateTimeField(null=True, blank=True)
    # Derived from the segments and kept with them in every transition, so that a
    # session can be shown without reading its segments: the total of the closed
    # segments, and the start of the open one while running.
    closed_running_time = models.DurationField(default=datetime.timedelta)
    running_since = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        constraints = [
            # The database itself holds "at most one active session per user", so it
            # holds even for a code path that forgot to lock.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(state__in=["running", "paused"], deleted_at__isnull=True),
                name="one_active_session_per_user",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="session_ends_after_start",
            ),
            models.CheckConstraint(
                condition=(
                    Q(state="running", running_since__isnull=False, ended_at__isnull=True)
                    | Q(state="paused", running_since__isnull=True, ended_at__isnull=True)
                    | Q(
                        state__in=["completed", "interrupted"],
                        running_since__isnull=True,
                        ended_at__isnull=False,
                    )
                ),
                name="session_state_fields",
            ),
            models.CheckConstraint(
                condition=Q(kind="stopwatch", planned_seconds__isnull=True)
                | (
                    ~Q(kind="stopwatch")
                    & Q(planned_seconds__gte=1, planned_seconds__lte=MAX_PLANNED_SECONDS)
                ),
                name="session_planned_by_kind",
            ),
        ]
        indexes = [
            models.Index(
                fields=["user", "-started_at", "-id"],
                name="session_history",
                condition=Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["target_end_at"], name="session_due", condition=Q(state="running")
            ),
            # GET sessions/?project= newest first (and the PROTECT check on projects).
            models.Index(
                fields=["project", "-started_at", "-id"],
                name="session_project_history",
                condition=Q(deleted_at__isnull=True),
            ),
            # GET sessions/?tag= (tag_ids @> ARRAY[id]), and a tag's deletion.
            GinIndex(fields=["tag_ids"], name="session_tags"),
            GinIndex(
                F("user"),
                OpClass(Upper("name"), name=TRIGRAM_OPS),
                name="session_user_name_trgm",
                condition=Q(deleted_at__isnull=True),
            ),
            GinIndex(
                F("user"),
                OpClass(Upper("description"), name=TRIGRAM_OPS),
                name="session_user_description_trgm",
                condition=Q(deleted_at__isnull=True),
            ),
            # The sessions that ended in a period (the summary's counts).
            models.Index(
                fields=["user", "ended_at"],
                name="session_user_end",
                condition=Q(deleted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES

    def elapsed(self, at: datetime.datetime) -> datetime.timedelta:
        """Running time up to `at` (pauses excluded)."""
        if self.running_since is None:
            return self.closed_running_time
        return self.closed_running_time + max(at - self.running_since, datetime.timedelta(0))

    def elapsed_seconds(self, at: datetime.datetime) -> int:
        return int(self.elapsed(at).total_seconds())

    def remaining_seconds(self, at: datetime.datetime) -> int | None:
        if self.planned_seconds is None:
            return None
        return max(self.planned_seconds - self.elapsed_seconds(at), 0)

    def planned_length_reached(self, at: datetime.datetime) -> bool:
        return self.planned_seconds is not None and self.elapsed(at) >= datetime.timedelta(
            seconds=self.planned_seconds
        )

    def is_due(self, at: datetime.datetime) -> bool:
        """Running and past target_end_at (the plan, or a stopwatch's limit): it ended there."""
        return (
            self.state == self.State.RUNNING
            and self.target_end_at is not None
            and (self.target_end_at <= at)
        )

    def close_running(self, at: datetime.datetime) -> None:
        """Ends the running stretch at `at` (the segment row is the services' to close)."""
        self.closed_running_time += at - self.running_since
        self.running_since = None
        self.target_end_at = None

    def end(self, *, at: datetime.datetime, state: str) -> None:
        """Ends the session at `at` in `state`, in memory; the services save it."""
        if self.state == self.State.RUNNING:
            self.close_running(at)
        self.state = state
        self.ended_at = at

    def as_of(self, at: datetime.datetime) -> "Session":
        """The session as a read at `at` shows it: one past its target is completed at
        its target_end_at, exactly as the worker (or the next write) records it, with
        the version that write will give it. Unchanged otherwise (the same object)."""
        if not self.is_due(at):
            return self
        shown = copy.copy(self)
        shown.end(at=self.target_end_at, state=self.State.COMPLETED)
        shown.version += 1
        return shown


# Reports find the segments overlapping a range by walking (user, started_at) from
# SHORT_SEGMENT before it, and the few longer or open ones in their own small index
# (analytics.selectors.overlapping). A planned session runs 24 hours at most.
SHORT_SEGMENT = datetime.timedelta(days=1)
# (end - start, not start + a day: an index predicate must be immutable.)
LONG_OR_OPEN = Q(ended_at__isnull=True) | GreaterThan(
    models.ExpressionWrapper(
        models.F("ended_at") - models.F("started_at"), output_field=models.DurationField()
    ),
    SHORT_SEGMENT,
)


class SessionSegment(models.Model):
    """A stretch of running time. The open segment of a running session has no end."""

    SHORT_SEGMENT = SHORT_SEGMENT
    LONG_OR_OPEN = LONG_OR_OPEN

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="segments")
    # Copied from the session so that reports can scan a user's time by range directly.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(ended_at__isnull=True),
                name="one_open_segment_per_session",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="segment_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "started_at"], name="segment_user_time"),
            models.Index(
                fields=["user", "started_at"], name="segment_long_or_open", condition=LONG_OR_OPEN
            ),
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} to {self.ended_at or 'now'}"
