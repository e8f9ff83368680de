from django.contrib import admin

from events.models import Event
from pomodoro.admin_readonly import ReadOnlyAdminMixin


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["user", "seq", "type", "at"]
    list_filter = ["type"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    ordering = ["user", "-seq"]
