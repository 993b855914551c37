"""A stand-in for the consent and sessions services on the real broker: answers the form's requests as
the contract says, in a thread of its own (the app under test runs in the test client's)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from faststream.rabbit import ExchangeType, RabbitBroker, RabbitExchange, RabbitQueue

from contracts import topology
from contracts.consent import ConsentFormReceipt, ConsentFormView, OpenConsentForm, SubmitConsentForm
from contracts.envelope import Reply
from contracts.sessions import ListTeamSchools

from .fakes import SCHOOLS


class Responder:
    def __init__(self, url: str, views: dict[str, ConsentFormView]) -> None:
        self.url = url
        self.views = views
        self.recorded: dict[uuid.UUID, SubmitConsentForm] = {}
        self.received: list[str] = []

    def subscribe(self, broker: RabbitBroker) -> None:
        def route(message: type[Any]) -> dict[str, Any]:
            r = topology.request_route(message)
            queue = RabbitQueue(f"test.{uuid.uuid4().hex}", auto_delete=True, routing_key=r.routing_key)
            return {"queue": queue, "exchange": RabbitExchange(r.exchange, type=ExchangeType.DIRECT, durable=True)}

        @broker.subscriber(**route(OpenConsentForm))
        async def open_form(query: OpenConsentForm) -> Reply:
            self.received.append(type(query).__name__)
            view = self.views.get(query.token)
            return Reply.success(view) if view else Reply.failure("link_invalid", "This link does not work")

        @broker.subscriber(**route(SubmitConsentForm))
        async def submit(command: SubmitConsentForm) -> Reply:
            self.received.append(type(command).__name__)
            repeated = command.response_id in self.recorded
            self.recorded.setdefault(command.response_id, command)
            receipt = ConsentFormReceipt(
                response_id=command.response_id, matched=True, needs_triage=False, repeated=repeated
            )
            return Reply.success(receipt)

        @broker.subscriber(**route(ListTeamSchools))
        async def schools(query: ListTeamSchools) -> Reply:
            self.received.append(type(query).__name__)
            found = [
                {"team_ods": query.team_ods, "location_id": u, "kind": "school", "name": n} for u, n in SCHOOLS.items()
            ]
            return Reply.success({"schools": found})


@contextmanager
def responding(url: str, views: dict[str, ConsentFormView]) -> Iterator[Responder]:
    responder = Responder(url, views)
    started = threading.Event()
    failure: list[BaseException] = []
    stopping: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def run() -> None:
        stop = asyncio.Event()
        stopping.append((asyncio.get_running_loop(), stop))
        broker = RabbitBroker(url)
        responder.subscribe(broker)
        try:
            await broker.start()
        except BaseException as exc:
            failure.append(exc)
            started.set()
            raise
        started.set()
        await stop.wait()
        await broker.stop()

    thread = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
    thread.start()
    started.wait(30)
    if failure:
        raise failure[0]
    try:
        yield responder
    finally:
        loop, stop = stopping[0]
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
