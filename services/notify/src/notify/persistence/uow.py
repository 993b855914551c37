"""Notify's unit of work: the kit's inbox and outbox plus notify's repositories, the dispatcher's wake-up and
"send now"."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from enum import Flag, auto
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from msgkit.tables import MessagingTables
from msgkit.uow import UnitOfWork
from notify.domain.invitations import Invitation
from notify.persistence.copies import CopiesRepository
from notify.persistence.invitations import InvitationRepository
from notify.persistence.limits import SendLimits
from notify.persistence.notifications import NotificationRepository


class Due(Flag):
    """What a transaction made due: invitations to expand, or notifications to send."""

    NOTHING = 0
    INVITATIONS = auto()
    SENDS = auto()


class SendNow(Protocol):
    """Sends invitations a transaction has just made due without waiting for a loop (the dispatcher does)."""

    async def send_now(
        self, uow: NotifyUnitOfWork, invitations: Sequence[Invitation], now: datetime
    ) -> Callable[[], None]:
        """Expand (and claim) `invitations` in `uow`'s open transaction; the call returned sends them after commit."""
        ...


class NotifyUnitOfWork(UnitOfWork):
    """`due_work(...)` marks that the transaction made something due, so its commit wakes that part of the
    dispatcher (and only that part: a claim that finds nothing is a transaction on the path of the rest).
    `send_now(...)` has the `sender` send invitations made due now as the transaction commits."""

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
        sender: SendNow | None = None,
    ) -> None:
        super().__init__(sessions, tables, consumer=consumer, on_commit=on_commit)
        self._on_due = on_due
        self._sender = sender
        self._due = Due.NOTHING
        self._after_commit: list[Callable[[], None]] = []

    def enter(self) -> None:
        self._due = Due.NOTHING
        self._after_commit = []
        self.copies = CopiesRepository(self.session)
        self.invitations = InvitationRepository(self.session)
        self.notifications = NotificationRepository(self.session)
        self.limits = SendLimits(self.session)

    def due_work(self, due: Due) -> None:
        self._due |= due

    async def send_now(self, invitations: Sequence[Invitation], now: datetime) -> None:
        """Invitations this transaction made due now: sent once it commits, or (without a sender) left to the
        dispatcher's expand loop, which the commit wakes."""
        if not invitations:
            return
        if self._sender is None:
            self.due_work(Due.INVITATIONS)
            return
        self._after_commit.append(await self._sender.send_now(self, invitations, now))

    async def commit(self) -> None:
        await super().commit()
        if self._due:
            due, self._due = self._due, Due.NOTHING
            self._on_due(due)
        launches, self._after_commit = self._after_commit, []
        for launch in launches:
            launch()
