"""The system under test: testkit's stack, notify as two replicas, against a fresh database and vhost.

notify runs as two replicas (notify-1, notify-2) sharing its database, queues and rate-limit bucket.
The stub's delivery callbacks go to notify-1, as a load balancer would send them to one replica.
chaos.cluster_stack opens the same stack on a cluster of its own, every service twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from contracts.topology import SERVICES
from testkit.stack import READY_TIMEOUT, Stack, World, open_stack, world
from testkit.stub import StubOptions

__all__ = ["READY_TIMEOUT", "Stack", "StackOptions", "open_plain", "open_replicated", "postgres_restart_command"]


@dataclass(frozen=True, slots=True)
class StackOptions:
    """What a suite's run asks of its stack: where the logs go, the stub's seed, and notify's two shortcuts."""

    log_dir: Path
    seed: int
    # A killed replica's `sending` rows are looked up after this long instead of 120 s, and an invitation
    # whose child details are still on the way waits this long instead of 5 min: the run converges sooner,
    # and an early look-up only makes a duplicate more likely, never less.
    stale_seconds: float
    postpone_seconds: float
    say: Callable[[str], None] = print
    # How long notify waits before looking up a send it gave up on (NOTIFY_PROVIDER_IN_FLIGHT_SECONDS):
    # longer than the stub's late acceptances, shorter than production's 60 s so the run converges sooner;
    # stale_seconds must be at least notify's 10 s timeout plus this (notify refuses to start otherwise).
    in_flight_seconds: float = 30.0

    def notify_env(self) -> dict[str, str]:
        return {
            "NOTIFY_STALE_SENDING_SECONDS": f"{self.stale_seconds:g}",
            "NOTIFY_POSTPONE_SECONDS": f"{self.postpone_seconds:g}",
            "NOTIFY_PROVIDER_IN_FLIGHT_SECONDS": f"{self.in_flight_seconds:g}",
        }


def open_replicated(
    resources: ExitStack, the_world: World, replicas: Mapping[str, int], options: StackOptions
) -> Stack:
    """`replicas` of each service on `the_world`, with the seeded stub; every process stopped on exit."""
    notify = {"notify": options.notify_env()}
    stub = StubOptions(seed=options.seed)
    stack = resources.enter_context(
        open_stack(the_world, log_dir=options.log_dir, replicas=replicas, env=notify, stub=stub)
    )
    options.say(f"stack ready: {', '.join(stack.processes)} and the Notify stub")
    return stack


def open_plain(resources: ExitStack, options: StackOptions) -> Stack:
    """On DATABASE_URL's and RABBITMQ_URL's servers: a fresh database and vhost, notify twice."""
    the_world = resources.enter_context(world(vhost="chaos"))
    return open_replicated(resources, the_world, {s: 2 if s == "notify" else 1 for s in SERVICES}, options)


def postgres_restart_command() -> list[str]:
    """CHAOS_POSTGRES_RESTART (a command line) if set, else the local cluster's pg_ctlcluster restart."""
    if custom := os.environ.get("CHAOS_POSTGRES_RESTART"):
        return ["/bin/sh", "-c", custom]
    clusters = Path("/etc/postgresql")
    versions = sorted(clusters.iterdir()) if clusters.is_dir() else []
    if not versions:
        raise RuntimeError("no local PostgreSQL cluster to restart; set CHAOS_POSTGRES_RESTART")
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1].name, "main", "restart"]
