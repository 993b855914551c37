"""`make dev`: bootstrap the database and broker, migrate, and run all four services until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from pathlib import Path

from msgkit.bootstrap import SERVICES, ensure_broker, ensure_roles
from msgkit.processes import service_processes


async def run(services: list[str], *, migrate_only: bool) -> None:
    database_url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/clinics")
    rabbitmq_url = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
    await ensure_roles(database_url)
    # Each service's own RabbitMQ user (least privilege) and the whole topology, declared as admin.
    await ensure_broker(rabbitmq_url)
    log_dir = Path(".run/logs")
    processes = service_processes(
        services, database_url=database_url, rabbitmq_url=rabbitmq_url, log_dir=log_dir, amqp_users=True
    )
    for p in processes:
        p.env.setdefault("NOTIFY_PROVIDER", "log")
        p.migrate()
        print(f"{p.service}: migrated")
    if migrate_only:
        return
    for p in processes:
        p.start()
    try:
        await asyncio.gather(*(p.wait_ready() for p in processes))
        for p in processes:
            print(f"{p.service}: ready on {p.base_url} (logs: {p.log_path})")
        print("all services ready; Ctrl-C stops them")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        while not stop.is_set():
            for p in processes:
                if not p.alive:
                    print(f"{p.service} exited; see {p.log_path}")
                    stop.set()
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            except TimeoutError:
                continue
    finally:
        for p in processes:
            p.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("services", nargs="*", default=list(SERVICES))
    parser.add_argument("--migrate-only", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.services, migrate_only=args.migrate_only))


if __name__ == "__main__":
    main()
