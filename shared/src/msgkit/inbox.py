"""Idempotent consumers: a message id is claimed in the same transaction as its effects."""

from __future__ import annotations

import uuid

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession


async def claim(session: AsyncSession, processed: Table, *, consumer: str, message_id: uuid.UUID) -> bool:
    """True the first time `consumer` sees `message_id`; False for a redelivery or duplicate."""
    statement = (
        insert(processed)
        .values(consumer=consumer, message_id=message_id)
        .on_conflict_do_nothing()
        .returning(processed.c.message_id)
    )
    return (await session.execute(statement)).first() is not None
