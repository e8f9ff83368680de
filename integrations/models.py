"""Outgoing webhooks: a user's endpoints and the outbox of deliveries to them.

A delivery row is written in the transaction of the event it carries (the outbox,
integrations.services.webhook_deliveries_part), so an event that commits is
delivered at least once and one that rolls back never is. The webhook worker
(integrations.delivery) sends the rows and records each attempt on them: the rows are
also the endpoint's delivery log.
"""

from django.conf import settings
from django.db import models


class Webhook(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=2000)
    event_types = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    # Needed in clear to sign (HMAC): shown once at creation, never answered again.
    secret = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    # Failed attempts since the last success, and when that run of failures began:
    # an endpoint failing for WEBHOOK_DISABLE_AFTER is disabled (active false, disabled_at).
    failure_count = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "active"], name="webhook_user_active")]

    def __str__(self) -> str:
        return f"webhook {self.pk} of user {self.user_id}: {self.url}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    # Indexed with id below (the delivery log, newest first), not on its own.
    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    # The `webhook-id` header: the same on every attempt, so a receiver can drop repeats.
    message_id = models.CharField(max_length=40, unique=True)
    event_seq = models.PositiveBigIntegerField(null=True, blank=True)  # null: webhook.test
    type = models.CharField(max_length=40)
    # The event as GET events/ answers it ({seq, type, at, data}): the body's `data`.
    payload = models.JSONField()
    created_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Claimed by a worker until then: another worker leaves the row alone, and takes it
    # over if the first died (at least once: the receiver may see it twice).
    leased_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["webhook", "id"], name="webhook_delivery_log"),
            # The worker's claim: pending rows in outbox order.
            models.Index(
                fields=["id"],
                name="webhook_delivery_pending",
                condition=models.Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} to webhook {self.webhook_id}: {self.status}"
