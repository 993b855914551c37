"""What the cohort service's handlers are given: its unit of work, clock and activity-log batcher."""

from __future__ import annotations

from dataclasses import dataclass

from cohort.uow import CohortUnitOfWork
from contracts.envelope import Message
from msgkit.batching import Batcher
from msgkit.wiring import Wiring


@dataclass(frozen=True, slots=True)
class CohortWiring(Wiring[CohortUnitOfWork]):
    # Events that only add to activity logs: many per transaction (see event_services.record_activity).
    activity: Batcher[Message, None]
