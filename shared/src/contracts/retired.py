"""Messages taken out of the contract: when, why, and the queues an operator deletes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from contracts.topology import snake


@dataclass(frozen=True, slots=True)
class Retired:
    """A message taken out of the contract: when, why, and who consumed it.

    Its queues stay declared on brokers that ran an older release: `queues` are what an operator deletes.
    """

    producer: str
    name: str
    on: date
    why: str
    consumers: tuple[str, ...]

    @property
    def queues(self) -> list[str]:
        names = [f"{consumer}.{snake(self.name)}" for consumer in self.consumers]
        return [q for name in names for q in (name, f"{name}.dlq")]


# A message leaves the contract only by being listed here (the schema snapshot test holds it to that).
RETIRED: Final = (
    Retired("notify", "NotificationDelivered", date(2026, 12, 7), "replaced by NotificationsSettled", ("cohort",)),
    Retired("notify", "NotificationFailed", date(2026, 12, 7), "replaced by NotificationsSettled", ("cohort",)),
)
