from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import TimerSettings, User


class TimerSettingsInline(admin.StackedInline):
    model = TimerSettings
    can_delete = False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["-date_joined"]
    list_display = [
        "id",
        "email",
        "display_name",
        "timezone",
        "is_guest",
        "is_active",
        "is_staff",
        "date_joined",
    ]
    list_filter = ["is_guest", "is_active", "is_staff", "leaderboard_opt_out"]
    search_fields = ["email", "display_name"]
    readonly_fields = ["date_joined", "last_login", "token_generation"]
    inlines = [TimerSettingsInline]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (
            "Profile",
            {
                "fields": [
                    "display_name",
                    "timezone",
                    "day_starts_at",
                    "week_starts_on",
                    "leaderboard_opt_out",
                    "is_guest",
                ]
            },
        ),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "token_generation"]}),
        ("Dates", {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    filter_horizontal: list[str] = []


@admin.register(TimerSettings)
class TimerSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "focus_minutes",
        "short_break_minutes",
        "long_break_minutes",
        "long_break_every",
        "daily_goal_minutes",
    ]
    list_filter = ["auto_start_breaks", "auto_start_focus"]
    search_fields = ["user__email", "user__display_name"]
    list_select_related = ["user"]
