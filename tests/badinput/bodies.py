"""Valid and deliberately broken message bodies for every contract message, derived from its JSON Schema.

`valid_body(M)` builds a body `M` accepts; the mutations break one field of it in one way (missing,
retyped, a huge string, an unknown enum value, an impossible date or id) and say which field they broke.
Hypothesis strategies over both live here so the in-process and the end-to-end tests share them.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from contracts.common import PRINTABLE_PATTERN
from contracts.consent import FORM_URL_PATTERN
from contracts.envelope import Message

HUGE = 1_000_000
FIXED_ID = "6f1d2c3b-4a59-4e8f-9d0c-1b2a3c4d5e6f"
_PATTERN_EXAMPLES = {
    r"^[A-Z0-9]{2,10}$": "RX1",
    r"^\d{6}$": "123456",
    r"^(school|community_clinic)$": "school",
    PRINTABLE_PATTERN: "Nurse Joy",
    r"^[A-Z0-9 ]{5,8}$": "LS1 4AP",
    r"^[a-z0-9_]{1,60}$": "asthma",
    FORM_URL_PATTERN: "https://consent.example.nhs.uk/consent/c1.token",
}
_FORMAT_EXAMPLES = {
    "uuid": FIXED_ID,
    "date": "2026-01-15",
    "date-time": "2026-01-15T10:00:00+00:00",
    "time": "09:00:00",
    "email": "team@example.com",
    "uri": "https://booking.example.com/team",
}
# Values no field of that format accepts.
BAD_FORMAT_VALUES = {
    "uuid": ["not-a-uuid", "6f1d2c3b-4a59-4e8f-9d0c", "g" * 32],
    "date": ["2026-02-30", "31/12/2026", "yesterday", "2026-13-01", "0000-00-00"],
    "date-time": ["2026-01-15T10:00:00", "2026-02-30T10:00:00Z", "noon", "2026-01-15 25:00"],
    "time": ["25:00", "9am", "24:61:00"],
    "email": ["not an email", "@example.com", "a@"],
    "uri": ["not a url", "http//missing-colon"],
}
UNKNOWN_ENUM = "definitely_not_a_known_value"


@dataclass(frozen=True)
class Broken:
    """A body with one field broken, and a description for the test report."""

    body: Any
    field: str
    how: str


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _resolve(root["$defs"][name], root)
    return schema


def _non_null(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    schema = _resolve(schema, root)
    for option in schema.get("anyOf", []):
        option = _resolve(option, root)
        if option.get("type") != "null":
            return option
    return schema


def example(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """A valid value for `schema` (the non-null branch of an optional)."""
    schema = _non_null(schema, root)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: example(sub, root) for name, sub in props.items() if name != "type"}
    if kind == "array":
        if "prefixItems" in schema:
            return [example(item, root) for item in schema["prefixItems"]]
        return [example(schema.get("items", {}), root) for _ in range(max(1, schema.get("minItems", 1)))]
    if kind == "integer":
        low, high = schema.get("minimum", 1), schema.get("maximum", 10**6)
        return max(low, min(high, 2025 if low >= 2000 else 1))
    if kind == "boolean":
        return True
    if kind == "string":
        if "pattern" in schema:
            return _PATTERN_EXAMPLES[schema["pattern"]]
        if "format" in schema:
            return _FORMAT_EXAMPLES[schema["format"]]
        return "text"
    raise ValueError(f"no example for schema {schema}")


def valid_body(message: type[Message]) -> dict[str, Any]:
    root = message.model_json_schema()
    body: dict[str, Any] = example(root, root)
    body["message_id"] = str(uuid.uuid4())
    body["type"] = message.__name__
    return body


_DELETE = object()


def _set(body: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """A deep copy of `body` with the value at `path` replaced (or deleted with _DELETE)."""
    body = copy.deepcopy(body)
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


def _object_breaks(schema: dict[str, Any], root: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], Any, str]]:
    required = set(schema.get("required", []))
    for name, sub in schema.get("properties", {}).items():
        if name == "type":
            continue
        if name in required:
            yield (name,), _DELETE, "missing"
        for path, value, how in _value_breaks(sub, root):
            yield (name, *path), value, how


def _value_breaks(schema: dict[str, Any], root: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], Any, str]]:
    s = _non_null(schema, root)
    kind = s.get("type")
    if kind == "object":
        yield (), ["not", "an", "object"], "retyped as a list"
        yield from _object_breaks(s, root)
        return
    # An object is never a valid value of any scalar, list or enum field of the contract.
    yield (), {"unexpected": [1, "x"]}, "retyped as an object"
    if "enum" in s:
        yield (), UNKNOWN_ENUM, "unknown enum value"
    if kind == "string" and ("maxLength" in s or "pattern" in s or "format" in s):
        yield (), "x" * HUGE, "huge string"
    if s.get("pattern") == PRINTABLE_PATTERN:
        yield (), "Nurse \x1b[2J\u202eyoJ", "control characters"
    for bad in BAD_FORMAT_VALUES.get(s.get("format", ""), []):
        yield (), bad, f"invalid {s['format']} {bad!r}"
    if kind == "integer" and "maximum" in s:
        yield (), s["maximum"] + 1, "above its maximum"
    if kind == "array" and "items" in s:
        item = _non_null(s["items"], root)
        if "maxItems" in s:
            yield (), [example(item, root)] * (s["maxItems"] + 1), "too many items"
        for path, value, how in _value_breaks(s["items"], root):
            yield (0, *path), value, f"{how} (first item)"


def breakages(message: type[Message]) -> list[Broken]:
    """Every single-field breakage of `message`'s valid body (nested ones too) that its contract must refuse."""
    root = message.model_json_schema()
    base = valid_body(message)
    return [
        Broken(_set(base, path, value), ".".join(str(p) for p in path), how)
        for path, value, how in _object_breaks(root, root)
    ]


def not_json() -> st.SearchStrategy[bytes]:
    """Bytes that are not a JSON document (or not UTF-8 at all)."""
    garbage = st.binary(min_size=1, max_size=200).filter(_not_json)
    truncated = st.builds(lambda n: b'{"message_id": "' + b"x" * n, st.integers(0, 50))
    return st.one_of(garbage, truncated, st.just(b"\xff\xfe\x00{"), st.just(b"{'single': 'quotes'}"))


def _not_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return True
    return False


json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5),
    max_leaves=20,
)


def wrong_shapes(message: type[Message]) -> st.SearchStrategy[Any]:
    """JSON of the wrong shape: any JSON value, or the valid body with one field replaced by any JSON value."""
    names = list(message.model_json_schema().get("required", []))

    def replace(name: str, value: Any) -> dict[str, Any]:
        return {**valid_body(message), name: value}

    replaced = st.builds(replace, st.sampled_from(names), json_values) if names else st.nothing()
    return st.one_of(json_values, replaced)
