"""Changes to a user's webhooks, and the outbox rows that carry events to them.

Design: a transactional outbox. Every recorded event of a user runs the reaction
`integrations.webhooks` (events.registry, in the statement that inserts the event, first
of the reactions),
which writes one delivery row per active endpoint of the user that wants the event's
type. The row commits or rolls back with the event, so every committed event is
delivered (at least once) and no rolled-back one ever is. The webhook worker
(integrations.delivery) sends the rows after the commit; nothing is sent from a request
or from inside a transaction. Rows are inserted in the order of the user's `seq` (the
event log hands out a user's seqs one transaction at a time), so the worker, taking
them in id order, makes first attempts in `seq` order.

The cost to a user without webhooks is one indexed read per event (in the statement
that inserts the event: `_deliveries_sql`).
"""

import base64
import json
import secrets
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from events.registry import StatementPart
from integrations.models import Webhook, WebhookDelivery
from integrations.selectors import webhook_get
from integrations.targets import url_problem
from pomodoro.timefmt import isoformat_utc

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
ALL_EVENTS_JSON = json.dumps([ALL_EVENTS])
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


def _deliveries_sql() -> str:
    """The outbox rows of an event (or of a batch of one type: events.log.events_record),
    one per active endpoint of the user that wants its type, written by the statement
    that inserts the event (a CTE reading `recorded`, the new event rows:
    events.registry.StatementPart). It runs with every event: as a
    statement of its own it cost a round trip, and built through the ORM (a filtered
    read, then bulk_create) a fifth of a pause's CPU (docs/benchmarks.md, "Issue 11:
    after"). The payload is Event.as_message(), with `at` formatted by Python; the
    message id is webhook_message_id()'s format, `msg_` and a uuid4's 32 hex digits,
    made by PostgreSQL (gen_random_uuid() is a version 4 uuid); `event_types @> '["*"]'`
    is ALL_EVENTS in the list. Rows are inserted in `seq` order, then endpoint order."""
    deliveries = WebhookDelivery._meta.db_table
    webhooks = Webhook._meta.db_table
    return (
        f"INSERT INTO {deliveries} (webhook_id, message_id, event_seq, type, payload, "
        "created_at, next_attempt_at, status, attempts, last_error) "
        "SELECT webhook.id, 'msg_' || replace(gen_random_uuid()::text, '-', ''), "
        "recorded.seq, recorded.type, jsonb_build_object('seq', recorded.seq, "
        "'type', recorded.type, 'at', %(webhooks_at)s::text, 'data', recorded.data), "
        "%(webhooks_now)s::timestamptz, %(webhooks_now)s::timestamptz, "
        f"%(webhooks_pending)s::varchar, 0, '' FROM recorded JOIN {webhooks} AS webhook "
        "ON webhook.user_id = recorded.user_id AND webhook.active "
        "AND (webhook.event_types @> %(webhooks_all)s::jsonb "
        "OR webhook.event_types @> jsonb_build_array(recorded.type)) "
        "ORDER BY recorded.seq, webhook.id"
    )


def _deliveries_params(event) -> dict:
    return {
        "webhooks_at": isoformat_utc(event.at),
        "webhooks_now": timezone.now(),
        "webhooks_pending": WebhookDelivery.Status.PENDING.value,
        "webhooks_all": ALL_EVENTS_JSON,
    }


def webhook_deliveries_part() -> StatementPart:
    """The reaction `integrations.webhooks` (events.registry, in the event's statement):
    for a user without webhooks, one indexed read that inserts nothing."""
    return StatementPart(sql=_deliveries_sql(), params=_deliveries_params)
