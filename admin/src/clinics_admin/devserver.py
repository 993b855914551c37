"""`make dev`: bootstrap the database and broker, migrate, and run all four services until Ctrl-C.

The runner's choices (ports 8101-8104 on 127.0.0.1, each service's own role and RabbitMQ user, the log
provider, logs in .run/logs) are defaults: any `<SERVICE>_*` variable set in the environment wins, and
DEV_LOG_DIR moves the logs, so a second stack (another database and vhost) can run beside the first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

from clinics_admin.bootstrap import ensure_broker, ensure_roles
from clinics_admin.processes import ServiceProcess, service_env, stop_all
from contracts.topology import SERVICES

DEFAULT_PORTS = {"sessions": 8101, "cohort": 8102, "consent": 8103, "notify": 8104}
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/clinics"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_LOG_DIR = ".run/logs"
# uvicorn re-raises the signal it shut down gracefully on, so a clean stop can end "killed by SIGTERM";
# one that outlived its grace and was SIGKILLed, or that exited with an error, is not clean.
CLEAN_EXITS = (None, 0, -signal.SIGTERM, -signal.SIGINT)


def dev_env(service: str, *, database_url: str, rabbitmq_url: str) -> dict[str, str]:
    """A service's environment under `make dev`: the runner's defaults, then the `<SERVICE>_*` environment."""
    env = service_env(
        service,
        database_url=database_url,
        rabbitmq_url=rabbitmq_url,
        port=DEFAULT_PORTS[service],
        extra={"NOTIFY_PROVIDER": "log"} if service == "notify" else None,
        amqp_user=True,
    )
    prefix = f"{service.upper()}_"
    env.update({k: v for k, v in os.environ.items() if k.startswith(prefix)})
    return env


def dev_processes(services: list[str]) -> list[ServiceProcess]:
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    rabbitmq_url = os.environ.get("RABBITMQ_URL", DEFAULT_RABBITMQ_URL)
    log_dir = Path(os.environ.get("DEV_LOG_DIR") or DEFAULT_LOG_DIR)
    return [
        ServiceProcess.from_env(
            s, dev_env(s, database_url=database_url, rabbitmq_url=rabbitmq_url), log_dir / f"{s}.log"
        )
        for s in services
    ]


async def run(services: list[str], *, migrate_only: bool) -> int:
    """Bootstrap, migrate and (unless `migrate_only`) serve until SIGINT/SIGTERM; the exit status."""
    await ensure_roles(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    # Each service's own RabbitMQ user (least privilege) and the whole topology, declared as admin.
    await ensure_broker(os.environ.get("RABBITMQ_URL", DEFAULT_RABBITMQ_URL))
    processes = dev_processes(services)
    for p in processes:
        p.migrate()
        print(f"{p.service}: migrated")
    if migrate_only:
        return 0
    # Installed before the first child starts: a signal while they start up stops them too, never orphans them.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    failed = False
    try:
        for p in processes:
            p.start()
        failed = not await _until_ready_or_stopped(processes, stop)
        while not stop.is_set() and not failed:
            if exited := [p for p in processes if not p.alive]:
                print(f"{exited[0].service} exited; see {exited[0].log_path}")
                failed = True
            else:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=1.0)
                except TimeoutError:
                    continue
    finally:
        # Side by side: each may take its graceful timeout to finish in-flight work.
        codes = await asyncio.to_thread(stop_all, processes)
    unclean = {s: c for s, c in codes.items() if c not in CLEAN_EXITS}
    print("stopped" + (f"; unclean exits: {unclean}" if unclean else ""))
    return 1 if failed or unclean else 0


async def _until_ready_or_stopped(processes: list[ServiceProcess], stop: asyncio.Event) -> bool:
    """True once every service is ready (or a stop was asked for first); False if one failed to start."""
    waits = [asyncio.ensure_future(p.wait_ready()) for p in processes]
    stopped = asyncio.ensure_future(stop.wait())
    pending: set[asyncio.Future[Any]] = {*waits, stopped}
    try:
        while not stopped.done() and not all(w.done() for w in waits):
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if failed := [w for w in done if w is not stopped and w.exception() is not None]:
                print(f"not started: {failed[0].exception()}")
                return False
    finally:
        for task in (*waits, stopped):
            task.cancel()
    if stopped.done():
        return True
    for p in processes:
        print(f"{p.service}: ready on {p.base_url} (logs: {p.log_path})")
    print("all services ready; Ctrl-C stops them", flush=True)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("services", nargs="*", default=list(SERVICES))
    parser.add_argument("--migrate-only", action="store_true")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.services, migrate_only=args.migrate_only)))


if __name__ == "__main__":
    main()
