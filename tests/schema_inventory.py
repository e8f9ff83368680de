"""The API's own OpenAPI schema, walked by the tests that must cover every field a client
can send, so that a new field is covered without being listed."""

from collections.abc import Iterator

from drf_spectacular.generators import SchemaGenerator


def api_schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


JSON = "application/json"


def request_body_properties(schema: dict) -> Iterator[tuple[str, str, str, dict]]:
    """(method, path, field name, property) of every property of every request body, with
    `$ref` and `allOf` (how drf-spectacular wraps an enum or a nullable) resolved."""
    components = schema["components"]["schemas"]

    def resolved(node: dict) -> dict:
        if "allOf" in node:
            return {**resolved(node["allOf"][0]), **node}
        return components[node["$ref"].split("/")[-1]] if "$ref" in node else node

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            # JSON bodies: a file upload (sessions/import/) has no JSON fields to check.
            content = operation.get("requestBody", {}).get("content", {})
            for media in [content[JSON]] if JSON in content else []:
                for name, prop in resolved(media["schema"]).get("properties", {}).items():
                    yield method, path, name, resolved(prop)


def _without_nullable(node: object) -> object:
    """OpenAPI 3.0's schema dialect as JSON Schema (2020-12): `nullable: true` becomes
    null among the `type`s (and in the `enum`, which lists every value allowed), or, on a
    schema with no `type` of its own (a $ref, allOf, oneOf), an `anyOf` with null; a
    `$ref` to a component points into `$defs`."""
    if isinstance(node, list):
        return [_without_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            converted[key] = value.replace("#/components/schemas/", "#/$defs/")
        elif key in ("properties", "$defs"):
            converted[key] = {name: _without_nullable(item) for name, item in value.items()}
        elif key in ("enum", "example", "default", "discriminator", "required"):
            converted[key] = value  # values and names, not schemas
        else:
            converted[key] = _without_nullable(value)
    if not converted.pop("nullable", False):
        return converted
    if "type" in converted:
        converted["type"] = [converted["type"], "null"]
        if "enum" in converted and None not in converted["enum"]:
            converted["enum"] = [*converted["enum"], None]
        return converted
    return {"anyOf": [converted, {"type": "null"}]}


def json_schema(openapi: dict, schema: dict) -> dict:
    """The JSON Schema (2020-12) of `schema`, a schema of the OpenAPI 3.0 document
    `openapi`, with every component it may refer to under `$defs`."""
    components = openapi.get("components", {}).get("schemas", {})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **_without_nullable(schema),
        "$defs": {name: _without_nullable(component) for name, component in components.items()},
    }
