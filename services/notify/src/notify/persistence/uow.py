"""Notify's unit of work: the kit's inbox and outbox plus notify's repositories, and the dispatcher wake-up."""

from __future__ import annotations

from collections.abc import Callable
from enum import Flag, auto

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from msgkit.tables import MessagingTables
from msgkit.uow import UnitOfWork
from notify.persistence.copies import CopiesRepository
from notify.persistence.invitations import InvitationRepository
from notify.persistence.limits import SendLimits
from notify.persistence.notifications import NotificationRepository


class Due(Flag):
    """What a transaction made due: invitations to expand, or notifications to send."""

    NOTHING = 0
    INVITATIONS = auto()
    SENDS = auto()


class NotifyUnitOfWork(UnitOfWork):
    """`due_work(...)` marks that the transaction made something due, so its commit wakes that part of the
    dispatcher (and only that part: a claim that finds nothing is a transaction on the path of the rest)."""

    copies: CopiesRepository
    invitations: InvitationRepository
    notifications: NotificationRepository
    limits: SendLimits

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        tables: MessagingTables,
        *,
        consumer: str,
        on_commit: Callable[[], None] = lambda: None,
        on_due: Callable[[Due], None] = lambda due: None,
    ) -> None:
        super().__init__(sessions, tables, consumer=consumer, on_commit=on_commit)
        self._on_due = on_due
        self._due = Due.NOTHING

    def enter(self) -> None:
        self._due = Due.NOTHING
        self.copies = CopiesRepository(self.session)
        self.invitations = InvitationRepository(self.session)
        self.notifications = NotificationRepository(self.session)
        self.limits = SendLimits(self.session)

    def due_work(self, due: Due) -> None:
        self._due |= due

    async def commit(self) -> None:
        await super().commit()
        if self._due:
            due, self._due = self._due, Due.NOTHING
            self._on_due(due)
