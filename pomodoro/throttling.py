"""Rate limits and the failed-login lockout (docs/api.md#rate-limits).

The throttles are DRF throttles (views list them in `throttle_classes`, rates live in
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], the client address is DRF's `get_ident` with
NUM_PROXIES, see pomodoro.client_address), but they count differently. DRF's
SimpleRateThrottle keeps a list of timestamps per key and writes it back with a
get-then-set: concurrent requests read the same list and each pass, so a client with
enough parallel connections is not limited at all (the very case of a password-guessing
script). Here a limit is a fixed window that starts at the key's first request: one
counter whose increment and expiry are a single Redis transaction, so N parallel
requests are counted N times, the window ends on its own, and the seconds until it ends
are the RateLimit-Reset header.

Every limit that applied to a request is recorded on it, and RateLimitHeadersMiddleware
answers the tightest one in RateLimit-Limit / RateLimit-Remaining / RateLimit-Reset, on
429s and successes alike.
"""

import hashlib
import ipaddress
import logging
import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError
from rest_framework.exceptions import Throttled
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.state import token_backend

from pomodoro.client_address import client_ip
from pomodoro.emails import normalize_email
from pomodoro.exceptions import LoginLockedOut

logger = logging.getLogger("pomodoro.throttling")

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# --- Fixed-window counters ----------------------------------------------------------------


@dataclass(frozen=True)
class WindowCount:
    count: int
    reset_seconds: float  # until the window ends and the count starts again from zero


# Local-memory caches live inside one process, so a process-wide lock makes their
# read-modify-write atomic; Redis does it in a transaction instead.
_local_counter_lock = threading.Lock()


def _redis_client_and_key(cache: RedisCache, key: str):
    # Django's RedisCache has no atomic "increment, creating with an expiry": its incr()
    # checks EXISTS then INCRs, and a key expiring in between comes back without a TTL,
    # a counter that would never reset. So we talk to its client directly.
    return cache._cache.get_client(key, write=True), cache.make_and_validate_key(key)


def window_hit(key: str, *, duration: int) -> WindowCount:
    """Counts one event under `key` in a window of `duration` seconds that starts with
    the key's first event, and returns the count so far, this one included."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        client, redis_key = _redis_client_and_key(cache, key)
        with client.pipeline(transaction=True) as pipe:
            pipe.set(redis_key, 0, ex=duration, nx=True)
            pipe.incr(redis_key)
            pipe.pttl(redis_key)
            _, count, ttl_ms = pipe.execute()
        return WindowCount(count=count, reset_seconds=max(ttl_ms, 0) / 1000)
    with _local_counter_lock:
        now = time.time()
        count, ends_at = cache.get(key) or (0, 0.0)
        if ends_at <= now:
            count, ends_at = 0, now + duration
        count += 1
        cache.set(key, (count, ends_at), timeout=ends_at - now)
    return WindowCount(count=count, reset_seconds=ends_at - now)


def window_peek(key: str) -> WindowCount:
    """The count under `key` without adding to it (0 once its window has ended)."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        client, redis_key = _redis_client_and_key(cache, key)
        with client.pipeline(transaction=True) as pipe:
            pipe.get(redis_key)
            pipe.pttl(redis_key)
            count, ttl_ms = pipe.execute()
        if count is None or ttl_ms <= 0:
            return WindowCount(count=0, reset_seconds=0)
        return WindowCount(count=int(count), reset_seconds=ttl_ms / 1000)
    now = time.time()
    count, ends_at = cache.get(key) or (0, 0.0)
    if ends_at <= now:
        return WindowCount(count=0, reset_seconds=0)
    return WindowCount(count=count, reset_seconds=ends_at - now)


def window_clear(key: str) -> None:
    caches["default"].delete(key)


# --- Recording limits for the headers ---------------------------------------------------


@dataclass(frozen=True)
class RateLimitQuota:
    limit: int
    remaining: int
    reset_seconds: float
    exceeded: bool


def record_quota(request, quota: RateLimitQuota) -> None:
    """Notes a limit that applied to `request` (a DRF or Django request), for the headers."""
    django_request = getattr(request, "_request", request)
    if not hasattr(django_request, "rate_limit_quotas"):
        django_request.rate_limit_quotas = []
    django_request.rate_limit_quotas.append(quota)


def whole_seconds(seconds: float) -> int:
    """Seconds rounded up, at least 1: a client that waits this long is let through."""
    return max(1, math.ceil(seconds))


def tightest_quota(quotas: list[RateLimitQuota]) -> RateLimitQuota:
    """The limit a client should heed: one that refused the request (the longest wait, as
    in Retry-After), else the one with the fewest requests left."""
    return min(
        quotas, key=lambda quota: (not quota.exceeded, quota.remaining, -quota.reset_seconds)
    )


class RateLimitHeadersMiddleware:
    """Adds RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (IETF draft
    "RateLimit header fields for HTTP": Reset is seconds until the window ends) to every
    response of a request that a rate limit applied to."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        quotas = getattr(request, "rate_limit_quotas", None)
        if quotas:
            quota = tightest_quota(quotas)
            response["RateLimit-Limit"] = str(quota.limit)
            response["RateLimit-Remaining"] = str(quota.remaining)
            response["RateLimit-Reset"] = str(whole_seconds(quota.reset_seconds))
        return response


# --- Throttles ---------------------------------------------------------------------------


class FixedWindowThrottle(SimpleRateThrottle):
    """A DRF throttle counting `scope` per `identity()` in fixed windows (see module doc).

    A rate of None (RATE_LIMIT_<SCOPE>=off) turns the limit off; identity() returning None
    leaves the request to the other throttles."""

    def get_rate(self):
        # Read per request, not bound at import as SimpleRateThrottle.THROTTLE_RATES is,
        # so settings overrides apply. A scope missing from the settings is a bug: KeyError.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def identity(self, request, view) -> str | None:
        raise NotImplementedError

    def get_ident(self, request) -> str:
        """The client address (client_ip); an IPv6 address counts as its /64, which one
        subscriber usually holds whole."""
        address = client_ip(request)
        if address is None:
            return str(request.META.get("REMOTE_ADDR"))
        if address.version == 4:
            return str(address)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))

    def get_cache_key(self, request, view) -> str | None:
        identity = self.identity(request, view)
        if identity is None:
            return None
        return self.key_for(identity)

    def key_for(self, identity: str) -> str:
        return f"throttle:{self.scope}:{identity}"

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        quota = self.count(self.key)
        if quota is None:
            return True
        self.quota = quota
        record_quota(request, self.quota)
        return not self.quota.exceeded

    def count(self, key: str) -> RateLimitQuota | None:
        """Counts one request under `key`; None when it could not be counted."""
        try:
            counted = window_hit(key, duration=self.duration)
        except RedisError:
            # Fails open: with Redis down the API keeps answering, unlimited for a while,
            # rather than refusing everyone (docs/drills.md, Redis down).
            logger.warning("rate limit not counted: Redis unavailable", exc_info=True)
            return None
        return RateLimitQuota(
            limit=self.num_requests,
            remaining=max(0, self.num_requests - counted.count),
            reset_seconds=counted.reset_seconds,
            exceeded=counted.count > self.num_requests,
        )

    def wait(self) -> float:
        return self.quota.reset_seconds


class ClientIpThrottle(FixedWindowThrottle):
    def identity(self, request, view) -> str:
        return self.get_ident(request)


class AuthenticatedUserThrottle(FixedWindowThrottle):
    def identity(self, request, view) -> str | None:
        user = request.user
        return str(user.pk) if user and user.is_authenticated else None


def email_identity(email: object) -> str | None:
    """The account a login names, whether or not it exists (so limits do not tell), hashed
    so that cache keys hold no addresses."""
    if not isinstance(email, str) or not email.strip():
        return None
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]


def _request_field(request, name: str) -> object:
    data = request.data  # a body that is not JSON raises ParseError: 400, as in the view
    return data.get(name) if isinstance(data, dict) else None


class LoginIpThrottle(ClientIpThrottle):
    scope = "login_ip"


class LoginAccountThrottle(FixedWindowThrottle):
    scope = "login_account"

    def identity(self, request, view) -> str | None:
        return email_identity(_request_field(request, "email"))


class RegisterIpThrottle(ClientIpThrottle):
    scope = "register_ip"


class GuestIpThrottle(ClientIpThrottle):
    scope = "guest_ip"


class RefreshIpThrottle(ClientIpThrottle):
    """Also counts logouts: both spend a refresh token."""

    scope = "refresh_ip"


class RefreshAccountThrottle(FixedWindowThrottle):
    """Per the refresh token's user. Only a token with a valid signature names a user,
    so nobody can spend another user's quota with a forged one."""

    scope = "refresh_account"

    def identity(self, request, view) -> str | None:
        raw_token = _request_field(request, "refresh")
        if not isinstance(raw_token, str) or not raw_token:
            return None
        try:
            payload = token_backend.decode(raw_token, verify=True)
        except TokenBackendError:
            return None
        user_id = payload.get(jwt_settings.USER_ID_CLAIM)
        return None if user_id is None else str(user_id)


class TicketIpThrottle(ClientIpThrottle):
    scope = "ticket_ip"


class TicketUserThrottle(AuthenticatedUserThrottle):
    scope = "ticket_user"


class JoinIpThrottle(ClientIpThrottle):
    scope = "join_ip"


class JoinUserThrottle(AuthenticatedUserThrottle):
    """Guessing invite codes."""

    scope = "join_user"


class WriteUserThrottle(AuthenticatedUserThrottle):
    """Every POST, PUT, PATCH and DELETE of an authenticated user (the default throttle)."""

    scope = "writes_user"

    def identity(self, request, view) -> str | None:
        if request.method not in UNSAFE_METHODS:
            return None
        return super().identity(request, view)


def user_write_ensure_allowed(*, user_id: int) -> None:
    """Counts a write that comes in outside DRF (a command over the events socket) in the
    same window as the user's REST writes, one budget for both: else a client could write
    without limit over a socket. Raises Throttled (429) past the limit; fails open, as
    the throttles do."""
    throttle = WriteUserThrottle()
    if throttle.rate is None:
        return
    quota = throttle.count(throttle.key_for(str(user_id)))
    if quota is not None and quota.exceeded:
        raise Throttled(wait=quota.reset_seconds)


# --- Failed-login lockout ------------------------------------------------------------------


def _login_attempts_key(email: str) -> str:
    return f"login-attempts:{email_identity(email)}"


def login_attempt_admit(*, email: str) -> WindowCount | None:
    """Counts a login attempt for `email` before its password is checked, and raises
    LoginLockedOut (429) when it is past LOGIN_LOCKOUT_FAILURES in the window that began
    with the first attempt since the last successful login (LOGIN_LOCKOUT_SECONDS long).

    Counting first, in one atomic increment, is what bounds parallel attempts too: of any
    number sent at once, at most LOGIN_LOCKOUT_FAILURES have their password checked per
    window. A refused attempt is counted as well, but the window is fixed, so attempts
    during a lockout cannot make it longer. Returns the count with this attempt, None
    when it is not counted (no lockout configured, no email, Redis down)."""
    threshold = settings.LOGIN_LOCKOUT_FAILURES
    if threshold <= 0 or email_identity(email) is None:
        return None
    try:
        attempts = window_hit(_login_attempts_key(email), duration=settings.LOGIN_LOCKOUT_SECONDS)
    except RedisError:
        # Fails open like the throttles: an outage of Redis must not stop every login.
        logger.warning("login attempt not counted: Redis unavailable", exc_info=True)
        return None
    if attempts.count <= threshold:
        return attempts
    quota = RateLimitQuota(
        limit=threshold, remaining=0, reset_seconds=attempts.reset_seconds, exceeded=True
    )
    raise LoginLockedOut(retry_after=whole_seconds(attempts.reset_seconds), rate_limit_quota=quota)


def login_failure_note(*, email: str, attempts: WindowCount | None, client: str | None) -> None:
    """Logs the lockout when a failed attempt was the last one its window allows (so
    once per lockout), with the address it came from."""
    if attempts is None or attempts.count != settings.LOGIN_LOCKOUT_FAILURES:
        return
    account = email_identity(email)
    logger.warning(
        "login locked out for %s s after %s failed attempts (account %s, client %s)",
        whole_seconds(attempts.reset_seconds),
        attempts.count,
        account,
        client,
        extra={"account": account, "client": client},
    )


def login_failures_clear(*, email: str) -> None:
    """A successful login forgets the attempts before it."""
    if settings.LOGIN_LOCKOUT_FAILURES <= 0 or email_identity(email) is None:
        return
    try:
        window_clear(_login_attempts_key(email))
    except RedisError:
        logger.warning("failed logins not cleared: Redis unavailable", exc_info=True)
