"""The consent service's unit of work: the kit's inbox and outbox plus the consent repository."""

from __future__ import annotations

from consent.repository import ConsentRepository
from msgkit.runtime import Runtime
from msgkit.uow import UnitOfWork


class ConsentUnitOfWork(UnitOfWork):
    consent: ConsentRepository

    def enter(self) -> None:
        self.consent = ConsentRepository(self.session)


def unit_of_work(runtime: Runtime) -> ConsentUnitOfWork:
    return ConsentUnitOfWork(runtime.sessions, runtime.tables, consumer=runtime.service, on_commit=runtime.wake_relay)
