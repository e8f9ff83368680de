"""The API's own OpenAPI schema, walked by the tests that must cover every field a client
can send, so that a new field is covered without being listed."""

from collections.abc import Iterator

from drf_spectacular.generators import SchemaGenerator


def api_schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


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
            for media in operation.get("requestBody", {}).get("content", {}).values():
                for name, prop in resolved(media["schema"]).get("properties", {}).items():
                    yield method, path, name, resolved(prop)
