from django.contrib import admin

from integrations.models import Webhook, WebhookDelivery
from pomodoro.admin_readonly import ReadOnlyAdminMixin


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "user", "url", "active", "failure_count", "disabled_at"]
    list_filter = ["active"]
    search_fields = ["user__email", "url"]
    list_select_related = ["user"]
    # The secret signs the user's deliveries: not shown to operators either.
    exclude = ["secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "webhook", "type", "event_seq", "status", "attempts", "next_attempt_at"]
    list_filter = ["status"]
    ordering = ["-id"]
