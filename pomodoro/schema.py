"""OpenAPI helpers shared by the apps' views."""

from dataclasses import dataclass

from drf_spectacular.drainage import set_override
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from pomodoro.errors import PROBLEM_CONTENT_TYPE

# --- Problem bodies: one shape per error the API sends --------------------------------


@dataclass(frozen=True)
class ProblemShape:
    """One kind of problem+json body (pomodoro.errors): its `code`, and the members it
    carries beside status, code, title and detail. Each is a schema component of its own
    whose `code` is that one value, so a response that can carry several is a `oneOf`
    told apart by `code` (a discriminator), and a client parses each into its own type."""

    component: str
    code: str
    members: tuple[tuple[str, dict], ...] = ()
    required: tuple[str, ...] = ()

    @property
    def ref(self) -> dict:
        return {"$ref": f"#/components/schemas/{self.component}"}

    def schema(self) -> dict:
        return {
            "type": "object",
            "description": f"A problem+json body with code `{self.code}`.",
            "properties": {
                "type": {"type": "string", "description": "Always `about:blank`."},
                "status": {"type": "integer", "description": "The HTTP status code."},
                "code": {"type": "string", "enum": [self.code]},
                "title": {"type": "string"},
                "detail": {"type": "string", "description": "Human readable."},
                **dict(self.members),
            },
            "required": ["type", "status", "code", "title", "detail", *self.required],
        }


def _component(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


# A session as the session endpoints answer it (sessions_app's Session component), named
# here rather than imported: pomodoro imports none of the apps. OpenAPI 3.0 ignores what
# stands beside a $ref, so members that describe it wrap it in allOf.
SESSION = _component("Session")
# {field: [messages]}; a field that holds an object or a list holds its members' or items'
# errors by name or index instead.
FIELD_ERRORS_COMPONENT = "FieldErrors"
FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": (
        "Messages by field. A field holding an object or a list holds its members' or its "
        "items' messages, by name or index. Errors of no one field are under "
        "`non_field_errors`."
    ),
    "additionalProperties": {
        "oneOf": [{"type": "array", "items": {"type": "string"}}, _component("FieldErrors")]
    },
}

INVALID = ProblemShape(
    "ValidationProblem", "invalid", (("errors", _component(FIELD_ERRORS_COMPONENT)),), ("errors",)
)
NOT_AUTHENTICATED = ProblemShape("NotAuthenticatedProblem", "not_authenticated")
TOKEN_NOT_VALID = ProblemShape("TokenNotValidProblem", "token_not_valid")
PERMISSION_DENIED = ProblemShape("PermissionDeniedProblem", "permission_denied")
NOT_FOUND = ProblemShape("NotFoundProblem", "not_found")
ACTIVE_SESSION_EXISTS = ProblemShape(
    "ActiveSessionExistsProblem",
    "active_session_exists",
    # Absent only when the active session ended before it could be read (a race).
    (("active_session", {"allOf": [SESSION], "description": "The session that is active."}),),
)
INVALID_TRANSITION = ProblemShape(
    "InvalidTransitionProblem",
    "invalid_transition",
    (("session", {"allOf": [SESSION], "description": "The session as it is."}),),
    ("session",),
)
LAST_OWNER = ProblemShape("LastOwnerProblem", "invalid_transition")
OVERLAP = ProblemShape(
    "OverlapProblem",
    "overlap",
    (
        (
            "overlapping_session",
            {"type": "integer", "description": "The id of one session it overlaps."},
        ),
    ),
    ("overlapping_session",),
)
VERSION_MISMATCH = ProblemShape(
    "VersionMismatchProblem",
    "version_mismatch",
    (("session", {"allOf": [SESSION], "description": "The session as it is now."}),),
    ("session",),
)
LIMIT_REACHED = ProblemShape("LimitReachedProblem", "limit_reached")
PAYLOAD_TOO_LARGE = ProblemShape(
    "PayloadTooLargeProblem",
    "payload_too_large",
    (("max_bytes", {"type": "integer", "description": "The largest body accepted."}),),
    ("max_bytes",),
)
UNSUPPORTED_MEDIA_TYPE = ProblemShape("UnsupportedMediaTypeProblem", "unsupported_media_type")
IDEMPOTENCY_KEY_REUSED = ProblemShape("IdempotencyKeyReusedProblem", "idempotency_key_reused")
IDEMPOTENCY_IN_PROGRESS = ProblemShape("IdempotencyInProgressProblem", "idempotency_in_progress")
THROTTLED = ProblemShape("ThrottledProblem", "throttled")
SERVER_ERROR = ProblemShape(
    "ServerErrorProblem",
    "server_error",
    (("request_id", {"type": "string", "description": "Quote it to support."}),),
)
SERVICE_UNAVAILABLE = ProblemShape("ServiceUnavailableProblem", "service_unavailable")

PROBLEM_SHAPES = {
    shape.component: shape
    for shape in (
        INVALID,
        NOT_AUTHENTICATED,
        TOKEN_NOT_VALID,
        PERMISSION_DENIED,
        NOT_FOUND,
        ACTIVE_SESSION_EXISTS,
        INVALID_TRANSITION,
        LAST_OWNER,
        OVERLAP,
        VERSION_MISMATCH,
        LIMIT_REACHED,
        PAYLOAD_TOO_LARGE,
        UNSUPPORTED_MEDIA_TYPE,
        IDEMPOTENCY_KEY_REUSED,
        IDEMPOTENCY_IN_PROGRESS,
        THROTTLED,
        SERVER_ERROR,
        SERVICE_UNAVAILABLE,
    )
}


def problem_schema(shapes: list[ProblemShape]) -> dict:
    """The body schema of a response that answers any of `shapes`."""
    if len(shapes) == 1:
        return shapes[0].ref
    return {
        "oneOf": [shape.ref for shape in shapes],
        "discriminator": {
            "propertyName": "code",
            "mapping": {shape.code: shape.ref["$ref"] for shape in shapes},
        },
    }


def _shapes_of(schema: dict) -> list[ProblemShape]:
    refs = [schema] if "$ref" in schema else schema.get("oneOf", [])
    shapes = [PROBLEM_SHAPES.get(ref.get("$ref", "").rsplit("/", 1)[-1]) for ref in refs]
    if not shapes or None in shapes:
        raise ValueError(f"an error response not declared with problem() or invalid(): {schema}")
    return shapes


def problem(description: str, *shapes: ProblemShape) -> OpenApiResponse:
    """An error response of a view: a body of one of `shapes`."""
    return OpenApiResponse(response=problem_schema(list(shapes)), description=description)


def invalid(description: str = "Validation failed (code `invalid`).") -> OpenApiResponse:
    return problem(description, INVALID)


def paginated(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    """The page a list view answers through pomodoro.pagination.StableCursorPagination."""
    name = serializer_class.__name__.removesuffix("Serializer")
    page = inline_serializer(
        name=f"Paginated{name}List",
        fields={
            "results": serializer_class(many=True),
            "next": serializers.URLField(allow_null=True, help_text="The next page, if any."),
            "previous": serializers.URLField(allow_null=True, help_text="The page before."),
        },
    )
    # A viewset's `list` action would otherwise be documented as an array of pages.
    set_override(page, "many", False)
    return page


PAGE_PARAMETERS = [
    OpenApiParameter(
        "cursor", OpenApiTypes.STR, description="From `next` or `previous` of a page."
    ),
    OpenApiParameter(
        "page_size", OpenApiTypes.INT, description="Items per page, 1 to 200 (default 50)."
    ),
]


# --- Error responses of every operation ----------------------------------------------

BODY_METHODS = {"post", "put", "patch"}
# Every write is rate limited (pomodoro/throttling.py): per user, or for the public auth
# endpoints per address and account.
WRITE_METHODS = {"post", "put", "patch", "delete"}


def _header(description: str, *, required: bool) -> dict:
    return {
        "schema": {"type": "integer", "minimum": 0},
        "description": description,
        "required": required,
    }


RETRY_AFTER = _header("Seconds to wait before trying again.", required=True)
# Sent with every answer (a 429 included) of a request that a rate limit counted.
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "Requests allowed in the window.",
    "RateLimit-Remaining": "Requests left in the window.",
    "RateLimit-Reset": "Seconds until the window ends.",
}
# A session answer carries its version (sessions_app's session_response), for If-Match.
SESSION_ETAG = {
    "schema": {"type": "string", "pattern": r'^"\d+"$'},
    "description": 'The session\'s version, quoted: send it back as If-Match ("3").',
    "required": True,
}
# An answer repeated for a retry with the same Idempotency-Key.
IDEMPOTENT_REPLAYED = {
    "schema": {"type": "string", "enum": ["true"]},
    "description": "Present when this is the first answer to this Idempotency-Key, repeated.",
    "required": False,
}
ERROR_HEADERS = {
    "429": {
        "Retry-After": RETRY_AFTER,
        **{name: _header(text, required=True) for name, text in RATE_LIMIT_HEADERS.items()},
    },
    "503": {"Retry-After": RETRY_AFTER},
}


def _common_errors(method: str, operation: dict) -> dict[str, tuple[str, list[ProblemShape]]]:
    """The errors any operation of this shape can answer, whatever its view declares:
    {status: (description, shapes)}."""
    parameters = operation.get("parameters", [])
    locations = {parameter["in"] for parameter in parameters}
    names = {parameter["name"] for parameter in parameters}
    # A body is read by an operation that takes one, and by the Idempotency-Key check
    # (which compares bodies); any body is measured against the size limit first.
    reads_body = "requestBody" in operation or "Idempotency-Key" in names
    requires_auth = {} not in operation.get("security", [{}])

    errors = {}
    if reads_body or locations & {"query", "header"}:
        errors["400"] = ("Validation failed or the body is not JSON (code `invalid`).", [INVALID])
    if requires_auth:
        errors["401"] = (
            "Missing, expired or revoked access token (`not_authenticated`, `token_not_valid`).",
            [NOT_AUTHENTICATED, TOKEN_NOT_VALID],
        )
        if method in WRITE_METHODS:
            errors["403"] = (
                "Authenticated by the session cookie without the CSRF token (`permission_denied`).",
                [PERMISSION_DENIED],
            )
    if "path" in locations or "cursor" in names:
        errors["404"] = (
            "No such object, or not yours; or a cursor that is not valid (`not_found`).",
            [NOT_FOUND],
        )
    if method in BODY_METHODS:
        errors["413"] = (
            "The body is larger than the API accepts (`payload_too_large`).",
            [PAYLOAD_TOO_LARGE],
        )
    if reads_body:
        errors["415"] = (
            "The body is not application/json (`unsupported_media_type`).",
            [UNSUPPORTED_MEDIA_TYPE],
        )
    if "Idempotency-Key" in names:
        errors["409"] = (
            "A request with this Idempotency-Key is still being processed "
            "(`idempotency_in_progress`).",
            [IDEMPOTENCY_IN_PROGRESS],
        )
        errors["422"] = (
            "This Idempotency-Key was used with a different request (`idempotency_key_reused`).",
            [IDEMPOTENCY_KEY_REUSED],
        )
    if method in WRITE_METHODS:
        errors["429"] = (
            "Too many requests (`throttled`); see Rate limits in docs/api.md.",
            [THROTTLED],
        )
    errors["500"] = ("A bug of ours (`server_error`).", [SERVER_ERROR])
    errors["503"] = (
        "PostgreSQL or Redis did not answer; retry after Retry-After (`service_unavailable`).",
        [SERVICE_UNAVAILABLE],
    )
    return errors


def _merged_error(response: dict | None, common: tuple[str, list[ProblemShape]] | None) -> dict:
    """One error response from what the view declared and what every operation of its
    shape answers: every shape of both, each code once."""
    descriptions, shapes = [], []
    if response is not None:
        descriptions.append(response.get("description", ""))
        for schema in (media.get("schema", {}) for media in response.get("content", {}).values()):
            shapes += _shapes_of(schema)
    if common is not None:
        descriptions.append(common[0])
        shapes += common[1]
    unique: dict[str, ProblemShape] = {}
    for shape in shapes:
        unique.setdefault(shape.code, shape)
    return {
        "description": " Or: ".join(text for text in dict.fromkeys(descriptions) if text),
        "content": {PROBLEM_CONTENT_TYPE: {"schema": problem_schema(list(unique.values()))}},
    }


def _document_headers(method: str, operation: dict) -> None:
    """The headers an operation's answers carry beside those of its errors."""
    names = {parameter["name"] for parameter in operation.get("parameters", [])}
    for status, response in operation["responses"].items():
        headers = dict(response.get("headers", {}))  # ERROR_HEADERS' dicts are shared
        success = int(status) < 300
        media = response.get("content", {}).get("application/json", {})
        if success and media.get("schema") == SESSION:
            headers["ETag"] = SESSION_ETAG
        if success and method in WRITE_METHODS:
            for name, text in RATE_LIMIT_HEADERS.items():
                headers.setdefault(
                    name, _header(f"{text} Sent while rate limits are on.", required=False)
                )
        if "Idempotency-Key" in names:
            headers["Idempotent-Replayed"] = IDEMPOTENT_REPLAYED
        if headers:
            response["headers"] = headers


def document_problem_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: one way to document errors for every operation.

    Every 4xx/5xx answer is application/problem+json (pomodoro.errors) of one of the
    PROBLEM_SHAPES. A view declares only the errors its own rules raise (a 409, a 412),
    and this adds the ones that come from the framework around it: 400 for parameters and
    bodies, 401 (and 403 for a cookie without CSRF token) for authenticated operations,
    404 for path parameters and cursors, 413 and 415 for bodies, 409/422 for
    Idempotency-Key, 429 for writes, 500 and 503 everywhere, with the headers they carry;
    and the headers of the other answers: a session's ETag, the RateLimit headers of a
    write, Idempotent-Replayed. It also adds the problem shapes to the components.
    """
    used: set[str] = set()
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            common = _common_errors(method, operation)
            for status in set(common) | {code for code in responses if int(code) >= 400}:
                response = _merged_error(responses.get(status), common.get(status))
                if status in ERROR_HEADERS:
                    response["headers"] = ERROR_HEADERS[status]
                responses[status] = response
                used |= {
                    shape.component
                    for shape in _shapes_of(response["content"][PROBLEM_CONTENT_TYPE]["schema"])
                }
            operation["responses"] = dict(sorted(responses.items()))
            _document_headers(method, operation)
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[FIELD_ERRORS_COMPONENT] = FIELD_ERRORS_SCHEMA
    for name in sorted(used):
        schemas[name] = PROBLEM_SHAPES[name].schema()
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result
