"""What notify's handlers are given: its unit of work (which carries "send now"), clock and templates."""

from __future__ import annotations

from dataclasses import dataclass

from msgkit.wiring import Wiring
from notify.domain.templates import TemplateCatalogue
from notify.persistence.uow import NotifyUnitOfWork


@dataclass(frozen=True, slots=True)
class NotifyWiring(Wiring[NotifyUnitOfWork]):
    catalogue: TemplateCatalogue
