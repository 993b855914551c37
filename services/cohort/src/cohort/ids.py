"""Time-ordered ids (the UUIDv7 layout) for rows written in bulk."""

from __future__ import annotations

import os
import time
import uuid

_RANDOM_62 = (1 << 62) - 1


def time_ordered_uuid() -> uuid.UUID:
    """A UUIDv7: 48 bits of Unix milliseconds, then random bits.

    Ids made in order sort in order, so a bulk import appends to the children's primary-key index (and to
    every index led by a child id) instead of touching a random page of it for each row.
    """
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | (rand >> 68 & 0xFFF) << 64 | 0b10 << 62 | rand & _RANDOM_62
    return uuid.UUID(int=value)
