"""Raw baselines: an aio-pika publish→consume loop, a batched PostgreSQL insert and a bare web page, no services."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid

import aio_pika
import asyncpg
import httpx

from testkit import eventually, free_port

CONFIRM_WINDOW = 200


async def raw_publish_consume(amqp_url: str, count: int) -> float:
    """Messages/s for persistent, confirmed publishes to a quorum queue, consumed and acked one by one."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        publish_channel = await connection.channel(publisher_confirms=True)
        consume_channel = await connection.channel()
        await consume_channel.set_qos(prefetch_count=CONFIRM_WINDOW)
        name = f"bench.raw.{uuid.uuid4().hex[:8]}"
        queue = await consume_channel.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
        done = asyncio.Event()
        received = 0

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal received
            await message.ack()
            received += 1
            if received == count:
                done.set()

        tag = await queue.consume(on_message)
        body = b'{"child_id": "00000000-0000-0000-0000-000000000000", "programmes": ["flu"]}'
        started = time.perf_counter()
        pending: set[asyncio.Future[object]] = set()
        for _ in range(count):
            message = aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
            pending.add(asyncio.ensure_future(publish_channel.default_exchange.publish(message, routing_key=name)))
            if len(pending) >= CONFIRM_WINDOW:
                finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for f in finished:
                    f.result()
        if pending:
            await asyncio.gather(*pending)
        await asyncio.wait_for(done.wait(), timeout=300)
        elapsed = time.perf_counter() - started
        await queue.cancel(tag)
        await queue.delete(if_unused=False, if_empty=False)
    return count / elapsed


async def raw_batched_insert(database_url: str, rows: int, batch: int = 1000) -> float:
    """Rows/s for multi-row INSERTs of `batch` rows, one transaction per batch."""
    conn = await asyncpg.connect(database_url)
    try:
        table = f"bench_raw_{uuid.uuid4().hex[:8]}"
        await conn.execute(f"CREATE TEMP TABLE {table} (id uuid primary key, child uuid, programme text)")
        records = [(uuid.uuid4(), uuid.uuid4(), "flu") for _ in range(rows)]
        started = time.perf_counter()
        for i in range(0, rows, batch):
            async with conn.transaction():
                await conn.executemany(f"INSERT INTO {table} VALUES ($1, $2, $3)", records[i : i + batch])
        return rows / (time.perf_counter() - started)
    finally:
        await conn.close()


# A bare Starlette page under uvicorn (one worker, as the form runs): the floor under the form's pages.
BARE_APP = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
async def page(request):
    return HTMLResponse("<!doctype html><title>bare</title><p>hello</p>")
uvicorn.run(Starlette(routes=[Route("/", page)]), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


async def bare_page(clients: int, *, requests_each: int) -> list[float]:
    """Milliseconds per GET of a bare page, `clients` httpx clients at once, each making `requests_each`."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", BARE_APP, str(port))
    try:
        base = f"http://127.0.0.1:{port}"
        await eventually(lambda: _answers(base), timeout=30, interval=0.1, what="the bare page")
        took: list[float] = []

        async def client() -> None:
            async with httpx.AsyncClient(base_url=base) as http:
                for _ in range(requests_each):
                    began = time.perf_counter()
                    (await http.get("/")).raise_for_status()
                    took.append((time.perf_counter() - began) * 1000)

        await asyncio.gather(*(client() for _ in range(clients)))
        return took
    finally:
        process.terminate()
        await process.wait()


async def _answers(base: str) -> bool:
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            return (await http.get("/")).status_code == 200
    except httpx.HTTPError:
        return False
