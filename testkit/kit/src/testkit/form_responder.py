"""The consent form's counterparts for tests: links' views as the consent service answers them, and a
stand-in for the consent and sessions services on the real broker that answers the form's requests as the
contract says, in a thread of its own (the app or browser under test runs elsewhere)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from faststream.rabbit import ExchangeType, RabbitBroker, RabbitExchange, RabbitQueue

from contracts import topology
from contracts.common import Programme
from contracts.consent import OpenConsentForm, SubmitConsentForm, VaccineMethod
from contracts.consent_form import ConsentFormReceipt, ConsentFormView, FormProgramme, HealthQuestion, LinkKind
from contracts.envelope import Reply
from contracts.sessions import ListTeamSchools

REQUEST_TOKEN = "req.abc123"
OTHER_TOKEN = "req.other456"
TEAM_TOKEN = "team.xyz789"
EXPIRED_TOKEN = "req.expired"
SCHOOLS = {"100001": "Hill Top Primary", "100002": "Riverside Academy"}


def flu() -> FormProgramme:
    return FormProgramme(
        programme=Programme.FLU,
        vaccine_methods=[VaccineMethod.NASAL, VaccineMethod.INJECTION],
        health_questions=[
            HealthQuestion(question_id="asthma", question="Has your child been diagnosed with asthma?"),
            HealthQuestion(
                question_id="allergy", question="Does your child have a severe allergy?", hint="Such as to eggs"
            ),
        ],
    )


def hpv() -> FormProgramme:
    return FormProgramme(
        programme=Programme.HPV,
        vaccine_methods=[VaccineMethod.INJECTION],
        health_questions=[HealthQuestion(question_id="bleeding", question="Does your child have a bleeding disorder?")],
    )


def make_view(
    *, kind: LinkKind = LinkKind.REQUEST, programmes: list[FormProgramme] | None = None, child: str = "Ada"
) -> ConsentFormView:
    return ConsentFormView(
        link_kind=kind,
        team_ods="RYG",
        team_name="Leeds Community Vaccinations",
        team_email="vaccinations@example.nhs.uk",
        team_phone="0113 496 0000",
        academic_year=2026,
        programmes=programmes or [flu()],
        child_first_name=child if kind is LinkKind.REQUEST else None,
        child_last_name="Lovelace" if kind is LinkKind.REQUEST else None,
        closes_on=date(2027, 3, 1),
    )


class Responder:
    def __init__(self, url: str, views: dict[str, ConsentFormView], *, delay: float = 0.0) -> None:
        self.url = url
        self.views = views
        self.delay = delay  # how long the stand-in service takes over each answer
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
            await asyncio.sleep(self.delay)  # a service that takes this long to answer
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
def responding(url: str, views: dict[str, ConsentFormView], *, delay: float = 0.0) -> Iterator[Responder]:
    responder = Responder(url, views, delay=delay)
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
