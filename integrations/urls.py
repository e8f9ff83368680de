from django.urls import path

from integrations import api
from pomodoro import converters  # noqa: F401 (registers <id:...>)

urlpatterns = [
    path("webhooks/", api.WebhookListView.as_view(), name="webhook-list"),
    path("webhooks/<id:webhook_id>/", api.WebhookDetailView.as_view(), name="webhook-detail"),
    path(
        "webhooks/<id:webhook_id>/deliveries/",
        api.WebhookDeliveryListView.as_view(),
        name="webhook-delivery-list",
    ),
    path("webhooks/<id:webhook_id>/test/", api.WebhookTestView.as_view(), name="webhook-test"),
]
