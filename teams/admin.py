from django.contrib import admin

from pomodoro.admin_readonly import ReadOnlyAdminMixin
from teams.models import Invite, Membership, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["user", "role", "joined_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Team)
class TeamAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read only: membership changes record events, so only teams.services makes them."""

    list_display = ["id", "name", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["name", "created_at"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "team", "user", "role", "joined_at"]
    list_filter = ["role"]
    search_fields = ["team__name", "user__email"]
    list_select_related = ["team", "user"]
    readonly_fields = ["team", "user", "role", "joined_at"]


@admin.register(Invite)
class InviteAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "team", "created_by", "expires_at", "max_uses", "uses", "revoked_at"]
    search_fields = ["team__name"]
    list_select_related = ["team", "created_by"]
    # The code is a credential: not shown in lists, only on the invite's own page.
    readonly_fields = [
        "team",
        "code",
        "created_by",
        "created_at",
        "expires_at",
        "max_uses",
        "uses",
        "revoked_at",
    ]
