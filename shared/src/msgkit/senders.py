"""Who may put a message on a queue, and where its reply may go: checked on every delivery, before decoding.

RabbitMQ validates the `user_id` property: it refuses a publish whose user_id is not the publishing
connection's own user (and no user of this system has the `impersonator` tag). So user_id names the sender
unforgeably; every msgkit publisher sets it (`msgkit.failover`). A consumer accepts a delivery only if
- its user_id is a sender the contract allows on that queue (`contracts.topology.senders`: an event's or
  command's producer service, a request's clients) or one of this installation's operators (the broker admin
  user that replays dead letters and that tests publish as: the `broker_operators` setting), and
- its reply_to, if any, is a reply queue: RabbitMQ's direct reply-to (`amq.rabbitmq.reply-to…`). No requester
  here has a reply queue of its own, so nothing else is; a reply can never be sent into a work queue.
Anything else raises `Refused`, which the dead-letter policy dead-letters with the reason: never handled,
never answered. The body's envelope type is checked against the queue's message by `msgkit.broker`'s decoder.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import unquote

from contracts import topology
from msgkit.addresses import parse_addresses

SENDER_NOT_ALLOWED = "sender not allowed"
REPLY_TO_NOT_ALLOWED = "reply_to is not a reply queue"
WRONG_TYPE = "message type is not this queue's"
DIRECT_REPLY_TO = "amq.rabbitmq.reply-to"
# The dead letter keeps who sent the message: an operator's replay carries it back (clinics_cli.deadletters),
# so a replay cannot launder a message from a sender the queue does not accept.
ORIGINAL_SENDER_HEADER = "x-original-user-id"


class Refused(Exception):
    """A delivery this queue must not act on, whoever it says it is from: dead-lettered, never answered."""


def connection_user(url: str) -> str:
    """The user a connection to `url` (or the first of an address list) logs in as: aio-pika's default is guest."""
    username = parse_addresses(url).first.partition("://")[2].rpartition("@")[0].partition(":")[0]
    return unquote(username) or "guest"


def is_reply_queue(reply_to: str) -> bool:
    return reply_to == DIRECT_REPLY_TO or reply_to.startswith(f"{DIRECT_REPLY_TO}.")


class DeliveryCheck:
    """The allowed senders of every queue of the contract, with this installation's operators."""

    def __init__(self, operators: Iterable[str] = ()) -> None:
        self.operators = frozenset(operators)
        self._senders = {b.queue: topology.senders(b) for b in topology.all_bindings()}

    def check(self, queue: str, *, user_id: str | None, reply_to: str | None, headers: Mapping[str, object]) -> None:
        """Raise `Refused` unless a delivery to `queue` with these properties may be handled."""
        if reply_to and not is_reply_queue(reply_to):
            raise Refused(REPLY_TO_NOT_ALLOWED)
        senders = self._senders.get(queue)
        if senders is None:
            return  # not a queue of the contract: services subscribe only through msgkit.broker.subscription
        if user_id in self.operators:
            # An operator's replay says whose message it was; the original sender must be one the queue takes.
            original = headers.get(ORIGINAL_SENDER_HEADER)
            if isinstance(original, bytes):
                original = original.decode(errors="replace")
            if original is None or original in senders or original in self.operators:
                return
        elif user_id in senders:
            return
        raise Refused(SENDER_NOT_ALLOWED)
