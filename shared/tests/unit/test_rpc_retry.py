"""A request that finds the broker channel closed (a node just died) is sent again, within its timeout."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from aiormq.exceptions import ChannelInvalidStateError

from contracts.envelope import Reply
from contracts.sessions import GetSession
from msgkit import rpc


class ClosedThenOpen:
    """Refuses the first `closed_for` requests as aiormq does on a closed channel, then replies."""

    def __init__(self, closed_for: int) -> None:
        self.closed_for = closed_for
        self.calls = 0

    async def request(self, body: bytes, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls <= self.closed_for:
            raise ChannelInvalidStateError("<Channel: '1'> closed")
        return SimpleNamespace(body=Reply.success({"ok": True}).model_dump_json().encode())


async def test_a_request_is_sent_again_once_the_channel_is_reopened() -> None:
    broker = ClosedThenOpen(closed_for=3)
    reply = await rpc.request(broker, GetSession(session_id=uuid.uuid4()), timeout=5)  # type: ignore[arg-type]
    assert reply.ok
    assert broker.calls == 4


async def test_a_channel_that_stays_closed_is_a_request_timeout() -> None:
    broker = ClosedThenOpen(closed_for=10**6)
    with pytest.raises(rpc.RequestTimeout, match="no open channel"):
        await rpc.request(broker, GetSession(session_id=uuid.uuid4()), timeout=0.3)  # type: ignore[arg-type]
    assert broker.calls > 1
