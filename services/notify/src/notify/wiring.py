"""What notify's handlers are given: its unit of work, clock, templates and the dispatcher."""

from __future__ import annotations

from dataclasses import dataclass

from msgkit.wiring import Wiring
from notify.delivery.dispatcher import Dispatcher
from notify.domain.templates import TemplateCatalogue
from notify.persistence.uow import NotifyUnitOfWork


@dataclass(frozen=True, slots=True)
class NotifyWiring(Wiring[NotifyUnitOfWork]):
    catalogue: TemplateCatalogue
    dispatcher: Dispatcher
