"""OpenAPI helpers shared by the apps' views."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

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
