"""Unit of work: one session and transaction per use case, with the inbox and outbox on it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Self, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.envelope import Message
from msgkit import inbox, outbox
from msgkit.tables import MessagingTables

M = TypeVar("M", bound=Message)


class UnitOfWork:
    """Services subclass this to add repositories built on `self.session`.

    `publish` queues messages; `commit` writes them to the outbox in the same transaction, commits,
    then wakes the relay so they leave within milliseconds. Leaving without commit rolls back.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        *,
        consumer: str,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self._sessions = sessions
        self._tables = tables
        self._consumer = consumer
        self._on_commit = on_commit
        self._pending: list[Message | outbox.OutboxRow] = []
        self._written = False
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._session

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        await self._session.begin()
        self._pending = []
        self._written = False
        self.enter()
        return self

    def enter(self) -> None:
        """Hook for subclasses to build repositories on the fresh session."""

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        session = self.session
        try:
            if session.in_transaction():
                await session.rollback()
        finally:
            await session.close()
            self._session = None

    async def claim(self, message: Message, *, consumer: str | None = None) -> bool:
        """Record that this consumer handled `message`; False if it already had (a duplicate)."""
        return await inbox.claim(
            self.session, self._tables.processed, consumer=consumer or self._consumer, message_id=message.message_id
        )

    async def claim_many(self, messages: Sequence[M], *, consumer: str | None = None) -> list[M]:
        """The messages of a batch this consumer has not handled before, each once (a batch's inbox claim)."""
        new = await inbox.claim_many(
            self.session,
            self._tables.processed,
            consumer=consumer or self._consumer,
            message_ids=(m.message_id for m in messages),
        )
        fresh = []
        for message in messages:
            if message.message_id in new:
                new.discard(message.message_id)  # a message delivered twice in one batch counts once
                fresh.append(message)
        return fresh

    def publish(self, *messages: Message | outbox.OutboxRow) -> None:
        """Queue messages (or ready-made outbox rows, see `outbox.spliced_row`) for the outbox at commit."""
        self._pending.extend(messages)

    async def write_outbox(self) -> None:
        """Insert what is queued for the outbox now, on this transaction (it still leaves only on commit).

        For work that publishes more than it should hold in memory at once (a team's re-timing: a hundred
        1,000-item events) the rows go out as they are made instead of all at the commit.
        """
        if self._pending:
            await outbox.write(self.session, self._tables.outbox, self._pending)
            self._pending = []
            self._written = True

    async def commit(self) -> None:
        await outbox.write(self.session, self._tables.outbox, self._pending)
        await self.session.commit()
        if self._pending or self._written:
            self._pending = []
            self._written = False
            self._on_commit()
