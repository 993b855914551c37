"""The sessions service's unit of work: one transaction, its repositories, inbox and outbox."""

from __future__ import annotations

from msgkit.uow import UnitOfWork
from sessions.repository import SessionRepository, TeamRepository, VaccinationRepository


class SessionsUnitOfWork(UnitOfWork):
    """`uow.session` is the database session; `uow.sessions` holds vaccination sessions."""

    teams: TeamRepository
    sessions: SessionRepository
    vaccinations: VaccinationRepository

    def enter(self) -> None:
        self.teams = TeamRepository(self.session)
        self.sessions = SessionRepository(self.session)
        self.vaccinations = VaccinationRepository(self.session)
