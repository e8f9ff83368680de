from django.contrib import admin, messages

from pomodoro.admin_readonly import ReadOnlyAdminMixin
from sessions_app import services
from sessions_app.models import Project, Session, SessionSegment, Task


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "name", "user", "color", "created_at", "deleted_at"]
    search_fields = ["name", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["user", "created_at", "updated_at", "deleted_at"]


@admin.register(Task)
class TaskAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "title",
        "user",
        "project",
        "daily_goal_minutes",
        "archived",
        "deleted_at",
    ]
    list_filter = ["archived"]
    search_fields = ["title", "user__email"]
    list_select_related = ["user", "project"]
    readonly_fields = ["user", "project", "created_at", "updated_at", "deleted_at"]


class SegmentInline(admin.TabularInline):
    model = SessionSegment
    fields = ["started_at", "ended_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.action(description="End the selected active sessions now (as a stop would)")
def end_sessions(modeladmin, request, queryset):
    ended = 0
    for session in queryset.filter(state__in=Session.ACTIVE_STATES).select_related("user"):
        services.session_stop(user=session.user, session_id=session.pk)
        ended += 1
    modeladmin.message_user(request, f"Ended {ended} session(s).", messages.SUCCESS)


@admin.register(Session)
class SessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: state changes only through the services (see the action). No hard
    delete either: it would skip the service, so no event, and history and analytics
    would lose time the contract says stays (sessions are only soft-deleted)."""

    list_display = [
        "id",
        "user",
        "kind",
        "state",
        "source",
        "planned_seconds",
        "started_at",
        "ended_at",
        "deleted_at",
    ]
    list_filter = ["state", "kind", "source"]
    search_fields = ["name", "user__email", "task__title"]
    list_select_related = ["user"]
    date_hierarchy = "started_at"
    actions = [end_sessions]
    inlines = [SegmentInline]
