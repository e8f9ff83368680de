"""The webhook worker's side of the outbox: claiming due deliveries and recording what
each attempt gave. Short transactions, never open during a network call.

Claiming: the due rows (pending, next attempt reached, not leased, endpoint active or a
test message) in id order, at most `per_endpoint` of any one endpoint and none of the
endpoints the worker has enough of (`busy`), locked with SKIP LOCKED and leased: another
worker leaves them alone until the lease ends, and takes them over if this one died
(so a receiver may see a message twice: at least once, never lost). The lease covers
sending every row claimed for an endpoint, one after another, each within the timeout.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F, Q, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from integrations.models import Webhook, WebhookDelivery
from integrations.services import TEST_EVENT_TYPE

# After a failed attempt: about 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then every 2 h,
# until the message is 24 hours old; an endpoint failing for 24 hours is disabled.
RETRY_DELAYS_SECONDS = (5, 30, 120, 600, 1800, 3600)
RETRY_LATER_EVERY_SECONDS = 7200
RETRY_FOR = datetime.timedelta(hours=24)
DISABLE_AFTER = datetime.timedelta(hours=24)
LOG_KEPT = datetime.timedelta(days=30)
DISABLED_ERROR = "Not sent: the endpoint was disabled after 24 hours of failures."


_RECORD_STATEMENT = (
    f"UPDATE {WebhookDelivery._meta.db_table} SET status = %s, attempts = %s, "
    "last_status_code = %s, last_error = %s, next_attempt_at = %s, delivered_at = %s, "
    "leased_until = NULL WHERE id = %s"
)


def _db_time(value: datetime.datetime | None):
    return None if value is None else connection.ops.adapt_datetimefield_value(value)


def retry_delay(attempts: int) -> datetime.timedelta:
    """The wait after the `attempts`-th failed attempt (1 = the first attempt failed)."""
    if attempts <= len(RETRY_DELAYS_SECONDS):
        return datetime.timedelta(seconds=RETRY_DELAYS_SECONDS[attempts - 1])
    return datetime.timedelta(seconds=RETRY_LATER_EVERY_SECONDS)


@dataclass(frozen=True)
class Claimed:
    """A delivery as the worker sends it."""

    id: int
    webhook_id: int
    url: str
    secret: str
    message_id: str
    type: str
    payload: dict
    created_at: datetime.datetime
    attempts: int  # made before this one
    endpoint_failing: bool  # the endpoint's last attempt failed


@dataclass(frozen=True)
class Outcome:
    delivery: Claimed
    ok: bool
    at: datetime.datetime  # when the attempt ended
    status_code: int | None = None
    error: str = ""


def deliveries_claim(
    *, limit: int, per_endpoint: int, busy: frozenset[int], lease: datetime.timedelta
) -> list[Claimed]:
    """Takes the due deliveries (see the module's docstring), in id order."""
    now = timezone.now()
    not_leased = Q(leased_until__isnull=True) | Q(leased_until__lt=now)
    due = (
        WebhookDelivery.objects.filter(not_leased, status=WebhookDelivery.Status.PENDING)
        .filter(next_attempt_at__lte=now)
        .filter(Q(webhook__active=True) | Q(type=TEST_EVENT_TYPE))
        .exclude(webhook_id__in=busy)
        .annotate(rank=Window(RowNumber(), partition_by=F("webhook_id"), order_by=F("id").asc()))
        .filter(rank__lte=per_endpoint)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    ids = list(due)
    if not ids:
        return []
    with transaction.atomic():
        rows = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(not_leased, pk__in=ids, status=WebhookDelivery.Status.PENDING)
            .select_related("webhook")
            .order_by("id")
        )
        WebhookDelivery.objects.filter(pk__in=[row.pk for row in rows]).update(
            leased_until=now + lease
        )
    return [
        Claimed(
            id=row.pk,
            webhook_id=row.webhook_id,
            url=row.webhook.url,
            secret=row.webhook.secret,
            message_id=row.message_id,
            type=row.type,
            payload=row.payload,
            created_at=row.created_at,
            attempts=row.attempts,
            endpoint_failing=row.webhook.failure_count > 0,
        )
        for row in rows
    ]


def deliveries_release(*, ids: list[int]) -> None:
    """Gives back claimed deliveries not attempted (the worker is stopping)."""
    WebhookDelivery.objects.filter(pk__in=ids).update(leased_until=None)


@transaction.atomic
def outcomes_record(*, outcomes: list[Outcome]) -> list[int]:
    """Writes the attempts' results on their deliveries and their endpoints. Answers
    the ids of the endpoints it disabled."""
    # An endpoint turned off (by its user, or disabled) while an attempt was in flight:
    # a failure there is final, not retried (the worker no longer claims its rows).
    inactive = set(
        Webhook.objects.filter(
            pk__in={o.delivery.webhook_id for o in outcomes}, active=False
        ).values_list("pk", flat=True)
    )
    rows = []
    for outcome in outcomes:
        claimed = outcome.delivery
        attempts = claimed.attempts + 1
        delivered_at = next_attempt_at = None
        if outcome.ok:
            status = WebhookDelivery.Status.DELIVERED
            delivered_at = outcome.at
        else:
            retry_at = outcome.at + retry_delay(attempts)
            final = claimed.webhook_id in inactive and claimed.type != TEST_EVENT_TYPE
            if final or retry_at - claimed.created_at > RETRY_FOR:
                status = WebhookDelivery.Status.FAILED
            else:
                status = WebhookDelivery.Status.PENDING
                next_attempt_at = retry_at
        rows.append(
            (
                status,
                attempts,
                outcome.status_code,
                outcome.error[:300],
                _db_time(next_attempt_at),
                _db_time(delivered_at),
                claimed.id,
            )
        )
    # One plain UPDATE per row, sent together (psycopg pipelines executemany): Django's
    # bulk_update builds a CASE of every row for every column, measured at 2 s for a
    # few hundred rows, which held back the worker's rounds.
    with connection.cursor() as cursor:
        cursor.executemany(_RECORD_STATEMENT, rows)
    return _endpoints_record(outcomes)


def _endpoints_record(outcomes: list[Outcome]) -> list[int]:
    """Each endpoint's run of failures: reset by a success, disabling the endpoint once it
    lasts DISABLE_AFTER. Test messages leave it alone."""
    by_endpoint: dict[int, list[Outcome]] = defaultdict(list)
    for outcome in sorted(outcomes, key=lambda o: o.at):
        if outcome.delivery.type != TEST_EVENT_TYPE:
            by_endpoint[outcome.delivery.webhook_id].append(outcome)
    disabled = []
    for webhook_id, results in by_endpoint.items():
        last_success = max((i for i, o in enumerate(results) if o.ok), default=None)
        failures = results if last_success is None else results[last_success + 1 :]
        if not failures:
            if any(o.delivery.endpoint_failing for o in results):
                Webhook.objects.filter(pk=webhook_id).update(failure_count=0, failing_since=None)
            continue
        if last_success is None:
            Webhook.objects.filter(pk=webhook_id).update(
                failure_count=F("failure_count") + len(failures),
                failing_since=Coalesce(F("failing_since"), failures[0].at),
            )
        else:
            Webhook.objects.filter(pk=webhook_id).update(
                failure_count=len(failures), failing_since=failures[0].at
            )
        now = failures[-1].at
        if Webhook.objects.filter(
            pk=webhook_id, active=True, failing_since__lte=now - DISABLE_AFTER
        ).update(active=False, disabled_at=now):
            WebhookDelivery.objects.filter(
                webhook_id=webhook_id, status=WebhookDelivery.Status.PENDING
            ).exclude(type=TEST_EVENT_TYPE).update(
                status=WebhookDelivery.Status.FAILED,
                next_attempt_at=None,
                leased_until=None,
                last_error=DISABLED_ERROR,
            )
            disabled.append(webhook_id)
    return disabled


def deliveries_purge_old() -> int:
    """Forgets delivered and failed deliveries older than LOG_KEPT."""
    deleted, _ = (
        WebhookDelivery.objects.filter(created_at__lt=timezone.now() - LOG_KEPT)
        .exclude(status=WebhookDelivery.Status.PENDING)
        .delete()
    )
    return deleted
