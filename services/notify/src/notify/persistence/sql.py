"""What every notify repository's SQL uses: ids as one array parameter, the asyncpg connection, status guards."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from sqlalchemy import String, Uuid, any_, bindparam, cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession


def any_id(values: Iterable[uuid.UUID | str]) -> Any:
    """`= ANY($1::uuid[])`: one parameter however many ids, so one prepared statement (ids sent as text)."""
    return any_(cast(bindparam(None, [str(v) for v in values], type_=ARRAY(String)), ARRAY(Uuid)))


async def driver(session: AsyncSession) -> Any:
    """The asyncpg connection under the session's transaction: bulk statements skip SQLAlchemy's row layer."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


def literal(status: StrEnum) -> str:
    """A status as an SQL literal, spelled by the domain's vocabulary."""
    return f"'{status}'"


def among(column: str, statuses: Iterable[StrEnum]) -> str:
    """`column IN ('a', 'b')`: a status guard rendered from the domain's statuses, never typed out in SQL."""
    return f"{column} IN ({', '.join(sorted(literal(s) for s in statuses))})"
