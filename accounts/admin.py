from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import TimerSettings, User
from pomodoro.admin_readonly import ReadOnlyAdminMixin
from pomodoro.emails import normalize_email


class TimerSettingsInline(admin.StackedInline):
    """Read-only: settings change through accounts.services, which records the event."""

    model = TimerSettings
    can_delete = False

    def has_change_permission(self, request, obj=None):
        return False


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

    def save_model(self, request, obj, form, change):
        # Emails are stored lower-cased: login by email is case-insensitive only then.
        # (The form already refused a case variant of a taken email: user_email_ci_unique.)
        if obj.email:
            obj.email = normalize_email(obj.email)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Every user has timer settings (accounts.services.user_create makes them); the
        # inline of the add page saves them only when one of its values was edited.
        TimerSettings.objects.get_or_create(user=form.instance)


@admin.register(TimerSettings)
class TimerSettingsAdmin(admin.ModelAdmin):
    """Read-only: settings change through accounts.services, which records the event."""

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

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


# simplejwt's own admin lets staff delete a blacklist entry, which would make a used or
# logged-out refresh token work again, and shows whole refresh tokens: both are replaced.
for token_model in (OutstandingToken, BlacklistedToken):
    if admin.site.is_registered(token_model):
        admin.site.unregister(token_model)


@admin.register(OutstandingToken)
class OutstandingTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["jti", "user", "created_at", "expires_at"]
    fields = ["jti", "user", "created_at", "expires_at"]
    search_fields = ["jti", "user__email"]
    list_select_related = ["user"]

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and request.user.is_staff


@admin.register(BlacklistedToken)
class BlacklistedTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["token", "blacklisted_at"]
    fields = ["token", "blacklisted_at"]
    list_select_related = ["token"]
