"""Reading webhooks and their delivery logs. Nothing here writes."""

from django.db.models import QuerySet
from rest_framework.exceptions import NotFound

from integrations.models import Webhook, WebhookDelivery


def webhook_list(*, user) -> QuerySet[Webhook]:
    return Webhook.objects.filter(user=user)


def webhook_get(*, user, webhook_id: int, lock: bool = False) -> Webhook:
    """The user's endpoint; another user's is as unknown as a missing one (404)."""
    webhooks = webhook_list(user=user)
    if lock:
        webhooks = webhooks.select_for_update(no_key=True)
    webhook = webhooks.filter(pk=webhook_id).first()
    if webhook is None:
        raise NotFound("No such webhook.")
    return webhook


def delivery_list(*, user, webhook_id: int) -> QuerySet[WebhookDelivery]:
    """The endpoint's delivery log (the caller orders it: newest first)."""
    webhook = webhook_get(user=user, webhook_id=webhook_id)
    return WebhookDelivery.objects.filter(webhook=webhook)
