"""A broker connection to a RabbitMQ cluster that moves to the next node of its address list on every reconnect.

aio-pika's RobustConnection reconnects to the one URL it was given: with that node dead it retries it forever.
`FailoverConnection` changes the URL to the next node whenever the connection closes or an attempt fails
(aio-pika reports both through `_on_connection_close`), so the next attempt goes elsewhere; channels,
exchanges, queues, bindings and consumers are then restored on that node as after any reconnect.
`FailoverBroker` passes it to FastStream and, when failing fast at start-up, gives every node a turn first.

It also renews its channel when the broker nacks a publish. On RabbitMQ 3.10 a channel whose first publish
to a quorum queue falls in that queue's leader election (as the first publishes after a failover do, when
the dead node led the queue) is refused for that queue from then on: every later publish is nacked, though
the queue has a leader again within a second. A new channel is not. Renewing is rate-limited, and the
outbox relay retries the nacked rows, so the renewal costs at most a few retries.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any

import aio_pika
from aio_pika import RobustConnection
from aio_pika.abc import AbstractConnection
from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from aiormq.exceptions import DeliveryError
from faststream import BaseMiddleware
from faststream.rabbit import RabbitBroker
from pamqp.commands import Basic
from yarl import URL

from msgkit.addresses import Addresses, parse_addresses
from msgkit.senders import connection_user

log = logging.getLogger(__name__)

# Seconds between two channel renewals: a leader election usually ends within one, and a renewal that lands
# inside it is simply made again on the next nack.
RENEW_INTERVAL = 1.0


class FailoverConnection(RobustConnection):
    """A RobustConnection over several nodes, tried in turn starting with the first."""

    def __init__(
        self,
        url: URL,
        loop: asyncio.AbstractEventLoop | None = None,
        *,
        endpoints: Sequence[tuple[str, int]],
        **kw: Any,
    ) -> None:
        super().__init__(url, loop=loop, **kw)
        self.endpoints = tuple(endpoints) or ((url.host or "localhost", url.port or 5672),)
        self._position = 0
        self.url = self._url_of(0)

    @property
    def node(self) -> tuple[str, int]:
        """The node this connection is on (or trying next)."""
        return self.endpoints[self._position]

    async def _on_connection_close(self, closing: asyncio.Future[Any]) -> None:
        if not (self.close_called or self.is_closed) and len(self.endpoints) > 1:
            lost = self.node
            self._position = (self._position + 1) % len(self.endpoints)
            self.url = self._url_of(self._position)
            log.warning(
                "broker connection to %s:%s closed or refused; next attempt goes to %s:%s",
                *lost,
                *self.node,
                extra={"broker_node": f"{self.node[0]}:{self.node[1]}"},
            )
        await super()._on_connection_close(closing)

    def _url_of(self, position: int) -> URL:
        host, port = self.endpoints[position]
        return self.url.with_host(host).with_port(port)


class FailoverBroker(RabbitBroker):
    """A RabbitBroker on an address list (see msgkit.addresses): `FailoverBroker("amqp://…@a,b:5672,c")`.

    With one address it behaves as RabbitBroker. Options (TLS, client properties, timeouts) apply to every
    node. With `fail_fast` (FastStream's default) start-up fails only once every node has refused.
    """

    def __init__(self, addresses: str | Addresses, **kwargs: Any) -> None:
        self.addresses = parse_addresses(addresses) if isinstance(addresses, str) else addresses
        super().__init__(self.addresses.first, **kwargs)
        self._fail_fast = bool(kwargs.get("fail_fast", True))
        self._renewed_at = 0.0
        self._renewal: asyncio.Task[None] | None = None
        self.channel_renewals = 0
        # The broker-validated sender of everything published on this connection (every node: one user).
        self.user = connection_user(self.addresses.first)
        # Outermost, so it sees every publish's outcome (broker.publish, publishers, replies).
        self.insert_middleware(partial(_RenewOnNack, broker=self))

    @property
    def connected_node(self) -> tuple[str, int] | None:
        """The node the broker's connection is on now, or None before it connects."""
        connection = self._connection
        return connection.node if isinstance(connection, FailoverConnection) else None

    async def _connect(self) -> RobustConnection:
        endpoints = self.addresses.endpoints
        built = URL(self._connection_kwargs["url"])  # the first URL with every option FastStream folded in
        last: BaseException | None = None
        for start in range(len(endpoints) if self._fail_fast else 1):
            order = endpoints[start:] + endpoints[:start]
            self._connection_kwargs["url"] = str(built.with_host(order[0][0]).with_port(order[0][1]))
            self._connection_kwargs["connection_class"] = partial(FailoverConnection, endpoints=order)
            try:
                return await super()._connect()
            except CONNECTION_EXCEPTIONS as exc:
                last = exc
                log.warning("broker node %s:%s refused the connection: %s", *order[0], type(exc).__name__)
        assert last is not None
        raise last

    def renew_channel_soon(self) -> None:
        """After a nack: renew the channel in the background, at most once per RENEW_INTERVAL."""
        now = time.monotonic()
        if now - self._renewed_at < RENEW_INTERVAL or (self._renewal is not None and not self._renewal.done()):
            return
        self._renewed_at = now
        self._renewal = asyncio.create_task(self._renew_channel())

    async def _renew_channel(self) -> None:
        """Close the default channel's AMQP channel: aio-pika opens a new one and restores its exchanges,
        queues, bindings and consumers on it (unacked deliveries are redelivered; consumers dedupe)."""
        channel = self._channel
        if channel is None or channel.is_closed:
            return
        log.warning("the broker nacked a publish; renewing the channel")
        try:
            underlay = await asyncio.wait_for(channel.get_underlay_channel(), timeout=5.0)
            await underlay.close()
        except Exception:
            log.warning("could not renew the channel; the next nack tries again", exc_info=True)
            return
        self.channel_renewals += 1


class _RenewOnNack(BaseMiddleware):
    """Signs every publish with the connection's user (user_id), and tells the broker to renew its channel
    when a publish is nacked; the publish still fails."""

    def __init__(self, msg: Any, /, *, context: Any, broker: FailoverBroker) -> None:
        super().__init__(msg, context=context)
        self._broker = broker

    async def publish_scope(self, call_next: Callable[[Any], Awaitable[Any]], cmd: Any) -> Any:
        options = getattr(cmd, "message_options", None)
        if isinstance(options, dict) and not options.get("user_id"):
            options["user_id"] = self._broker.user
        try:
            return await call_next(cmd)
        except DeliveryError as exc:
            if isinstance(exc.frame, Basic.Nack):
                self._broker.renew_channel_soon()
            raise


async def connect_first(addresses: str | Addresses, *, timeout: float) -> AbstractConnection:
    """A plain (not robust) connection to the first node that accepts one: for one-shot tools, which should
    fail and say so rather than reconnect in the background. `timeout` applies to each node in turn."""
    parsed = parse_addresses(addresses) if isinstance(addresses, str) else addresses
    last: BaseException | None = None
    for url in parsed.urls:
        try:
            return await asyncio.wait_for(aio_pika.connect(url), timeout=timeout)
        except CONNECTION_EXCEPTIONS as exc:
            last = exc
    assert last is not None
    raise last
