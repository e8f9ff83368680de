"""Idempotency-Key: a POST retried with the same key within 24 hours answers the first
answer again and changes nothing (the contract's Conventions). `idempotent` wraps a
view method; the functions below keep the records it needs."""

import functools
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from pomodoro.errors import PROBLEM_CONTENT_TYPE, problem_for_exception
from pomodoro.exceptions import IdempotencyInProgress, IdempotencyKeyReused
from pomodoro.models import IdempotencyRecord

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 128},
    OpenApiParameter.HEADER,
    description=(
        "Up to 128 characters. A retry with the same key within 24 hours answers the first "
        "answer again and changes nothing."
    ),
)
REPLAYED_HEADERS = ("ETag", "Location")


def idempotent(view_method=None, *, body_of=None):
    """Makes a POST honour the Idempotency-Key header. `body_of(request)` is what of the
    request its fingerprint covers besides method and path: by default the parsed body
    (`request.data`); an upload gives its file's digest and its query (`@idempotent(
    body_of=...)`).

    The key is claimed (committed) before the work, so a concurrent retry answers 409
    idempotency_in_progress. The answer is stored in the same transaction as the change
    it describes; an error answer is stored after its rollback, so a retry gets it
    again; an unexpected failure frees the key.
    """

    if view_method is None:
        return functools.partial(idempotent, body_of=body_of)

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view_method(self, request, *args, **kwargs)
        if not 1 <= len(key) <= 128:
            raise ValidationError({"Idempotency-Key": ["Must be 1 to 128 characters."]})
        fingerprint = request_fingerprint(
            method=request.method,
            path=request.path,
            body=request.data if body_of is None else body_of(request),
        )
        claim = idempotency_claim(user=request.user, key=key, fingerprint=fingerprint)
        if claim.replay is not None:
            replay = claim.replay
            response = Response(replay.response_body, status=replay.response_status)
            for name, value in replay.response_headers.items():
                response[name] = value
            if replay.response_status >= 400:
                response.content_type = PROBLEM_CONTENT_TYPE
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            with transaction.atomic():
                response = view_method(self, request, *args, **kwargs)
                headers = {name: response[name] for name in REPLAYED_HEADERS if name in response}
                idempotency_complete(
                    record=claim.record,
                    status=response.status_code,
                    body=response.data,
                    headers=headers,
                )
            return response
        except APIException as error:
            body, headers = problem_for_exception(error)
            idempotency_complete(
                record=claim.record, status=body["status"], body=body, headers=headers
            )
            raise
        except BaseException:
            idempotency_release(record=claim.record)
            raise

    return wrapper


@dataclass(frozen=True)
class IdempotencyClaim:
    """Either a claim on the key (record set), or the first answer to send again."""

    record: IdempotencyRecord | None = None
    replay: IdempotencyRecord | None = None


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_claim(*, user, key: str, fingerprint: str) -> IdempotencyClaim:
    """Claims `key` for this request, committed at once so that a concurrent retry sees
    it in progress. An expired key (24 h) or a claim left by a request that died is
    taken over with a compare-and-set, so only one request ever holds it."""
    now = timezone.now()
    with transaction.atomic():
        record, created = IdempotencyRecord.objects.get_or_create(
            user=user, key=key, defaults={"fingerprint": fingerprint, "created_at": now}
        )
    if created:
        return IdempotencyClaim(record=record)
    expired = record.created_at <= now - settings.IDEMPOTENCY_KEY_TTL
    abandoned = (
        record.state == IdempotencyRecord.State.IN_PROGRESS
        and record.updated_at <= now - settings.IDEMPOTENCY_STALE_AFTER
    )
    if not expired:
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        if record.state == IdempotencyRecord.State.DONE:
            return IdempotencyClaim(replay=record)
        if not abandoned:
            raise IdempotencyInProgress()
    taken_over = IdempotencyRecord.objects.filter(
        pk=record.pk, updated_at=record.updated_at
    ).update(
        fingerprint=fingerprint,
        state=IdempotencyRecord.State.IN_PROGRESS,
        response_status=None,
        response_body=None,
        response_headers={},
        created_at=now if expired else record.created_at,
        updated_at=now,
    )
    if not taken_over:
        raise IdempotencyInProgress()
    record.refresh_from_db()
    return IdempotencyClaim(record=record)


def idempotency_complete(
    *, record: IdempotencyRecord, status: int, body: Any, headers: dict[str, str]
) -> None:
    """Stores the answer; called inside the transaction of the change it answers."""
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.DONE,
        response_status=status,
        response_body=body,
        response_headers=headers,
        updated_at=timezone.now(),
    )


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Frees the key after an unexpected failure, so that a retry can run for real."""
    IdempotencyRecord.objects.filter(pk=record.pk).delete()


def idempotency_purge_expired() -> int:
    cutoff = timezone.now() - settings.IDEMPOTENCY_KEY_TTL
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lte=cutoff).delete()
    return deleted
