"""OpenAPI helpers shared by the apps' views."""

from drf_spectacular.drainage import set_override
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from pomodoro.errors import PROBLEM_CONTENT_TYPE

_problem_fields = {
    "type": serializers.CharField(),
    "status": serializers.IntegerField(),
    "code": serializers.CharField(),
    "title": serializers.CharField(),
    "detail": serializers.CharField(),
}

Problem = inline_serializer(name="Problem", fields=_problem_fields)
ValidationProblem = inline_serializer(
    name="ValidationProblem",
    fields={
        **_problem_fields,
        "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
    },
)


def problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=Problem, description=description)


def invalid(description: str = "Validation failed (code `invalid`).") -> OpenApiResponse:
    return OpenApiResponse(response=ValidationProblem, description=description)


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

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
VALIDATION_PROBLEM_REF = {"$ref": "#/components/schemas/ValidationProblem"}
BODY_METHODS = {"post", "put", "patch"}


def _error_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {PROBLEM_CONTENT_TYPE: {"schema": schema}}}


# Every write is rate limited (pomodoro/throttling.py): per user, or for the public auth
# endpoints per address and account.
WRITE_METHODS = {"post", "put", "patch", "delete"}
THROTTLED_HEADERS = {
    "Retry-After": "Seconds to wait before trying again.",
    "RateLimit-Limit": "Requests allowed in the window.",
    "RateLimit-Remaining": "Requests left in the window.",
    "RateLimit-Reset": "Seconds until the window ends.",
}


def _throttled_response() -> dict:
    return {
        **_error_response(
            "Too many requests (`throttled`); see Rate limits in docs/api.md.", PROBLEM_REF
        ),
        "headers": {
            name: {"schema": {"type": "integer", "minimum": 0}, "description": description}
            for name, description in THROTTLED_HEADERS.items()
        },
    }


def _common_errors(method: str, operation: dict) -> dict[str, dict]:
    """The errors any operation of this shape can answer, whatever its view declares."""
    parameters = operation.get("parameters", [])
    locations = {parameter["in"] for parameter in parameters}
    names = {parameter["name"] for parameter in parameters}
    has_body = method in BODY_METHODS
    requires_auth = {} not in operation.get("security", [{}])

    errors = {}
    if has_body or locations & {"query", "header"}:
        errors["400"] = _error_response(
            "Validation failed or the body is not JSON (code `invalid`).", VALIDATION_PROBLEM_REF
        )
    if requires_auth:
        errors["401"] = _error_response(
            "Missing, expired or revoked access token (`not_authenticated`, `token_not_valid`).",
            PROBLEM_REF,
        )
    if "path" in locations or "cursor" in names:
        errors["404"] = _error_response(
            "No such object, or not yours; or a cursor that is not valid (`not_found`).",
            PROBLEM_REF,
        )
    if has_body:
        errors["415"] = _error_response(
            "The body is not application/json (`unsupported_media_type`).", PROBLEM_REF
        )
    if "Idempotency-Key" in names:
        errors.setdefault(
            "409",
            _error_response(
                "A request with this Idempotency-Key is still being processed "
                "(`idempotency_in_progress`).",
                PROBLEM_REF,
            ),
        )
        errors["422"] = _error_response(
            "This Idempotency-Key was used with a different request (`idempotency_key_reused`).",
            PROBLEM_REF,
        )
    if method in WRITE_METHODS:
        errors["429"] = _throttled_response()
    return errors


def document_problem_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: one way to document errors for every operation.

    Every 4xx answer is application/problem+json (pomodoro.errors), so a view declares
    only the errors its own rules raise (a 409, a 412), and this adds the ones that come
    from the framework around it: 400 for parameters and bodies, 401 for authenticated
    operations, 404 for path parameters and cursors, 415 for bodies, 409/422 for
    Idempotency-Key, 429 for writes. It also moves every error declared as application/json to
    application/problem+json, the content type the server really answers with.
    """
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, response in _common_errors(method, operation).items():
                responses.setdefault(status, response)
            for status, response in responses.items():
                content = response.get("content", {})
                if int(status) >= 400 and "application/json" in content:
                    content[PROBLEM_CONTENT_TYPE] = content.pop("application/json")
            operation["responses"] = dict(sorted(responses.items()))
    return result
