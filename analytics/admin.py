from django.contrib import admin

from analytics.models import Badge


@admin.register(Badge)
class BadgeAdmin(admin.ModelAdmin):
    list_display = ["user", "code", "earned_at"]
    list_filter = ["code"]
    search_fields = ["user__email"]
    readonly_fields = ["user", "code", "earned_at", "created_at"]
