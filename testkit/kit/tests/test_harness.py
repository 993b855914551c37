"""The test harness's observer: what it picks out of the messages a service published."""

from __future__ import annotations

import uuid
from typing import Any, cast

import pytest

from testkit import Observer

pytestmark = pytest.mark.unit


def test_observer_picks_by_kind_and_child_and_opens_batched_messages() -> None:
    child, other = str(uuid.uuid4()), str(uuid.uuid4())
    observer = Observer(cast(Any, None), batched={"NotificationsSent": "notifications"})  # of() reads no queue
    mine = {"type": "ConsentRecorded", "child_id": child}
    theirs = {"type": "ConsentRecorded", "child_id": other}
    batch = {"type": "NotificationsSent", "notifications": [{"child_id": child, "n": 1}, {"child_id": other, "n": 2}]}
    observer.seen = [mine, theirs, batch, {"type": "ConsentRequested", "child_id": child}]

    assert observer.of("ConsentRecorded", uuid.UUID(child)) == [mine]
    assert observer.of("ConsentRecorded") == [mine, theirs]
    assert observer.of("NotificationsSent", uuid.UUID(child)) == [{"child_id": child, "n": 1}]
    assert observer.of("NotificationsSent") == [batch]
    assert observer.of(child_id=uuid.UUID(other)) == [theirs]
    assert len(observer.of()) == 4
