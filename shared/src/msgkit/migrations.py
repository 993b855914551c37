"""Alembic support shared by the services: one schema per service, its own version table."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from msgkit.db import async_url


def alembic_config(migrations_dir: Path, *, url: str, schema: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.attributes["url"] = url
    cfg.attributes["schema"] = schema
    return cfg


def upgrade(migrations_dir: Path, *, url: str, schema: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(migrations_dir, url=url, schema=schema), revision)


def run_env(metadata: MetaData) -> None:
    """Body of every service's `migrations/env.py` (online mode only: migrations need a database)."""
    cfg = context.config
    url: str = cfg.attributes["url"]
    schema: str = cfg.attributes["schema"]

    def include_name(name: str | None, type_: str, parent_names: object) -> bool:
        # Without this filter autogenerate would propose dropping every other service's tables.
        return type_ != "schema" or name == schema

    def do_run(connection: Connection) -> None:
        # A service role may not create schemas (bootstrap made its schema); only create one if missing,
        # since CREATE SCHEMA IF NOT EXISTS checks the database-level privilege first.
        exists = connection.execute(sa.text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}).first()
        if exists is None:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        connection.execute(sa.text(f'SET search_path TO "{schema}"'))
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(async_url(url), poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
            await connection.commit()
        await engine.dispose()

    asyncio.run(run())


def create_messaging_tables() -> None:
    """The outbox and processed-message tables, for a service's first migration."""
    op.create_table(
        "outbox_messages",
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("message_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("message_type", sa.String(120), nullable=False),
        sa.Column("exchange", sa.String(200), nullable=False),
        sa.Column("routing_key", sa.String(200), nullable=False),
        sa.Column("correlation_id", sa.Uuid, nullable=True),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "processed_messages",
        sa.Column("consumer", sa.String(200), nullable=False),
        sa.Column("message_id", sa.Uuid, nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("consumer", "message_id"),
    )
    op.create_index("ix_processed_messages_processed_at", "processed_messages", ["processed_at"])


# A bulk message's body (a thousand children, ~0.5 MB of JSON) is TOASTed; PostgreSQL's default pglz
# compression of it cost ~8 ms of the server's CPU per row, for a row deleted a moment later. lz4 compresses
# as well at about the cost of no compression; a server built without lz4 (or older than 14) stores the
# body uncompressed instead.
_LZ4_OUTBOX = """
DO $$
BEGIN
    EXECUTE 'ALTER TABLE outbox_messages ALTER COLUMN body SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR syntax_error OR invalid_parameter_value THEN
    EXECUTE 'ALTER TABLE outbox_messages ALTER COLUMN body SET STORAGE EXTERNAL';
END
$$
"""


def compress_outbox_with_lz4() -> None:
    """For a migration: the outbox's bodies compressed with lz4 where the server can (see above)."""
    op.execute(_LZ4_OUTBOX)


def compress_outbox_as_default() -> None:
    """The downgrade of `compress_outbox_with_lz4`."""
    op.execute("ALTER TABLE outbox_messages ALTER COLUMN body SET COMPRESSION default")
    op.execute("ALTER TABLE outbox_messages ALTER COLUMN body SET STORAGE EXTENDED")
