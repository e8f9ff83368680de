"""One error shape: every 4xx/5xx on the API is application/problem+json (RFC 9457).

The body always has `status`, `code`, `title` and `detail`; validation errors add
`errors` ({field: [messages]}); domain errors may add members of their own (such as
`active_session`). Rendering an error also marks the open transaction for rollback,
so a rejected request changes nothing.
"""

import logging
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import set_rollback
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from pomodoro.exceptions import DomainError, LoginLockedOut, PayloadTooLarge, ServiceUnavailable
from pomodoro.request_log import current_request_id
from pomodoro.throttling import record_quota, whole_seconds

logger = logging.getLogger("pomodoro.errors")

PROBLEM_CONTENT_TYPE = "application/problem+json"
NUL_IN_PATH = "Null characters are not allowed."

# DRF's own exception codes, renamed to the codes of the API contract.
CONTRACT_CODES = {
    drf_exceptions.ValidationError: "invalid",
    drf_exceptions.ParseError: "invalid",
    drf_exceptions.NotAuthenticated: "not_authenticated",
    drf_exceptions.AuthenticationFailed: "token_not_valid",
    drf_exceptions.PermissionDenied: "permission_denied",
    drf_exceptions.NotFound: "not_found",
    drf_exceptions.MethodNotAllowed: "method_not_allowed",
    drf_exceptions.NotAcceptable: "not_acceptable",
    drf_exceptions.UnsupportedMediaType: "unsupported_media_type",
    drf_exceptions.Throttled: "throttled",
}


def problem_body(*, status: int, code: str, detail: str, title: str | None = None, **extra) -> dict:
    body = {
        "type": "about:blank",
        "status": status,
        "code": code,
        "title": title or HTTPStatus(status).phrase,
        "detail": detail,
    }
    body.update(extra)
    return body


def problem_response(status: int, code: str, detail: str, **extra) -> JsonResponse:
    """A problem+json response for plain Django views (outside DRF)."""
    return JsonResponse(
        problem_body(status=status, code=code, detail=detail, **extra),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def problem_response_for(exception: Exception) -> JsonResponse:
    """The problem+json response, headers included, for an exception raised outside DRF."""
    body, headers = problem_for_exception(exception)
    return JsonResponse(
        body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE, headers=headers
    )


# A backing service that did not answer (PostgreSQL restarting, its connection pool
# timing out, Redis down) is no bug of ours and passes: a 503 with Retry-After, not a
# 500. See docs/drills.md.
BACKING_SERVICE_ERRORS = (
    DatabaseInterfaceError,
    RedisConnectionError,
    RedisTimeoutError,
)

# SQLSTATEs of a PostgreSQL server that is gone or not taking connections: class 08
# (connection exception), and admin shutdown, crash shutdown, cannot connect now.
DATABASE_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def database_unavailable(error: DatabaseOperationalError) -> bool:
    """Whether an OperationalError means the database did not answer (503), rather than
    that it refused this statement: a deadlock (40P01), a serialization failure (40001), a
    statement or lock timeout (57014, 55P03). Those are errors of our code under
    contention, a 500 logged at ERROR, not an outage to wait out. Django raises the
    driver's error as the __cause__."""
    cause = error.__cause__
    if cause is None:
        return True  # no driver error to tell by: taken for the outage it usually is
    if cause.sqlstate is None:
        # Raised by psycopg itself, not by the server: the connection broke or was
        # closed, or the pool had no connection to give within its timeout.
        return True
    return cause.sqlstate.startswith("08") or cause.sqlstate in DATABASE_UNAVAILABLE_SQLSTATES


def _as_api_exception(exc: Exception) -> drf_exceptions.APIException | None:
    if isinstance(exc, BACKING_SERVICE_ERRORS) or (
        isinstance(exc, DatabaseOperationalError) and database_unavailable(exc)
    ):
        logger.warning("backing service unavailable: %s", type(exc).__name__, exc_info=exc)
        return ServiceUnavailable()
    if isinstance(exc, drf_exceptions.APIException):
        return exc
    if isinstance(exc, Http404):
        return drf_exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return drf_exceptions.PermissionDenied()
    if isinstance(exc, TokenError):
        return InvalidToken(str(exc))
    if isinstance(exc, DjangoValidationError):
        return drf_exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, RequestDataTooBig):
        # Normally refused earlier, from Content-Length (pomodoro/body_limit.py).
        return PayloadTooLarge(max_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return None


def _contract_code(exc: drf_exceptions.APIException) -> str:
    if isinstance(exc, DomainError):
        return exc.default_code
    for exception_class in type(exc).__mro__:
        if exception_class in CONTRACT_CODES:
            return CONTRACT_CODES[exception_class]
    return str(exc.default_code)


def _detail_text(detail) -> str:
    if isinstance(detail, str):
        return str(detail)
    if isinstance(detail, dict) and "detail" in detail:
        return str(detail["detail"])
    return ""


def problem_for_exception(exc: Exception) -> tuple[dict, dict[str, str]]:
    """The problem body and headers for any exception (unknown ones become a 500)."""
    api_exception = _as_api_exception(exc)
    if api_exception is None:
        logger.error("unhandled exception", exc_info=exc)
        body = problem_body(
            status=500, code="server_error", detail="Something went wrong on our side."
        )
        # What a user quotes to support; the log lines of the failure carry the same id.
        if (request_id := current_request_id()) is not None:
            body["request_id"] = request_id
        return body, {}

    status = api_exception.status_code
    code = _contract_code(api_exception)
    headers: dict[str, str] = {}
    if getattr(api_exception, "auth_header", None):
        headers["WWW-Authenticate"] = api_exception.auth_header
    if getattr(api_exception, "wait", None) is not None:
        headers["Retry-After"] = str(whole_seconds(api_exception.wait))

    extra: dict = {}
    if code == "invalid":
        detail = api_exception.detail
        if isinstance(api_exception, drf_exceptions.ParseError):
            extra["errors"] = {"non_field_errors": [str(detail)]}
            text = str(detail)
        else:
            if isinstance(detail, list):
                detail = {"non_field_errors": detail}
            extra["errors"] = detail
            text = "Some of the submitted values are not valid."
    else:
        text = _detail_text(api_exception.detail) or str(api_exception.default_detail)
    title = getattr(api_exception, "title", None)
    if isinstance(api_exception, DomainError):
        extra.update(api_exception.extra)
    body = problem_body(status=status, code=code, detail=text, title=title, **extra)
    return body, headers


def problem_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER: renders every error as problem+json and rolls back."""
    body, headers = problem_for_exception(exc)
    set_rollback()
    response = Response(body, status=body["status"], headers=headers)
    request = context.get("request")
    # A domain error that is a rate limit (LoginLockedOut) gets the RateLimit headers
    # its throttles would have (pomodoro.throttling.RateLimitHeadersMiddleware).
    quota = getattr(exc, "rate_limit_quota", None)
    if quota is not None and request is not None:
        record_quota(request, quota)
    renderer = getattr(request, "accepted_renderer", None)
    if renderer is None or renderer.format == "json":
        response.content_type = PROBLEM_CONTENT_TYPE
    return response


# Exempt: it changes nothing, and a POST to an unknown path would otherwise fail the CSRF
# check first and answer Django's HTML 403 page.
@csrf_exempt
def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Catch-all for unknown paths under /api/, so they answer problem+json, not HTML."""
    return problem_response(404, "not_found", "No such endpoint. Paths end with a slash.")


# Django's own error views (pomodoro/urls.py's handler400 and handler500): what it
# refuses before any view runs (a Host outside ALLOWED_HOSTS, an exception in a
# middleware) answers problem+json under /api/ too, not its HTML pages. They act with
# DEBUG off, as Django's own do.
def bad_request(request, exception) -> JsonResponse:
    if request.path.startswith("/api/"):
        # `errors` as every 400 `invalid` has it (the ValidationProblem of the schema); no
        # field of the request is at fault.
        return problem_response(
            400, "invalid", "The request was refused before it was read.", errors={}
        )
    return defaults.bad_request(request, exception)


def server_error(request) -> JsonResponse:
    if request.path.startswith("/api/"):
        return problem_response(500, "server_error", "Something went wrong on our side.")
    return defaults.server_error(request)


class ApiProblemMiddleware:
    """Turns an exception escaping a non-DRF view under /api/ into problem+json (a 500
    for a bug), and the login limits' 429s (accounts.backends) into problem+json 429s
    with Retry-After wherever they come from: the admin's and the browsable API's login
    forms call authenticate() outside DRF."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/") and "\x00" in request.path:
            # A NUL in a path parameter would reach the database (PostgreSQL refuses it
            # in text: a 500); refused for every path at once, as in bodies.
            return problem_response(
                400,
                "invalid",
                "Some of the submitted values are not valid.",
                errors={"path": [NUL_IN_PATH]},
            )
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not request.path.startswith("/api/") and not isinstance(
            exception, (LoginLockedOut, drf_exceptions.Throttled)
        ):
            return None
        return problem_response_for(exception)
