"""The broker address list (one URL or a cluster's nodes) and the connection's turn to the next node."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError
from yarl import URL

from msgkit.addresses import AddressError, parse_addresses
from msgkit.failover import FailoverBroker, FailoverConnection
from msgkit.settings import ServiceSettings, settings_config

pytestmark = pytest.mark.unit

SECRET = "s3cret-Pass"


def test_one_url_is_a_list_of_one() -> None:
    addresses = parse_addresses("amqp://guest:guest@127.0.0.1:5672/")
    assert addresses.urls == ("amqp://guest:guest@127.0.0.1:5672/",)
    assert addresses.endpoints == (("127.0.0.1", 5672),)


def test_bare_hosts_take_everything_but_host_and_port_from_the_first() -> None:
    addresses = parse_addresses(f"amqps://notify:{SECRET}@rabbit-0:5671/clinics?heartbeat=10, rabbit-1 ,rabbit-2:5999")
    assert addresses.urls == (
        f"amqps://notify:{SECRET}@rabbit-0:5671/clinics?heartbeat=10",
        f"amqps://notify:{SECRET}@rabbit-1/clinics?heartbeat=10",
        f"amqps://notify:{SECRET}@rabbit-2:5999/clinics?heartbeat=10",
    )
    # A node without a port gets the scheme's default.
    assert addresses.endpoints == (("rabbit-0", 5671), ("rabbit-1", 5671), ("rabbit-2", 5999))
    assert addresses.vhost == "clinics"


def test_full_urls_of_one_cluster_are_accepted_and_ipv6_hosts_too() -> None:
    addresses = parse_addresses("amqp://u:p@a:5701/v,amqp://u:p@b:5702/v,[::1]:5703")
    assert addresses.endpoints == (("a", 5701), ("b", 5702), ("::1", 5703))


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("", "empty"),
        ("amqp://u:p@a/,", "address 2 of the RabbitMQ address list is empty"),
        ("http://u:p@a/", "scheme 'http'"),
        ("rabbit-0:5672", "must be a full amqp:// or amqps:// URL"),
        ("amqp:///vhost", "has no host"),
        ("amqp://u:p@a:notaport/", "invalid port"),
        ("amqp://u:p@a/,b:99999", "invalid port"),
        (f"amqp://u:{SECRET}@a/v,amqp://u:other@b/v", "another password"),
        ("amqp://u:p@a/v,amqp://u:p@b/w", "another virtual host"),
        ("amqp://u:p@a/v,amqps://u:p@b/v", "another scheme"),
        ("amqp://u:p@a/v?heartbeat=5,amqp://u:p@b/v", "another options"),
        ("amqp://u:p@a/v,b/v", "neither a URL nor host[:port]"),
        (f"amqp://u:p@a/v,u:{SECRET}@b", "neither a URL nor host[:port]"),
        ("amqp://u:p@a:5672/,a", "repeats address 1"),
    ],
)
def test_a_malformed_list_is_refused_with_a_message_that_names_the_item(value: str, complaint: str) -> None:
    with pytest.raises(AddressError) as info:
        parse_addresses(value)
    assert complaint in str(info.value)
    assert SECRET not in str(info.value)


def test_the_service_setting_is_checked_when_read_and_the_error_never_shows_the_password() -> None:
    with pytest.raises(ValidationError) as info:
        ServiceSettings(rabbitmq_url=f"amqp://u:{SECRET}@a/v,amqp://u:{SECRET}@b/w")
    assert "another virtual host" in str(info.value)
    assert SECRET not in str(info.value)
    settings = ServiceSettings(rabbitmq_url=f"amqp://u:{SECRET}@a/v,b,c")
    assert settings.rabbitmq_url.get_secret_value().count(",") == 2


def test_a_malformed_list_in_the_environment_stops_a_service_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    class DemoSettings(ServiceSettings):
        model_config = settings_config("DEMO_")

    monkeypatch.setenv("DEMO_RABBITMQ_URL", f"amqp://u:{SECRET}@a/v,,b")
    with pytest.raises(ValidationError) as info:
        DemoSettings.from_env()
    assert "address 2 of the RabbitMQ address list is empty" in str(info.value)
    assert SECRET not in str(info.value)


def closed(connection: FailoverConnection) -> asyncio.Future[None]:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    future.set_exception(ConnectionError("node went away"))
    return future


async def test_each_lost_or_refused_connection_moves_to_the_next_node_and_wraps_around() -> None:
    endpoints = [("a", 5701), ("b", 5702), ("c", 5703)]
    connection = FailoverConnection(URL("amqp://u:p@a:5701/v?heartbeat=10"), endpoints=endpoints)
    seen = [connection.node]
    for _ in range(3):
        await connection._on_connection_close(closed(connection))
        seen.append(connection.node)
    assert seen == [("a", 5701), ("b", 5702), ("c", 5703), ("a", 5701)]
    # Only host and port change: credentials, vhost and options go to every node.
    assert str(connection.url) == "amqp://u:p@a:5701/v?heartbeat=10"


async def test_a_connection_closed_on_purpose_stays_where_it_is() -> None:
    connection = FailoverConnection(URL("amqp://u:p@a:5701/"), endpoints=[("a", 5701), ("b", 5702)])
    await connection.close()
    await connection._on_connection_close(closed(connection))
    assert connection.node == ("a", 5701)


def test_the_broker_takes_the_list_and_starts_with_the_first_node() -> None:
    broker = FailoverBroker("amqp://u:p@a:5701/v,b:5702", fail_fast=False)
    assert broker.addresses.endpoints == (("a", 5701), ("b", 5702))
    assert broker.connected_node is None
    with pytest.raises(AddressError):
        FailoverBroker("amqp://u:p@a:5701/v,amqp://u:p@b:5702/w")
