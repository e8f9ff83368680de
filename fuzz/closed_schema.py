"""The API's OpenAPI schema with every response object closed, for checking answers.

An object schema without `additionalProperties` allows members it does not list, so a
validator passes an answer carrying a member the schema never mentions (as the 409
`active_session_exists` once carried an undocumented `active_session`), while a client
generated from the schema drops it or fails on it. Closed (`additionalProperties: false`
wherever an object lists its properties), the schema fails such an answer. Only what
answers reach is closed: request bodies stay open, since the API ignores members it does
not know and the fuzzer must not expect otherwise.

scripts/fuzz runs Schemathesis on the closed schema; tests/test_documented_answers.py
validates real answers against it.

    python -m fuzz.closed_schema http://127.0.0.1:8000/api/schema/?format=json out.json
"""

import copy
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx

COMPONENT_PREFIX = "#/components/schemas/"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _subschemas(node: dict) -> Iterator[dict]:
    """The schemas directly inside a schema (not its annotations, such as `example`)."""
    yield from node.get("properties", {}).values()
    for keyword in ("items", "additionalProperties", "not"):
        if isinstance(node.get(keyword), dict):
            yield node[keyword]
    for keyword in ("allOf", "oneOf", "anyOf"):
        yield from node.get(keyword, [])


def referenced_components(roots: list[dict], components: dict) -> set[str]:
    """The names of the components the schemas in `roots` reach, through any depth of $ref."""
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        node = pending.pop()
        ref = node.get("$ref", "")
        if ref.startswith(COMPONENT_PREFIX):
            name = ref.removeprefix(COMPONENT_PREFIX)
            if name not in seen:
                seen.add(name)
                pending.append(components[name])
        pending.extend(_subschemas(node))
    return seen


def close(node: dict) -> None:
    """Closes, in place, every object schema in `node` that lists its properties."""
    if "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    for child in _subschemas(node):
        close(child)


def _closing_changes(node: dict) -> bool:
    copied = copy.deepcopy(node)
    close(copied)
    return copied != node


def _media_schemas(schema: dict, part: str) -> list[dict]:
    """Every schema of `part` ("responses" or "requestBody") of every operation."""
    found = []
    for path_item in schema["paths"].values():
        for method in METHODS:
            operation = path_item.get(method)
            if operation is None:
                continue
            if part == "responses":
                containers = list(operation.get("responses", {}).values())
            else:
                containers = [operation.get("requestBody", {})]
                containers += [{"content": {"": p}} for p in operation.get("parameters", [])]
            for container in containers:
                found += [
                    m["schema"] for m in container.get("content", {}).values() if "schema" in m
                ]
    return found


def closed(schema: dict) -> dict:
    """A copy of the OpenAPI document `schema` with its answers' objects closed."""
    schema = copy.deepcopy(schema)
    components = schema.get("components", {}).get("schemas", {})
    answers = _media_schemas(schema, "responses")
    answered = referenced_components(answers, components)
    requested = referenced_components(_media_schemas(schema, "requestBody"), components)
    # An enum both send: closing changes nothing in it.
    shared = {name for name in answered & requested if _closing_changes(components[name])}
    if shared:
        # Closing these would make the fuzzer expect unknown request members refused.
        raise ValueError(f"components used by both requests and answers: {sorted(shared)}")
    for answer in answers:
        close(answer)
    for name in answered:
        close(components[name])
    return schema


def main(url: str, out: Path) -> None:
    response = httpx.get(url, timeout=30)
    response.raise_for_status()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(closed(response.json()), indent=1))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
