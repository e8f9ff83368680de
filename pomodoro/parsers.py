"""The one request body parser of the API: strict JSON (RFC 8259), an object at the top.

DRF's JSONParser already refuses NaN and Infinity; this one also refuses what Python's
json module lets through and a client could not have meant: a key given twice (which
value wins is up to the parser, so two parsers in a chain could disagree), a number too
large for a float (1e400 becomes inf), bytes that are not UTF-8, a lone UTF-16 surrogate
written as an escape ("\\ud800" decodes to a str that is no text: an error echoing it
could not be encoded, a 500), and nesting so deep that the decoder runs out of stack (a
RecursionError, which would otherwise be a 500).
Every refusal is a ParseError, so a 400 `invalid` in the contract's error format.
"""

import json
import math

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.utils.json import strict_constant

JSON_CHARSETS = {"utf-8", "utf8"}


def _object_without_repeated_keys(pairs: list[tuple[str, object]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise ValueError(f"the key {key!r} appears more than once")
            seen.add(key)
    return result


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text} is too large")
    return number


def _ensure_no_lone_surrogates(data: dict) -> None:
    # Encoding it all once finds a surrogate in any key or value, however nested (a pair
    # written as two escapes was already joined into one character by the decoder).
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        raise ParseError("JSON parse error - nested too deeply.") from None
    except UnicodeEncodeError:
        raise ParseError(
            "JSON parse error - a string holds a lone UTF-16 surrogate (\\ud800-\\udfff)."
        ) from None


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        if encoding.lower() not in JSON_CHARSETS:
            raise ParseError(f'JSON parse error - JSON is UTF-8, not "{encoding}".')
        try:
            text = stream.read().decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("JSON parse error - the body is not valid UTF-8.") from None
        try:
            data = json.loads(
                text,
                parse_constant=strict_constant,
                parse_float=_finite_float,
                object_pairs_hook=_object_without_repeated_keys,
            )
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        if not isinstance(data, dict):
            raise ParseError("JSON parse error - the body must be a JSON object.")
        _ensure_no_lone_surrogates(data)
        return data


class CSVStreamParser(BaseParser):
    """A `text/csv` body, handed on unread as the stream `file` (the import reads it a
    row at a time, never whole)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return {"file": stream}
