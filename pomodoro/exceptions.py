"""Domain errors. Each maps to one status and one stable `code` of the API contract."""

from rest_framework import status
from rest_framework.exceptions import APIException


class DomainError(APIException):
    """Base of the product's own errors; `extra` lands as extra members of the problem body."""

    title = "Error"

    def __init__(self, detail: str | None = None, *, extra: dict | None = None):
        super().__init__(detail=detail, code=self.default_code)
        self.extra = extra or {}


class ActiveSessionExists(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "active_session_exists"
    default_detail = "Another session is already running or paused. Stop it first."
    title = "Active session exists"


class InvalidTransition(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "invalid_transition"
    default_detail = "This action is not allowed in the session's current state."
    title = "Invalid transition"


class Overlap(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "overlap"
    default_detail = "This time overlaps another session."
    title = "Overlapping session"


class VersionMismatch(DomainError):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "version_mismatch"
    default_detail = "The session has changed since you read it."
    title = "Version mismatch"


class IdempotencyKeyReused(DomainError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was already used with a different request."
    title = "Idempotency key reused"


class IdempotencyInProgress(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_in_progress"
    default_detail = "A request with this Idempotency-Key is still being processed."
    title = "Request in progress"


class InvalidCredentials(DomainError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "not_authenticated"
    default_detail = "The email or password is wrong."
    title = "Not authenticated"
    auth_header = 'Bearer realm="api"'


class TokenNotValid(DomainError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "token_not_valid"
    default_detail = "The token is invalid, expired or revoked."
    title = "Token not valid"


class LastOwner(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "invalid_transition"
    default_detail = "A team keeps at least one owner: make another member owner first."
    title = "Last owner"


class TeamLimitReached(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "limit_reached"
    default_detail = "A team or user limit is reached."
    title = "Limit reached"


class PayloadTooLarge(DomainError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The request body is too large."
    title = "Payload too large"

    def __init__(self, *, max_bytes: int, detail: str | None = None):
        super().__init__(
            detail
            or f"The request body is larger than {max_bytes} bytes, the most this API accepts.",
            extra={"max_bytes": max_bytes},
        )


class ServiceUnavailable(DomainError):
    """PostgreSQL or Redis did not answer (a restart, a failover). The transaction was
    rolled back, unless the connection broke during its COMMIT: a retry with the same
    Idempotency-Key is safe either way."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"
    default_detail = "The service is briefly unavailable. Retry in a few seconds."
    title = "Service unavailable"
    # Sent as Retry-After (seconds) by the problem renderer, as for 429s.
    wait = 2


class LoginLockedOut(DomainError):
    """Too many failed logins for one account (pomodoro.throttling). Answered like any
    429: Retry-After from `wait` (whole seconds), and the RateLimit headers from
    `rate_limit_quota` (a pomodoro.throttling.RateLimitQuota) that the error handler
    records on the request."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "throttled"
    default_detail = "Too many failed logins for this account."
    title = "Too Many Requests"

    def __init__(self, *, retry_after: int, rate_limit_quota):
        unit = "second" if retry_after == 1 else "seconds"
        super().__init__(f"{self.default_detail} Expected available in {retry_after} {unit}.")
        self.wait = retry_after
        self.rate_limit_quota = rate_limit_quota
