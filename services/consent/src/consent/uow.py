"""The consent service's unit of work: the kit's inbox and outbox plus the consent repository."""

from __future__ import annotations

from consent.form_repository import FormRepository
from consent.repository import ConsentRepository
from msgkit.uow import UnitOfWork


class ConsentUnitOfWork(UnitOfWork):
    consent: ConsentRepository
    forms: FormRepository

    def enter(self) -> None:
        self.consent = ConsentRepository(self.session)
        self.forms = FormRepository(self.session)
