"""The CLI's connection to RabbitMQ: requests with timeouts, and failures as one-line errors."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from faststream.rabbit import ExchangeType, RabbitBroker, RabbitExchange

from contracts import topology
from contracts.envelope import Message, Reply
from msgkit.addresses import AddressError, parse_addresses
from msgkit.failover import FailoverBroker

T = TypeVar("T")

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_TIMEOUT = 4

CONNECT_TIMEOUT = 10.0
SHUTDOWN_GRACE = 2.0


class CliError(Exception):
    """A failure the CLI reports in one line, with its exit code (and, for refusals, the service's code)."""

    def __init__(
        self, message: str, exit_code: int, details: list[dict[str, Any]] | None = None, *, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.details = details or []
        self.code = code


# Where nothing is set: make dev's broker, as the CLI's own user (clinics_admin.bootstrap makes it; under make dev
# its password is its name), which may send exactly staff's requests (contracts.topology.CLIENTS["clinics_cli"]).
STAFF_DEV_URL = "amqp://clinics_cli:clinics_cli@127.0.0.1:5672/"
# `clinics dead-letters` is an operator's tool: make dev's admin user (see docs/security.md).
OPERATOR_DEV_URL = "amqp://guest:guest@127.0.0.1:5672/"


def broker_url(*, operator: bool = False) -> str:
    """$CLINICS_RABBITMQ_URL, else $RABBITMQ_URL (an admin's: the CLI then acts as an operator), else make dev's."""
    default = OPERATOR_DEV_URL if operator else STAFF_DEV_URL
    return os.environ.get("CLINICS_RABBITMQ_URL") or os.environ.get("RABBITMQ_URL") or default


def quiet_libraries() -> None:
    """aio-pika and aiormq log connection failures themselves; the CLI says it once, in its own words."""
    logging.getLogger().addHandler(logging.NullHandler())
    for name in ("aio_pika", "aiormq", "faststream"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def safe_url(url: str) -> str:
    """The URL (or each of a list's) without its user and password, fit to print."""
    return ",".join(_without_user(item.strip()) for item in url.split(","))


def _without_user(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://{rest.rsplit('@', 1)[1]}"
    return url


def broker_for(url: str) -> FailoverBroker:
    """A broker on the address list; a malformed list (from the environment) is bad usage."""
    try:
        addresses = parse_addresses(url)
    except AddressError as exc:
        raise CliError(f"bad RabbitMQ address list: {exc}", EXIT_USAGE) from None
    return FailoverBroker(addresses, logger=None, fail_fast=True)


def _missing_entity(exc: BaseException) -> str | None:
    """The broker's NOT_FOUND text somewhere in the exception chain, if that is what went wrong."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = str(current)
        if "NOT_FOUND" in text:
            return text[text.index("NOT_FOUND") :].rstrip('">')
        current = current.__cause__ or current.__context__
    return None


class Client:
    """Sends requests to the services and turns error replies into `CliError`."""

    def __init__(self, broker: RabbitBroker, timeout: float, url: str) -> None:
        self.broker = broker
        self.timeout = timeout
        self.url = url

    async def ask(self, message: Message, *, timeout: float | None = None) -> dict[str, Any]:
        name = type(message).__name__
        service = topology.producer_of(type(message))
        wait = timeout or self.timeout
        try:
            reply = await self._request(message, wait)
        except TimeoutError as exc:
            raise CliError(
                f"no reply to {name} within {wait:g}s: is the {service} service running and keeping up?", EXIT_TIMEOUT
            ) from exc
        except Exception as exc:
            why = _missing_entity(exc) or type(exc).__name__
            raise CliError(
                f"could not deliver {name} ({why}): is the {service} service running against this broker?",
                EXIT_UNREACHABLE,
            ) from exc
        if not reply.ok:
            error = reply.error
            if error is None:
                raise CliError(f"{name} was refused", EXIT_REFUSED)
            raise CliError(error.message, EXIT_REFUSED, error.details, code=error.code)
        return reply.data or {}

    async def _request(self, message: Message, timeout: float) -> Reply:
        """The request msgkit.rpc makes, without importing the services' kit (database, metrics) at start-up."""
        route = topology.request_route(type(message))
        response = await self.broker.request(
            message.model_dump_json().encode(),
            exchange=RabbitExchange(route.exchange, type=ExchangeType(route.exchange_type), durable=True),
            routing_key=route.routing_key,
            correlation_id=str(message.message_id),
            message_id=str(message.message_id),
            content_type="application/json",
            timeout=timeout,
            persist=True,
        )
        return Reply.model_validate_json(response.body)


@asynccontextmanager
async def connect(url: str, timeout: float) -> AsyncIterator[Client]:
    broker = broker_for(url)
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT):
            await broker.connect()
    except Exception as exc:
        await _close_quietly(broker)
        raise CliError(f"cannot reach RabbitMQ at {safe_url(url)}: {connect_failure(exc)}", EXIT_UNREACHABLE) from exc
    try:
        yield Client(broker, timeout, url)
    finally:
        await _close_quietly(broker)


def connect_failure(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {CONNECT_TIMEOUT:g}s"
    text = str(exc).strip()
    if "ACCESS_REFUSED" in text or "authentication" in text.lower():
        return "access refused (check the user, password and vhost)"
    if "Connect call failed" in text or "refused" in text.lower():
        return "connection refused"
    return type(exc).__name__


async def _close_quietly(broker: RabbitBroker) -> None:
    try:
        async with asyncio.timeout(SHUTDOWN_GRACE):
            await broker.stop()
    except Exception:  # closing a half-open connection may fail; there is nothing left to save
        logging.getLogger(__name__).debug("closing the broker failed", exc_info=True)


def run_briefly(work: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run`, except that leftover tasks get a short grace instead of being awaited for ever.

    A robust connection whose first attempt was cut off by our timeout keeps a reconnect task alive that
    ignores cancellation; `asyncio.run` would wait on it and the CLI would never exit.
    """
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(work)
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=SHUTDOWN_GRACE))
        loop.close()


def run(url: str, timeout: float, work: Callable[[Client], Awaitable[T]]) -> T:
    async def main() -> T:
        async with connect(url, timeout) as client:
            return await work(client)

    return run_briefly(main())
