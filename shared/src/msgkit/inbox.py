"""Idempotent consumers: a message id is claimed in the same transaction as its effects."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Table, text
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


async def claim_many(
    session: AsyncSession, processed: Table, *, consumer: str, message_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """The ids of `message_ids` that `consumer` sees for the first time (a batch's inbox claim, one statement).

    Ids are claimed in sorted order so two consumers claiming overlapping batches (a redelivery racing
    the original) wait for each other instead of deadlocking.
    """
    ids = sorted(set(message_ids))
    if not ids:
        return set()
    statement = text(
        f"INSERT INTO {processed.name} (consumer, message_id)"
        " SELECT :consumer, id FROM unnest(CAST(:ids AS uuid[])) AS id ORDER BY id"
        " ON CONFLICT DO NOTHING RETURNING message_id"
    )
    rows = await session.execute(statement, {"consumer": consumer, "ids": [str(i) for i in ids]})
    return {uuid.UUID(str(r)) for r in rows.scalars()}
