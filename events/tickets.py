"""Tickets that open the events WebSocket: single use, valid 60 seconds, redeemable in
any server process (they live in the cache: Redis in production)."""

import datetime
import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone

REALTIME_TICKET_TTL = datetime.timedelta(seconds=60)


def _ticket_key(ticket: str) -> str:
    # Only a hash is stored, so a look at the cache cannot open anyone's socket.
    return "ws-ticket:" + hashlib.sha256(ticket.encode()).hexdigest()


def realtime_ticket_create(*, user) -> tuple[str, datetime.datetime]:
    """A single-use ticket that opens one WebSocket for `user` within 60 seconds. It lives
    in the cache (Redis in production), so any server process can redeem it."""
    ticket = secrets.token_urlsafe(32)
    payload = {"user_id": user.pk, "generation": user.token_generation}
    cache.set(_ticket_key(ticket), payload, timeout=REALTIME_TICKET_TTL.total_seconds())
    return ticket, timezone.now() + REALTIME_TICKET_TTL


def realtime_ticket_redeem(*, ticket: str) -> tuple[object, int] | None:
    """The ticket's user and token generation, once: the delete is the redemption, and
    only the caller whose delete removed the key wins a race for one ticket."""
    if not ticket or len(ticket) > 128:
        return None
    key = _ticket_key(ticket)
    payload = cache.get(key)
    if payload is None or not cache.delete(key):
        return None
    user = get_user_model().objects.filter(pk=payload["user_id"], is_active=True).first()
    if user is None or user.token_generation != payload["generation"]:
        return None
    return user, payload["generation"]


def realtime_credentials_current(*, user_id: int, generation: int) -> bool:
    """False once the user was disabled or changed their password since the socket opened."""
    return (
        get_user_model()
        .objects.filter(pk=user_id, is_active=True, token_generation=generation)
        .exists()
    )
