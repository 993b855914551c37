"""Keyset cursors: what `encode` makes `decode` reads back; anything else is a BadCursor."""

from __future__ import annotations

import base64
import uuid

import pytest

from cohort.paging import MAX_CURSOR_LENGTH, BadCursor, Position, decode, encode

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("names", [("Smith", "Ada"), ("O'Brien-Ní Dhuibhir", "Zoë"), ("", ""), ('"]', "\\")])
def test_a_cursor_reads_back_as_the_position_it_was_made_from(names: tuple[str, str]) -> None:
    position = Position(*names, child_id=uuid.uuid4())
    cursor = encode(position)
    assert decode(cursor) == position
    assert cursor.isascii() and "=" not in cursor and "/" not in cursor and "+" not in cursor


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


@pytest.mark.parametrize(
    "cursor",
    ["", "!!!", _b64(b"not json"), _b64(b"{}"), _b64(b'["a", "b"]'), _b64(b'["a", "b", "c", "d"]'),
     _b64(b'[1, "b", "00000000-0000-0000-0000-000000000000"]'), _b64(b'["a", "b", "nope"]'), _b64(b'["a", "b", 7]'),
     _b64(b"\xff\xfe\xfd"), "A" * (MAX_CURSOR_LENGTH + 1)],
)  # fmt: skip
def test_anything_else_is_a_bad_cursor(cursor: str) -> None:
    with pytest.raises(BadCursor):
        decode(cursor)
