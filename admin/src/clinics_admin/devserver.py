"""`make dev`: bootstrap the database and broker, migrate, and run the services and the consent form until Ctrl-C.

The runner's choices (ports 8101-8104 on 127.0.0.1, each service's own role and RabbitMQ user, the log
provider, logs in .run/logs) are defaults: any `<SERVICE>_*` variable set in the environment wins, and
DEV_LOG_DIR moves the logs, so a second stack (another database and vhost) can run beside the first.

Where PostgreSQL or RabbitMQ does not answer at its local URL, the runner starts a private one there, its files
under .run/, and stops it when it stops (`clinics_admin.local_servers`); where it cannot, it says why in one line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
from aiormq.exceptions import AMQPError

from clinics_admin.bootstrap import CLIENT_DATABASES, BrokerAdmin, ensure_broker, ensure_roles, service_amqp_url
from clinics_admin.endpoints import CannotStart, postgres_endpoint, rabbitmq_endpoints
from clinics_admin.local_servers import LocalServers
from clinics_admin.processes import ServiceProcess, service_env, stop_all
from contracts.topology import SERVICES, principals
from msgkit.addresses import parse_addresses

DEFAULT_PORTS = {"sessions": 8101, "cohort": 8102, "consent": 8103, "notify": 8104, "consent_form": 8105}
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/clinics"
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
DEFAULT_LOG_DIR = ".run/logs"
# What staff's CLI connects to where nothing is set (clinics_cli.client.STAFF_DEV_URL): make dev's default broker.
CLI_DEFAULT_URL = "amqp://clinics_cli:clinics_cli@127.0.0.1:5672/"
# Where private servers keep their files (git-ignored), like the logs relative to where make dev runs.
RUN_DIR = Path(".run")
# uvicorn re-raises the signal it shut down gracefully on, so a clean stop can end "killed by SIGTERM";
# one that outlived its grace and was SIGKILLed, or that exited with an error, is not clean.
CLEAN_EXITS = (None, 0, -signal.SIGTERM, -signal.SIGINT)
# Ctrl-C, a stop, and the terminal closing: each stops the services and the servers the runner started.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def dev_env(service: str, *, database_url: str, rabbitmq_url: str) -> dict[str, str]:
    """A service's environment under `make dev`: the runner's defaults, then the `<SERVICE>_*` environment."""
    extra = {"NOTIFY_PROVIDER": "log"} if service == "notify" else {}
    if service == "consent_form":
        extra["CONSENT_FORM_COOKIE_SECURE"] = "false"  # http:// on loopback; a deployment serves https://
    env = service_env(
        service,
        database_url=database_url,
        rabbitmq_url=rabbitmq_url,
        port=DEFAULT_PORTS[service],
        extra=extra,
        amqp_user=service in principals(),
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


async def run(services: list[str], *, migrate_only: bool, broker_admin: BrokerAdmin | None = None) -> int:
    """Bootstrap, migrate and (unless `migrate_only`) serve until SIGINT/SIGTERM; the exit status."""
    await provision(broker_admin)
    processes = dev_processes(services)
    for p in processes:
        try:
            p.migrate()
        except subprocess.CalledProcessError as exc:
            raise CannotStart(f"{p.service}: migration failed: {_last_line(exc.stderr)}") from exc
        print(f"{p.service}: migrated")
    if migrate_only:
        return 0
    # Installed before the first child starts: a signal while they start up stops them too, never orphans them.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
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
    print(cli_line(os.environ.get("RABBITMQ_URL", DEFAULT_RABBITMQ_URL)))
    print("all services ready; Ctrl-C stops them", flush=True)
    return True


def cli_line(rabbitmq_url: str) -> str:
    """How staff's `clinics` reaches this stack as its own broker user, which may send only staff's requests."""
    url = parse_addresses(service_amqp_url(rabbitmq_url, "clinics_cli"))
    if str(url) == CLI_DEFAULT_URL:
        return "clinics (staff CLI): connects as its own broker user clinics_cli; nothing to set"
    return (
        f"clinics (staff CLI): export CLINICS_RABBITMQ_URL={url.redacted()} "
        "(*** is $CLINICS_CLI_AMQP_PASSWORD, by default clinics_cli)"
    )


async def provision(broker_admin: BrokerAdmin | None) -> None:
    """The database, its roles, each service's RabbitMQ user and the topology; CannotStart in one line if not."""
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    rabbitmq_url = os.environ.get("RABBITMQ_URL", DEFAULT_RABBITMQ_URL)
    try:
        await ensure_roles(database_url)
        await ensure_roles(database_url, CLIENT_DATABASES)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        shown = postgres_endpoint(database_url).shown
        raise CannotStart(f"could not set up PostgreSQL at {shown}: {type(exc).__name__}: {exc}") from exc
    try:
        # Each service's own RabbitMQ user (least privilege) and the whole topology, declared as admin.
        await ensure_broker(rabbitmq_url, admin=broker_admin)
    except subprocess.CalledProcessError as exc:
        shown = rabbitmq_endpoints(rabbitmq_url)[0].shown
        raise CannotStart(f"could not set up RabbitMQ at {shown}: rabbitmqctl: {_last_line(exc.stderr)}") from exc
    except (OSError, RuntimeError, AMQPError) as exc:
        shown = rabbitmq_endpoints(rabbitmq_url)[0].shown
        raise CannotStart(f"could not set up RabbitMQ at {shown}: {type(exc).__name__}: {exc}") from exc


def _last_line(output: str | bytes | None) -> str:
    text = output.decode(errors="replace") if isinstance(output, bytes) else output or ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def serve(services: list[str], *, migrate_only: bool) -> int:
    """Have the servers (starting private ones where missing), then `run`; stop what was started. The exit status."""
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    rabbitmq_url = os.environ.get("RABBITMQ_URL", DEFAULT_RABBITMQ_URL)
    # Until the services run (and their loop handles them), these stop the runner as Ctrl-C does, with what it started.
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.default_int_handler)
    try:
        with LocalServers(database_url, rabbitmq_url, RUN_DIR, say=lambda line: print(line, flush=True)) as servers:
            return asyncio.run(run(services, migrate_only=migrate_only, broker_admin=servers.rabbitmq_admin))
    except CannotStart as exc:
        print(f"make dev: {exc}".replace("\n", "\nmake dev: "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("services", nargs="*", default=list(SERVICES))
    parser.add_argument("--migrate-only", action="store_true")
    args = parser.parse_args()
    sys.exit(serve(args.services, migrate_only=args.migrate_only))


if __name__ == "__main__":
    main()
