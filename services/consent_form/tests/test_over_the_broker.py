"""The form's requests over the real broker (msgkit's requester), answered by a stand-in responder."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from consent_form.app import create_app
from consent_form.gateway import BrokerGateway
from testkit import RabbitServer
from testkit.form_responder import Responder, responding

from .conftest import settings
from .fakes import REQUEST_TOKEN, flu, hpv, make_view
from .journey import FORM, submit, walk

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def vhost(rabbit: RabbitServer) -> Iterator[str]:
    with rabbit.fresh_vhost() as url:
        yield url


@pytest.fixture
def responder(vhost: str) -> Iterator[Responder]:
    with responding(vhost, {REQUEST_TOKEN: make_view(programmes=[flu(), hpv()])}) as responder:
        yield responder


@pytest.fixture
def client(form_database: str, vhost: str, responder: Responder) -> Iterator[TestClient]:
    app = create_app(settings(form_database, rabbitmq_url=vhost, request_timeout=5.0))
    with TestClient(app) as client:
        yield client


def test_a_parent_answers_over_the_broker_and_a_resubmit_is_the_same_response(
    client: TestClient, responder: Responder
) -> None:
    walk(client, REQUEST_TOKEN)
    assert "Hill Top Primary" in client.get(FORM + "check-answers").text
    first = submit(client)
    assert first.headers["location"] == FORM + "confirmation"

    [(response_id, command)] = responder.recorded.items()
    assert command.response_id == response_id and command.token == REQUEST_TOKEN
    assert command.form.child_last_name == "Lovelace"
    assert {"OpenConsentForm", "ListTeamSchools", "SubmitConsentForm"} <= set(responder.received)
    assert client.get("/health/ready").json()["checks"] == {"broker": True, "database": True}


def test_an_invalid_link_is_refused_by_the_consent_service(client: TestClient) -> None:
    page = client.get("/consent/req.not-a-real-one")

    assert page.status_code == 404 and "This link does not work" in page.text


def test_a_link_opened_again_within_a_minute_is_answered_from_memory(client: TestClient, responder: Responder) -> None:
    for _ in range(3):
        assert client.get(f"/consent/{REQUEST_TOKEN}").status_code == 200

    assert responder.received.count("OpenConsentForm") == 1


async def test_requests_from_many_parents_go_out_at_once(form_database: str, vhost: str) -> None:
    """FastStream sends one request per connection at a time: the gateway's connections are what overlap."""
    views = {f"req.slow{i}": make_view() for i in range(8)}
    gateway = BrokerGateway(settings(form_database, rabbitmq_url=vhost), timeout=10.0, connections=8)
    with responding(vhost, views, delay=0.5):
        await gateway.start()
        try:
            started = time.monotonic()
            await asyncio.gather(*(gateway.open_form(token) for token in views))
            took = time.monotonic() - started
        finally:
            await gateway.stop()

    assert took < 2.5, f"8 requests of 0.5 s took {took:.1f} s: they went out one at a time"


async def test_by_default_thirty_two_parents_requests_overlap(form_database: str, vhost: str) -> None:
    """200 parents at once queued on 8 connections (make bench run 8: submit → recorded p99 14 s); 32 overlap."""
    views = {f"req.slow{i}": make_view() for i in range(32)}
    configured = settings(form_database, rabbitmq_url=vhost)
    gateway = BrokerGateway(configured, timeout=10.0, connections=configured.rpc_connections)
    with responding(vhost, views, delay=1.0):
        await gateway.start()
        try:
            started = time.monotonic()
            await asyncio.gather(*(gateway.open_form(token) for token in views))
            took = time.monotonic() - started
        finally:
            await gateway.stop()

    assert took < 2.5, f"32 requests of 1 s took {took:.1f} s: they queued for the gateway's connections"
