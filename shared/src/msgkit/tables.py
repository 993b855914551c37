"""The outbox and processed-message tables, added to each service's own metadata and schema."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
    func,
)


@dataclass(frozen=True, slots=True)
class MessagingTables:
    outbox: Table
    processed: Table


def messaging_tables(metadata: MetaData) -> MessagingTables:
    """Define `outbox_messages` and `processed_messages` in `metadata` (which carries the schema)."""
    outbox = Table(
        "outbox_messages",
        metadata,
        Column("seq", BigInteger, Identity(always=True), primary_key=True),
        Column("message_id", Uuid, nullable=False, unique=True),
        Column("message_type", String(120), nullable=False),
        Column("exchange", String(200), nullable=False),
        Column("routing_key", String(200), nullable=False),
        Column("correlation_id", Uuid, nullable=True),
        Column("body", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    processed = Table(
        "processed_messages",
        metadata,
        Column("consumer", String(200), nullable=False),
        Column("message_id", Uuid, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "message_id"),
    )
    Index("ix_processed_messages_processed_at", processed.c.processed_at)
    return MessagingTables(outbox=outbox, processed=processed)
