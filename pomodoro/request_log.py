"""Request ids and the access log.

Every HTTP request gets an id: the caller's `X-Request-ID` when it is a safe token
(1-128 characters of letters, digits and `-_.:`; a proxy's or a client's id then
follows the request through our logs), else a new uuid4 hex. It is answered in the
`X-Request-ID` header of every response (errors and 404s included), added to the
problem+json body of a 500 as `request_id` (what a user quotes to support), and put on
every log record written while the request runs (a context variable read by
RequestIdFilter), so one grep finds all lines of one request. Each event socket gets one
the same way, for its whole life.

One access-log line per request goes to the `pomodoro.access` logger with the method,
URL route, path, status, duration_ms, user_id, client (the address, as the rate limits
see it: pomodoro.client_address) and request_id.
"""

import contextvars
import functools
import logging
import re
import time
import uuid

from pythonjsonlogger.json import JsonFormatter

from pomodoro.client_address import client_address

REQUEST_ID_HEADER = "X-Request-ID"
UNMATCHED_ROUTE = "unmatched"
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")

_current_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
access_logger = logging.getLogger("pomodoro.access")


def current_request_id() -> str | None:
    """The id of the request (or socket) this code runs for, if any."""
    return _current_request_id.get()


def request_id_from(value: str | bytes | None) -> str:
    """The caller's id when it is safe to log and echo, else a new one."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if value and REQUEST_ID_PATTERN.fullmatch(value):
        return value
    return uuid.uuid4().hex


def bind_request_id(request_id: str) -> contextvars.Token:
    """Makes `request_id` the current one until reset_request_id(token)."""
    return _current_request_id.set(request_id)


def reset_request_id(token: contextvars.Token) -> None:
    _current_request_id.reset(token)


class JsonLogFormatter(JsonFormatter):
    """One JSON object per record: time (ISO 8601, UTC), level, logger, message,
    request_id, and whatever the call passed in `extra` (user_id, status, ...);
    exc_info holds the traceback of an exception, as text."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", ["levelname", "name", "message", "request_id"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        super().__init__(*args, **kwargs)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request); set on the handler,
    so records of every logger get it, Django's and libraries' included."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id() or "-"
        return True


def route_of(request) -> str:
    """The URL pattern the request matched, the same for every id
    (`api/v1/sessions/<pk>/pause/`), or "unmatched"."""
    match = getattr(request, "resolver_match", None)
    return readable_route(match.route) if match is not None and match.route else UNMATCHED_ROUTE


@functools.lru_cache(maxsize=512)  # one entry per URL pattern
def readable_route(route: str) -> str:
    """DRF routers' regex patterns written like path() ones: `(?P<pk>[0-9]+)` is `<pk>`."""
    return REGEX_GROUP.sub(r"<\1>", route).replace("^", "").replace("$", "")


def printable(text: str) -> str:
    """`text` with its control characters escaped (`\\n`), so that a path a client wrote
    (`/api/%0aFAKE` is decoded to a newline) cannot split or fake a line of a plain log."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


def _user_id(request) -> int | None:
    # DRF sets the authenticated user (a bearer token's) on the Django request too.
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


class RequestIdMiddleware:
    """Outermost: everything below, and every response, sees the request id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = bind_request_id(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            if not access_logger.isEnabledFor(logging.INFO):
                # LOG_LEVEL above INFO: the line's fields would be computed for nothing.
                return response
            client = client_address(request)
            access_logger.info(
                "%s %s %s %s",
                request.method,
                printable(request.path),
                response.status_code,
                client,
                extra={
                    "method": request.method,
                    "route": route_of(request),
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user_id": _user_id(request),
                    "client": client,
                },
            )
            return response
        finally:
            reset_request_id(token)
