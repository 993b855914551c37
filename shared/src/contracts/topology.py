"""Every exchange, queue and routing key, derived from one table of who consumes what.

Nothing else in the project spells a broker name. Names follow one scheme:
- producer exchanges `<producer>.events` (events) and `<producer>.commands` (commands it sends), topic;
- requests a service answers arrive on `<service>.requests` (direct);
- routing key `<producer>.<message_snake>`; queue `<consumer>.<message_snake>`;
- each consumer has a dead-letter exchange `<consumer>.dead-letters` and each queue a `<queue>.dlq`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final

from contracts import cohort, consent, notify, sessions
from contracts.envelope import Command, Message, Query

SERVICES: Final = ("sessions", "cohort", "consent", "notify")

# Explicit on every queue: RabbitMQ 3.x quorum queues have no default limit (4.x defaults to 20).
DELIVERY_LIMIT: Final = 20


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def producer_of(message: type[Message]) -> str:
    producer = message.__module__.rsplit(".", 1)[-1]
    if producer not in SERVICES:
        raise ValueError(f"{message.__name__} is not defined in a producer's contracts module")
    return producer


@dataclass(frozen=True, slots=True)
class Route:
    """Where a message is published."""

    exchange: str
    routing_key: str
    exchange_type: str = "topic"


@dataclass(frozen=True, slots=True)
class Binding:
    """One queue a service consumes, bound to the exchange its messages arrive on."""

    consumer: str
    message: type[Message]
    queue: str
    exchange: str
    routing_key: str
    exchange_type: str
    dead_letter_exchange: str
    dead_letter_queue: str
    is_request: bool

    @property
    def queue_arguments(self) -> dict[str, str | int]:
        return {
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": self.dead_letter_exchange,
            "x-dead-letter-routing-key": self.queue,
            "x-delivery-limit": DELIVERY_LIMIT,
        }


def events_exchange(producer: str) -> str:
    return f"{producer}.events"


def commands_exchange(producer: str) -> str:
    return f"{producer}.commands"


def requests_exchange(service: str) -> str:
    return f"{service}.requests"


def dead_letter_exchange(consumer: str) -> str:
    return f"{consumer}.dead-letters"


def route_for(message: type[Message]) -> Route:
    """The exchange and routing key a published (not requested) message travels on."""
    producer = producer_of(message)
    exchange = commands_exchange(producer) if issubclass(message, Command) else events_exchange(producer)
    return Route(exchange=exchange, routing_key=f"{producer}.{snake(message.__name__)}")


def request_route(message: type[Message]) -> Route:
    """The exchange and routing key of a request (command or query answered by its defining service)."""
    service = producer_of(message)
    return Route(requests_exchange(service), f"{service}.{snake(message.__name__)}", "direct")


# Asynchronous messages each service consumes (events of others, and commands addressed to it).
CONSUMES: Final[dict[str, tuple[type[Message], ...]]] = {
    "sessions": (),
    "cohort": (
        sessions.TeamUpdated,
        sessions.SchoolSessionChanged,
        sessions.SchoolSessionClosed,
        sessions.ClinicDatesChanged,
        sessions.VaccinationRecorded,
        consent.ConsentRecorded,
        consent.ConsentRequested,
        consent.AddChildFromConsentResponse,
        notify.InvitationsScheduled,
        notify.InvitationCancelled,
        notify.NotificationsSent,
        notify.NotificationsSettled,
        notify.NotificationCancelled,
    ),
    "consent": (
        sessions.TeamUpdated,
        sessions.ClinicDatesChanged,
        sessions.VaccinationRecorded,
        cohort.ChildrenUpserted,
        cohort.ChildrenJoinedClinicCohort,
    ),
    "notify": (
        sessions.TeamUpdated,
        sessions.ClinicDatesChanged,
        sessions.VaccinationRecorded,
        cohort.ChildrenUpserted,
        cohort.ChildRemovedFromClinicCohort,
        cohort.InviteToClinic,
        consent.ConsentRecorded,
        consent.SendParentMessage,
    ),
}

# Requests (request–reply commands and queries) each service answers; defined in its own module.
ANSWERS: Final[dict[str, tuple[type[Message], ...]]] = {
    "sessions": (
        sessions.UpsertTeam,
        sessions.AddLocation,
        sessions.CreateSchoolSession,
        sessions.SetClinicDates,
        sessions.CloseSchoolSession,
        sessions.RecordVaccination,
        sessions.GetSession,
        sessions.GetClinicSession,
        sessions.ListTeamSchools,
    ),
    "cohort": (
        cohort.ImportCohortChunk,
        cohort.CommitCohortImport,
        cohort.ListImportReviews,
        cohort.DecideImportReview,
        cohort.InviteChildToClinic,
        cohort.AddWalkIn,
        cohort.ChangeChildSchool,
        cohort.SetChildFlags,
        cohort.PreviewClinicInvitations,
        cohort.GetActivityLog,
        cohort.ListClinicChildren,
        cohort.FindChildren,
    ),
    "consent": (
        consent.SendConsentRequest,
        consent.RecordConsent,
        consent.GetConsentStatus,
        consent.OpenConsentForm,
        consent.SubmitConsentForm,
        consent.ListConsentResponses,
        consent.GetConsentResponse,
        consent.MatchConsentResponse,
        consent.CreateChildFromConsentResponse,
        consent.ArchiveConsentResponse,
        consent.GetTeamConsentLink,
    ),
    "notify": (notify.GetInvitationStatus,),
}


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


def _binding(consumer: str, message: type[Message], *, request: bool) -> Binding:
    route = request_route(message) if request else route_for(message)
    queue = f"{consumer}.{snake(message.__name__)}"
    return Binding(
        consumer=consumer,
        message=message,
        queue=queue,
        exchange=route.exchange,
        routing_key=route.routing_key,
        exchange_type=route.exchange_type,
        dead_letter_exchange=dead_letter_exchange(consumer),
        dead_letter_queue=f"{queue}.dlq",
        is_request=request,
    )


def bindings(consumer: str) -> list[Binding]:
    """Every queue `consumer` reads: its subscriptions, then the requests it answers."""
    subscribed = [_binding(consumer, m, request=False) for m in CONSUMES[consumer]]
    answered = [_binding(consumer, m, request=True) for m in ANSWERS[consumer]]
    return subscribed + answered


def binding(consumer: str, message: type[Message]) -> Binding:
    for b in bindings(consumer):
        if b.message is message:
            return b
    raise LookupError(f"{consumer} does not consume {message.__name__}")


def all_bindings() -> list[Binding]:
    return [b for service in SERVICES for b in bindings(service)]


def published_by(producer: str) -> list[type[Message]]:
    """Asynchronous messages a service publishes (for publisher declarations and AsyncAPI)."""
    seen = {m for ms in CONSUMES.values() for m in ms if producer_of(m) == producer}
    return sorted(seen, key=lambda m: m.__name__)


def is_request(message: type[Message]) -> bool:
    return issubclass(message, Query) or message in ANSWERS[producer_of(message)]
