"""RabbitMQ permissions of every broker user, derived from `contracts.topology` (see docs/security.md)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from contracts import snapshots, topology
from contracts.topology import SERVICES

# Direct reply-to: requests are answered by publishing to the default exchange.
DEFAULT_EXCHANGE = "amq.default"


@dataclass(frozen=True, slots=True)
class Permissions:
    """A RabbitMQ user's permissions in one vhost: three regular expressions over resource names."""

    configure: str
    write: str
    read: str


def _only(names: Iterable[str]) -> str:
    """A regex matching exactly these names (an empty set matches nothing)."""
    unique = sorted(set(names))
    return "^(" + "|".join(re.escape(n) for n in unique) + ")$" if unique else "^$"


def published_exchanges(service: str) -> set[str]:
    """Exchanges a service publishes its events and commands to (not the requests it answers)."""
    return {
        topology.route_for(m).exchange
        for m in snapshots.all_messages()
        if topology.producer_of(m) == service and not topology.is_request(m)
    }


def broker_permissions(service: str) -> Permissions:
    """What `service` may do, derived from the topology.

    - configure (declare, delete): its own queues and dead-letter queues, the exchanges it publishes to,
      its requests exchange and its dead-letter exchange;
    - write (publish, and the queue side of a binding): the exchanges it publishes to, its dead-letter
      exchange, the default exchange (replies to direct reply-to), and its own queues (to bind them);
    - read (consume, and the exchange side of a binding): its own queues and the exchanges they are bound to.
    """
    own = topology.bindings(service)
    queues = {b.queue for b in own}
    dead_letter_queues = {b.dead_letter_queue for b in own}
    dlx = topology.dead_letter_exchange(service)
    publishes = published_exchanges(service) | asks_through(service)
    requests = {topology.requests_exchange(service)} if topology.ANSWERS[service] else set()
    return Permissions(
        configure=_only(queues | dead_letter_queues | published_exchanges(service) | requests | {dlx}),
        write=_only(publishes | {dlx, DEFAULT_EXCHANGE} | queues | dead_letter_queues),
        read=_only(queues | dead_letter_queues | {b.exchange for b in own} | {dlx}),
    )


def asks_through(principal: str) -> set[str]:
    """The requests exchanges a principal's requests (topology.CLIENTS) are published to."""
    return {topology.request_route(m).exchange for m in topology.CLIENTS.get(principal, ())}


def client_permissions(client: str) -> Permissions:
    """What a client (staff's CLI, the consent form) may do: publish to the requests exchanges of the requests
    it may send, nothing else. Its replies come by direct reply-to, which needs no permission; which request on
    that exchange it may send is checked by the consumer against the delivery's user_id (msgkit.senders)."""
    return Permissions(configure=_only(()), write=_only(asks_through(client)), read=_only(()))


def principal_permissions(principal: str) -> Permissions:
    return broker_permissions(principal) if principal in SERVICES else client_permissions(principal)


def main() -> None:
    """Print every broker user's permissions (configure, write, read), for a platform that makes the users."""
    for principal in topology.principals():
        p = principal_permissions(principal)
        print(f"{principal}\tconfigure={p.configure}\twrite={p.write}\tread={p.read}")


if __name__ == "__main__":
    main()
