"""The consent form as a real process on the run's database and its own vhost, a stand-in for the consent and
sessions services answering it over the broker, and the machine's Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Browser

from clinics_admin.processes import ServiceProcess
from contracts.consent_form import LinkKind
from testkit import RabbitServer, free_port
from testkit.browser import chromium, missing
from testkit.form_responder import REQUEST_TOKEN, TEAM_TOKEN, Responder, flu, hpv, make_view, responding


@pytest.fixture(scope="module")
def vhost(rabbit: RabbitServer) -> Iterator[str]:
    with rabbit.fresh_vhost() as url:
        yield url


@pytest.fixture(scope="module")
def responder(vhost: str) -> Iterator[Responder]:
    views = {REQUEST_TOKEN: make_view(programmes=[flu(), hpv()]), TEAM_TOKEN: make_view(kind=LinkKind.TEAM)}
    with responding(vhost, views) as responder:
        yield responder


@pytest.fixture(scope="module")
def form_url(
    database_url: str, vhost: str, responder: Responder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENT_FORM_")}
    env.update(
        {
            "CONSENT_FORM_DATABASE_URL": database_url,
            "CONSENT_FORM_RABBITMQ_URL": vhost,
            "CONSENT_FORM_HTTP_PORT": str(port),
            "CONSENT_FORM_COOKIE_SECURE": "false",  # plain http:// on loopback
            "PYTHONUNBUFFERED": "1",
        }
    )
    process = ServiceProcess("consent_form", env, port, tmp_path_factory.mktemp("logs") / "consent_form.log")
    process.migrate()  # as a deployment does: `python -m consent_form migrate`
    process.start()
    try:
        # In a thread of its own: pytest-asyncio may already run an event loop in this one.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, process.wait_ready(timeout=60)).result()
        yield process.base_url
    finally:
        process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if why := missing():
        pytest.skip(why)
    with chromium() as b:
        yield b
