"""The cohort unit of work: one transaction with its repositories, inbox and outbox."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cohort.copies import CopyRepository
from cohort.import_repository import ImportRepository
from cohort.queries import CohortQueries
from cohort.repository import ActivityRepository, ChildRepository, MembershipRepository, ReplyRepository
from contracts.envelope import Message
from msgkit import outbox
from msgkit.outbox import OutboxRow
from msgkit.tables import MessagingTables
from msgkit.uow import UnitOfWork


class CohortUnitOfWork(UnitOfWork):
    """Adds the cohort repositories, and `publish_now` for bulk paths that must not hold every message in memory."""

    children: ChildRepository
    memberships: MembershipRepository
    activity: ActivityRepository
    replies: ReplyRepository
    copies: CopyRepository
    imports: ImportRepository
    queries: CohortQueries

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        *,
        consumer: str,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(sessions, tables, consumer=consumer, on_commit=on_commit)
        self._outbox_table = tables.outbox
        self._wake = on_commit
        self._written = False

    def enter(self) -> None:
        session = self.session
        self.children = ChildRepository(session)
        self.memberships = MembershipRepository(session)
        self.activity = ActivityRepository(session)
        self.replies = ReplyRepository(session)
        self.copies = CopyRepository(session)
        self.imports = ImportRepository(session)
        self.queries = CohortQueries(session)
        self._written = False

    async def publish_now(self, messages: Sequence[Message | OutboxRow]) -> None:
        """Write messages (or ready-made outbox rows) to the outbox at once, still inside the transaction.

        Bulk paths use this so a 100,000-child commit never holds all its messages in memory.
        """
        rows = [m if isinstance(m, dict) else outbox.outbox_row(m) for m in messages]
        if rows:
            await self.session.execute(insert(self._outbox_table), rows)
            self._written = True

    async def commit(self) -> None:
        await super().commit()
        if self._written:
            self._written = False
            self._wake()
