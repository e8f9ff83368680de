"""Changes to a user's webhooks, and the outbox rows that carry events to them.

Design: a transactional outbox. Every recorded event of a user runs the reaction
`integrations.webhooks` (events.registry, in the transaction, first of the reactions),
which writes one delivery row per active endpoint of the user that wants the event's
type. The row commits or rolls back with the event, so every committed event is
delivered (at least once) and no rolled-back one ever is. The webhook worker
(integrations.delivery) sends the rows after the commit; nothing is sent from a request
or from inside a transaction. Rows are inserted in the order of the user's `seq` (the
event log hands out a user's seqs one transaction at a time), so the worker, taking
them in id order, makes first attempts in `seq` order.

The cost to a user without webhooks is one indexed read per event.
"""

import base64
import secrets
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from events.registry import Recorded
from integrations.models import Webhook, WebhookDelivery
from integrations.selectors import webhook_get
from integrations.targets import url_problem

# The event types a webhook may ask for: every type the event log records
# (docs/api.md#events), or "*" for all of them.
WEBHOOK_EVENT_TYPES = frozenset(
    {
        "session.started",
        "session.paused",
        "session.stopped",
        "session.completed",
        "session.reset",
        "session.updated",
        "session.deleted",
        "session.logged",
        "task.created",
        "task.updated",
        "task.deleted",
        "project.created",
        "project.updated",
        "project.deleted",
        "tag.created",
        "tag.updated",
        "tag.deleted",
        "settings.updated",
        "profile.updated",
        "badge.earned",
        "team.joined",
        "team.role_changed",
        "team.left",
        "team.deleted",
    }
)
ALL_EVENTS = "*"
TEST_EVENT_TYPE = "webhook.test"
SECRET_PREFIX = "whsec_"


def webhook_secret_new() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def _url_ensure_allowed(url: str) -> None:
    problem = url_problem(url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_TARGETS)
    if problem:
        raise ValidationError({"url": [problem]})


def _event_types_normalized(event_types: list[str]) -> list[str]:
    if ALL_EVENTS in event_types:
        return [ALL_EVENTS]
    return list(dict.fromkeys(event_types))  # without repeats, in the order given


def webhook_create(*, user, url: str, event_types: list[str], active: bool = True) -> Webhook:
    """A new endpoint with a new secret (the caller shows it once)."""
    _url_ensure_allowed(url)
    return Webhook.objects.create(
        user=user,
        url=url,
        event_types=_event_types_normalized(event_types),
        active=active,
        secret=webhook_secret_new(),
    )


@transaction.atomic
def webhook_update(*, user, webhook_id: int, **changes) -> Webhook:
    """Changes url, event_types or active. Turning a disabled endpoint on again starts
    its failure count afresh; turning it off keeps its pending deliveries pending."""
    webhook = webhook_get(user=user, webhook_id=webhook_id, lock=True)
    if "url" in changes:
        _url_ensure_allowed(changes["url"])
        webhook.url = changes["url"]
    if "event_types" in changes:
        webhook.event_types = _event_types_normalized(changes["event_types"])
    if "active" in changes:
        if changes["active"] and not webhook.active:
            webhook.failure_count = 0
            webhook.failing_since = None
            webhook.disabled_at = None
        webhook.active = changes["active"]
    webhook.save()
    return webhook


def webhook_delete(*, user, webhook_id: int) -> None:
    """Deletes the endpoint and its delivery log; nothing more is sent to it."""
    webhook_get(user=user, webhook_id=webhook_id).delete()


def webhook_test(*, user, webhook_id: int) -> WebhookDelivery:
    """Queues a `webhook.test` message to the endpoint (even a disabled one: a user may
    check a repaired endpoint before turning it on again)."""
    webhook = webhook_get(user=user, webhook_id=webhook_id)
    now = timezone.now()
    return WebhookDelivery.objects.create(
        webhook=webhook,
        message_id=webhook_message_id(),
        event_seq=None,
        type=TEST_EVENT_TYPE,
        payload={
            "seq": None,
            "type": TEST_EVENT_TYPE,
            "at": now.isoformat().replace("+00:00", "Z"),
            "data": {"webhook": webhook.pk},
        },
        created_at=now,
        next_attempt_at=now,
    )


def webhook_deliveries_on_event(recorded: Recorded) -> None:
    """The outbox rows of a just-recorded event, in its transaction (events.registry)."""
    webhook_deliveries_on_events([recorded])


def webhook_deliveries_on_events(records: list[Recorded]) -> None:
    """The outbox rows of events of one type recorded together (events.log.events_record),
    in one query for the endpoints and one insert, in `seq` order."""
    event_type = records[0].event.type
    endpoints = [
        pk
        for pk, event_types in Webhook.objects.filter(
            user_id=records[0].user.pk, active=True
        ).values_list("pk", "event_types")
        if ALL_EVENTS in event_types or event_type in event_types
    ]
    if not endpoints:
        return
    now = timezone.now()
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            webhook_id=pk,
            message_id=webhook_message_id(),
            event_seq=recorded.event.seq,
            type=event_type,
            payload=recorded.event.as_message(),
            created_at=now,
            next_attempt_at=now,
        )
        for recorded in records
        for pk in endpoints
    )
