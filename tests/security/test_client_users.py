"""The broker users of the clients (staff's CLI, the consent form): they may only ask, and only what they list.

Their permissions are derived from contracts.topology.CLIENTS by clinics_admin.permissions; which request on a
requests exchange they may send is the consumers' check (tests/security/test_senders.py walks it).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import aio_pika
import pytest
from aiormq.exceptions import ChannelAccessRefused

from clinics_admin.bootstrap import client_permissions, service_amqp_url
from contracts import topology
from contracts.envelope import Command, Message, Query

CLI_SOURCE = Path(__file__).resolve().parents[2] / "cli" / "src" / "clinics_cli"
CONTRACT_MODULES = {"sessions", "cohort", "consent", "notify"}


def allowed(pattern: str, name: str) -> bool:
    return re.search(pattern, name) is not None


def sent_by_the_cli() -> set[type[Message]]:
    """Every request or command class the CLI's source names (`cohort.FindChildren`, or imported by name)."""
    found: set[type[Message]] = set()
    messages = {m.__name__: m for m in _requests()}
    for path in CLI_SOURCE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id in CONTRACT_MODULES and node.attr in messages:
                    found.add(messages[node.attr])
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("contracts."):
                found |= {messages[a.name] for a in node.names if a.name in messages}
    return found


def _requests() -> list[type[Message]]:
    from contracts.snapshots import all_messages

    published = {m for ms in topology.CONSUMES.values() for m in ms}
    return [m for m in all_messages() if issubclass(m, Query | Command) and m not in published]


@pytest.mark.unit
def test_the_cli_user_may_send_exactly_what_the_cli_sends() -> None:
    assert set(topology.CLIENTS["clinics_cli"]) == sent_by_the_cli()


@pytest.mark.unit
def test_every_answered_request_has_a_client() -> None:
    unreachable = [m.__name__ for ms in topology.ANSWERS.values() for m in ms if not topology.clients_of(m)]
    assert unreachable == []


@pytest.mark.unit
@pytest.mark.parametrize("client", list(topology.CLIENTS))
def test_a_client_may_only_publish_to_the_requests_exchanges_it_asks_through(client: str) -> None:
    p = client_permissions(client)
    asks = {topology.request_route(m).exchange for m in topology.CLIENTS[client]}
    every_queue = {q for b in topology.all_bindings() for q in (b.queue, b.dead_letter_queue)}
    every_exchange = {b.exchange for b in topology.all_bindings()} | {"amq.default"}
    every_exchange |= {topology.dead_letter_exchange(s) for s in topology.SERVICES}
    assert {e for e in every_exchange if allowed(p.write, e)} == asks
    assert not [name for name in every_queue | every_exchange if allowed(p.configure, name) or allowed(p.read, name)]
    assert not [q for q in every_queue if allowed(p.write, q)]


@pytest.mark.integration
@pytest.mark.parametrize("client", list(topology.CLIENTS))
async def test_a_client_user_cannot_consume_any_queue_nor_publish_events(privileged_vhost: str, client: str) -> None:
    connection = await aio_pika.connect(service_amqp_url(privileged_vhost, client))
    async with connection:
        for b in topology.all_bindings()[:5]:
            channel = await connection.channel()
            with pytest.raises(ChannelAccessRefused):
                await (await channel.get_queue(b.dead_letter_queue, ensure=False)).get(fail=False)
        for target in ("", "sessions.events", "cohort.commands"):
            channel = await connection.channel()
            exchange = channel.default_exchange if not target else await channel.get_exchange(target, ensure=False)
            with pytest.raises(ChannelAccessRefused):
                await exchange.publish(aio_pika.Message(b"{}", user_id=client), routing_key="cohort.find_children")


@pytest.mark.unit
def test_staff_commands_default_to_the_cli_user_and_operators_tools_to_the_admin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from clinics_cli.client import broker_url
    from msgkit.senders import connection_user

    monkeypatch.delenv("CLINICS_RABBITMQ_URL", raising=False)
    monkeypatch.delenv("RABBITMQ_URL", raising=False)
    assert connection_user(broker_url()) == "clinics_cli"
    assert connection_user(broker_url(operator=True)) == "guest"  # make dev's admin: `clinics dead-letters`
    monkeypatch.setenv("CLINICS_RABBITMQ_URL", "amqp://ops:pw@mq/")
    assert connection_user(broker_url()) == connection_user(broker_url(operator=True)) == "ops"
