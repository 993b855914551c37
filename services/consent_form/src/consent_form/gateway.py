"""The consent form's only way to the rest of the system: the contract's requests, over RabbitMQ."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, Protocol

from contracts.consent import ConsentFormAnswers, OpenConsentForm, SubmitConsentForm
from contracts.consent_form import ConsentFormReceipt, ConsentFormView
from contracts.envelope import Message
from contracts.sessions import ListTeamSchools
from msgkit import rpc
from msgkit.broker import make_broker, tls_options
from msgkit.failover import FailoverBroker
from msgkit.settings import ServiceSettings

# A team's school list changes a few times a year; every parent of the team reads it.
SCHOOLS_CACHE_SECONDS = 300.0
# What a link shows changes only when its request does; a parent (or a mail scanner) opening it twice in a
# minute is answered from memory. A link that expires meanwhile is refused again at submission.
VIEW_CACHE_SECONDS = 60.0
VIEW_CACHE_SIZE = 10_000


class Refused(Exception):
    """The service answered no: `code` is the contract's (link_invalid, link_expired, ...)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Unavailable(Exception):
    """No answer in time: the service behind the request is down or overloaded."""


class Gateway(Protocol):
    async def open_form(self, token: str) -> ConsentFormView: ...

    async def submit(self, token: str, response_id: uuid.UUID, form: ConsentFormAnswers) -> ConsentFormReceipt: ...

    async def schools(self, team_ods: str) -> dict[str, str]: ...


def schools_from(data: dict[str, Any]) -> dict[str, str]:
    """URN → name from ListTeamSchools' reply: `schools`, each a location (location_id is the URN)."""
    found: dict[str, str] = {}
    for school in data.get("schools", []):
        urn = str(school.get("urn") or school.get("location_id") or "")
        if urn.isdigit() and len(urn) == 6:
            found[urn] = str(school.get("name") or urn)
    return dict(sorted(found.items(), key=lambda item: item[1]))


class BrokerGateway:
    """msgkit's requester on the service's own broker connections (its own RabbitMQ user).

    FastStream's `RabbitBroker.request` holds one lock per broker for a whole round trip, so one connection
    answers one parent at a time (measured: 50 parents at once waited 4 s for a page). The gateway keeps
    `connections` brokers and lends an idle one to each request, so that many go out at once.
    """

    def __init__(self, settings: ServiceSettings, *, timeout: float, connections: int = 32) -> None:
        self.brokers: list[FailoverBroker] = [
            make_broker(
                settings.rabbitmq_url.get_secret_value(),
                service=settings.service_name,
                prefetch_count=settings.prefetch_count,
                graceful_timeout=settings.graceful_timeout,
                ssl_options=tls_options(settings),
            )
            for _ in range(connections)
        ]
        self._idle: asyncio.Queue[FailoverBroker] = asyncio.Queue()
        self.timeout = timeout
        self._schools: dict[str, tuple[float, dict[str, str]]] = {}
        self._views: dict[str, tuple[float, ConsentFormView]] = {}

    async def start(self) -> None:
        await asyncio.gather(*(broker.connect() for broker in self.brokers))
        for broker in self.brokers:
            self._idle.put_nowait(broker)

    async def stop(self) -> None:
        await asyncio.gather(*(broker.stop() for broker in self.brokers))

    async def ping(self) -> bool:
        return bool(await self.brokers[0].ping(timeout=2.0))

    async def _ask(self, message: Message) -> dict[str, Any]:
        broker = await self._idle.get()
        try:
            reply = await rpc.request(broker, message, timeout=self.timeout)
        except rpc.RequestTimeout as exc:
            raise Unavailable(type(message).__name__) from exc
        finally:
            self._idle.put_nowait(broker)
        if not reply.ok:
            raise Refused(reply.error.code if reply.error else "refused")
        return reply.data or {}

    async def open_form(self, token: str) -> ConsentFormView:
        cached = self._views.get(token)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        view = ConsentFormView.model_validate(await self._ask(OpenConsentForm(token=token)))
        if len(self._views) >= VIEW_CACHE_SIZE:
            self._views.clear()  # a burst of distinct links: start again rather than grow
        self._views[token] = (time.monotonic() + VIEW_CACHE_SECONDS, view)
        return view

    async def submit(self, token: str, response_id: uuid.UUID, form: ConsentFormAnswers) -> ConsentFormReceipt:
        data = await self._ask(SubmitConsentForm(token=token, response_id=response_id, form=form))
        return ConsentFormReceipt.model_validate(data)

    async def schools(self, team_ods: str) -> dict[str, str]:
        cached = self._schools.get(team_ods)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        found = schools_from(await self._ask(ListTeamSchools(team_ods=team_ods)))
        self._schools[team_ods] = (time.monotonic() + SCHOOLS_CACHE_SECONDS, found)
        return found
