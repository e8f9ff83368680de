"""Request bodies over DATA_UPLOAD_MAX_MEMORY_SIZE are refused with a 413
`payload_too_large` (problem+json) before they are read.

Django itself checks the limit only when something reads `request.body`, and answers
RequestDataTooBig with a bare 400; under ASGI it has by then already received the whole
body into a temporary file. So the limit is held at two places:

- `RequestBodyLimitMiddleware` (Django, WSGI and ASGI alike) answers from the declared
  Content-Length, before the CSRF check or a view reads anything;
- `RequestBodyLimit` (ASGI, around Django in pomodoro/asgi.py) answers from the declared
  Content-Length before Django receives a byte, and counts a body sent without one
  (chunked) as it arrives. That answer passes no Django middleware, so it adds the
  headers every other answer gets from them itself: X-Request-ID and the security
  headers (not CORS: docs/security.md#cors).

A larger body is never a legitimate request: the largest text field (a session's
description, 2,000 characters) is at most 12 KB of JSON even with every character escaped.
The one exception is a file upload (`sessions/import/`): REQUEST_BODY_LIMITS gives such a
path its own limit.
"""

import json

from csp.utils import build_policy
from django.conf import settings

from pomodoro.errors import PROBLEM_CONTENT_TYPE, problem_for_exception, problem_response_for
from pomodoro.exceptions import PayloadTooLarge
from pomodoro.request_log import REQUEST_ID_HEADER, request_id_from


def body_limit(path: str) -> int:
    """The largest body accepted on `path`."""
    return settings.REQUEST_BODY_LIMITS.get(path, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def _payload_too_large_body(limit: int) -> dict:
    body, _headers = problem_for_exception(PayloadTooLarge(max_bytes=limit))
    return body


def _declared_length(value: str | bytes | None) -> int | None:
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    return int(text) if text.isascii() and text.isdigit() else None


def _security_headers() -> list[tuple[bytes, bytes]]:
    """What SecurityMiddleware, XFrameOptionsMiddleware and CSPMiddleware add to Django's
    answers, from the same settings (HSTS aside: production serves HTTP through WSGI,
    not this path)."""
    headers = []
    if content_security_policy := build_policy():
        headers.append((b"content-security-policy", content_security_policy.encode()))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append((b"x-content-type-options", b"nosniff"))
    policy = settings.SECURE_REFERRER_POLICY
    if policy:
        values = policy.split(",") if isinstance(policy, str) else policy
        headers.append((b"referrer-policy", ",".join(v.strip() for v in values).encode()))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        opener_policy = settings.SECURE_CROSS_ORIGIN_OPENER_POLICY.encode()
        headers.append((b"cross-origin-opener-policy", opener_policy))
    headers.append((b"x-frame-options", settings.X_FRAME_OPTIONS.upper().encode()))
    return headers


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        declared = _declared_length(request.META.get("CONTENT_LENGTH"))
        limit = body_limit(request.path)
        if declared is not None and declared > limit:
            return problem_response_for(PayloadTooLarge(max_bytes=limit))
        return self.get_response(request)


class RequestBodyLimit:
    """ASGI middleware for HTTP: the body limit before Django reads the body."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        headers = dict(scope.get("headers") or [])
        declared = _declared_length(headers.get(b"content-length"))
        if declared is not None:
            # The server delivers no more than the declared length, so checking it is enough.
            if declared > limit:
                await self._refuse(headers, send, limit)
            else:
                await self.app(scope, receive, send)
            return

        # No Content-Length (a chunked body): take it in here up to the limit, then hand
        # the messages on to Django as they came.
        received = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break  # the client went away; Django sees the disconnect
            size += len(message.get("body", b""))
            if size > limit:
                await self._refuse(headers, send, limit)
                return
            if not message.get("more_body", False):
                break
        pending = iter(received)

        async def replay_then_receive():
            message = next(pending, None)
            return message if message is not None else await receive()

        await self.app(scope, replay_then_receive, send)

    @staticmethod
    async def _refuse(request_headers: dict[bytes, bytes], send, limit: int) -> None:
        # The id RequestIdMiddleware would have given the request: the caller's, if safe.
        request_id = request_id_from(request_headers.get(REQUEST_ID_HEADER.lower().encode()))
        content = json.dumps(_payload_too_large_body(limit)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_CONTENT_TYPE.encode()),
                    (b"content-length", str(len(content)).encode()),
                    # The unread rest of the body cannot be skipped on this connection.
                    (b"connection", b"close"),
                    (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
                    *_security_headers(),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})
