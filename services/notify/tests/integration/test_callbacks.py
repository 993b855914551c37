"""Delivery-status callbacks: bearer token, forward-only statuses, duplicates and unknown notifications."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from faststream.asgi import AsgiFastStream
from sqlalchemy import text

from notify_stub import NotifyStub
from notify_stub.callbacks import CallbackSender

from ..conftest import CALLBACK_TOKEN
from ..notify_support import Harness, invite, parent, request

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {CALLBACK_TOKEN}"}


@pytest.fixture
async def http(app: AsgiFastStream) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notify") as client:
        yield client


def receipt(sent: Any, status: str) -> dict[str, Any]:
    at = "2026-01-12T10:00:05.000000Z"
    return {
        "id": sent.provider_id, "reference": sent.reference, "to": sent.to, "status": status, "created_at": at,
        "completed_at": at, "sent_at": at, "notification_type": sent.channel, "template_id": sent.template_id,
        "template_version": 1,
    }  # fmt: skip


async def sent_email(harness: Harness) -> Any:
    kid = await harness.setup_child(dates=[date(2026, 1, 20)], parents=[parent(phone=False)])
    await harness.publish(invite(request(kid), at=harness.clock.now()))
    [sent] = await harness.wait_notifications(kid.child_id, "sent", 1)
    return sent


async def test_delivered_callback_moves_forward_once(harness: Harness, http: httpx.AsyncClient) -> None:
    sent = await sent_email(harness)
    response = await http.post("/notifications/status", json=receipt(sent, "delivered"), headers=AUTH)
    assert response.status_code == 204
    [row] = await harness.notifications(sent.child_id)
    assert row.status == "delivered" and row.completed_at is not None
    [event] = await harness.observer.wait_for("NotificationsSettled", sent.child_id)
    assert (event["notification_id"], event["status"], event["reason"]) == (str(sent.id), "delivered", None)
    for status in ("delivered", "permanent-failure"):  # a repeat, then a late contradiction: both no-ops
        again = await http.post("/notifications/status", json=receipt(sent, status), headers=AUTH)
        assert again.status_code == 204
    assert [r.status for r in await harness.notifications(sent.child_id)] == ["delivered"]
    await harness.observer.drain()
    assert len(harness.observer.of("NotificationsSettled", sent.child_id)) == 1


async def test_failure_callback_publishes_the_failure(harness: Harness, http: httpx.AsyncClient) -> None:
    sent = await sent_email(harness)
    response = await http.post("/notifications/status", json=receipt(sent, "temporary-failure"), headers=AUTH)
    assert response.status_code == 204
    [event] = await harness.observer.wait_for("NotificationsSettled", sent.child_id)
    assert (event["status"], event["reason"]) == ("temporary-failure", "provider reported temporary-failure")


async def test_receipts_posted_together_share_one_transaction_and_one_event(
    harness: Harness, http: httpx.AsyncClient
) -> None:
    sent = [await sent_email(harness) for _ in range(5)]
    duplicate = receipt(sent[0], "delivered")
    bodies = [receipt(s, "delivered") for s in sent] + [duplicate]
    responses = await asyncio.gather(*(http.post("/notifications/status", json=b, headers=AUTH) for b in bodies))
    assert [r.status_code for r in responses] == [204] * 6
    for s in sent:
        assert [r.status for r in await harness.notifications(s.child_id)] == ["delivered"]
    [event] = await harness.observer.wait_for("NotificationsSettled")
    assert sorted(n["notification_id"] for n in event["notifications"]) == sorted(str(s.id) for s in sent)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": CALLBACK_TOKEN}])
async def test_wrong_or_missing_token_is_401(
    harness: Harness, http: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    sent = await sent_email(harness)
    response = await http.post("/notifications/status", json=receipt(sent, "delivered"), headers=headers)
    assert response.status_code == 401
    assert [r.status for r in await harness.notifications(sent.child_id)] == ["sent"]


@pytest.mark.usefixtures("app")
async def test_unknown_notification_is_404_and_bad_bodies_are_400(http: httpx.AsyncClient) -> None:
    unknown = {"id": "6f0f7c6e-0000-4000-8000-000000000000", "reference": "nope", "status": "delivered"}
    assert (await http.post("/notifications/status", json=unknown, headers=AUTH)).status_code == 404
    assert (await http.post("/notifications/status", content=b"{", headers=AUTH)).status_code == 400
    odd = {**unknown, "status": "exploded"}
    assert (await http.post("/notifications/status", json=odd, headers=AUTH)).status_code == 400
    assert (await http.get("/notifications/status", headers=AUTH)).status_code == 405


async def test_receipt_overtaking_our_own_record_marks_it_sent_and_delivered(
    harness: Harness, http: httpx.AsyncClient
) -> None:
    sent = await sent_email(harness)
    async with harness.engine.begin() as conn:  # as if the receipt came before the send was recorded
        overtaken = "UPDATE notifications SET status = 'sending', attempt_started_at = :now WHERE id = :id"
        await conn.execute(text(overtaken), {"id": sent.id, "now": harness.clock.now()})
    response = await http.post("/notifications/status", json=receipt(sent, "delivered"), headers=AUTH)
    assert response.status_code == 204
    assert [r.status for r in await harness.notifications(sent.child_id)] == ["delivered"]
    await harness.observer.wait_for("NotificationsSent", sent.child_id, count=2)  # ours, and the receipt's


async def test_stub_callbacks_reach_the_route(harness: Harness, stub: NotifyStub, http: httpx.AsyncClient) -> None:
    async def into_the_app(url: str, body: dict[str, Any], headers: dict[str, str]) -> int:
        return (await http.post(url, json=body, headers=headers)).status_code  # no socket: the app in-process

    sender = CallbackSender("http://notify/notifications/status", CALLBACK_TOKEN, delay=0.0, post=into_the_app)
    stub._callbacks = sender
    kid = await harness.setup_child(dates=[date(2026, 1, 20)], parents=[parent(phone=False)])
    await harness.publish(invite(request(kid), at=harness.clock.now()))
    [delivered] = await harness.wait_notifications(kid.child_id, "delivered", 1)
    assert delivered.provider_id == stub.sent[0].id and sender.answered == 1
    await harness.observer.wait_for("NotificationsSettled", kid.child_id)
