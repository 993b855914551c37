"""Keyset cursors of the clinic children list: where the last page ended, in the list's own order.

A page after a cursor is read from the name index straight from that point, however late it is, where
OFFSET would read and discard every child before it; and children joining or leaving meanwhile never
shift a row onto two pages or off both. The cursor is opaque to staff (base64url of JSON) and carries
only the sort key of the last child shown: last name, first name, id.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass

MAX_CURSOR_LENGTH = 1000


class BadCursor(ValueError):
    """The cursor was not made by `encode` (cut short, edited, or from somewhere else)."""


@dataclass(frozen=True, slots=True)
class Position:
    """The sort key of the last child of a page: the next page starts strictly after it."""

    last_name: str
    first_name: str
    child_id: uuid.UUID


def encode(position: Position) -> str:
    raw = json.dumps([position.last_name, position.first_name, str(position.child_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str) -> Position:
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise BadCursor("empty or too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        last_name, first_name, child_id = json.loads(raw)
        if not isinstance(last_name, str) or not isinstance(first_name, str):
            raise BadCursor("names are not text")
        return Position(last_name, first_name, uuid.UUID(child_id))
    except BadCursor:
        raise
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, AttributeError) as exc:
        raise BadCursor(type(exc).__name__) from None
