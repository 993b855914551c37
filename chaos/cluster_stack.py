"""The system under test on a cluster: its own 3 RabbitMQ nodes, and two replicas of every service on them.

The nodes are `chaos-1..3@localhost` on AMQP ports 5711-5713 (distribution 5811-5813), with their data under
.run/cluster-chaos/, so neither the machine's RabbitMQ nor the tests' clusters (5701-5703, free ports) are
touched. Every replica is given all three nodes, rotated so that the replicas start spread over the nodes.
The rest is chaos.stack's: a fresh database on DATABASE_URL's server, the Notify stub, the services as
processes (`<service>-1`, `<service>-2`), migrated once per service.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from chaos.stack import Stack, _notify_env, launch, service_processes, stub_process
from clinics_admin.bootstrap import ensure_roles
from cluster import Cluster
from cluster.control import ClusterError
from contracts.topology import SERVICES
from msgkit.testing import RabbitServer, free_port, fresh_database, postgres_server

ROOT = Path(__file__).resolve().parents[1] / ".run" / "cluster-chaos"
AMQP_BASE = 5711
DIST_BASE = 5811


@dataclass
class ClusterStack:
    """chaos.stack.Stack (its amqp_url the vhost's address list, its rabbit the cluster's CLI) and the cluster."""

    stack: Stack
    cluster: Cluster
    vhost: str

    def quorum_members(self) -> dict[str, int]:
        """Members of each quorum queue of the run's vhost (every queue this project declares is one)."""
        return {name: len(row.get("members") or []) for name, row in self.cluster.queues(vhost=self.vhost).items()}

    def leader_counts(self) -> dict[str, int]:
        """How many of the vhost's quorum queues each node leads (nodes leading none are left out)."""
        counts: dict[str, int] = {}
        for row in self.cluster.queues(vhost=self.vhost).values():
            if leader := row.get("leader"):
                counts[str(leader)] = counts.get(str(leader), 0) + 1
        return counts

    def messages_left(self) -> dict[str, int]:
        """Messages (ready and unacknowledged) in every queue of the vhost that holds any."""
        out = self.cluster.ctl(
            self.cluster.answering(), "list_queues", "-p", self.vhost, "name", "messages", "--formatter", "json"
        )
        return {str(r["name"]): int(r["messages"]) for r in json.loads(out) if int(r.get("messages") or 0)}


def replica_names(replicas: int) -> list[str]:
    return [f"{service}-{n}" for service in SERVICES for n in range(1, replicas + 1)]


@contextmanager
def open_cluster_stack(
    resources: ExitStack,
    *,
    log_dir: Path,
    seed: int,
    replicas: int,
    stale_seconds: float,
    postpone_seconds: float,
    root: Path = ROOT,
    amqp_base: int = AMQP_BASE,
    dist_base: int = DIST_BASE,
) -> Iterator[ClusterStack]:
    """Cluster up, database and vhost made, every replica migrated, started and ready; all stopped on exit."""
    cluster = Cluster(root, name="chaos", size=3, amqp_base=amqp_base, dist_base=dist_base)
    resources.callback(cluster.down)
    seconds = cluster.up()
    print(f"cluster of 3 nodes up in {seconds:.1f}s on AMQP ports {[n.amqp_port for n in cluster.nodes]}", flush=True)
    vhost = f"chaos_{uuid.uuid4().hex[:8]}"
    cluster.add_vhost(vhost)
    amqp_url = cluster.addresses(vhost)

    server = resources.enter_context(postgres_server(resources))
    database_url = resources.enter_context(fresh_database(server))
    asyncio.run(ensure_roles(database_url))

    def ctl(args: list[str]) -> None:
        try:
            cluster.ctl(cluster.answering(), *args)
        except ClusterError as exc:
            raise RuntimeError(str(exc)) from exc

    rabbit = RabbitServer(cluster.urls(vhost)[0], ctl)
    names = replica_names(replicas)
    ports = {name: free_port() for name in names}
    callback_url = f"http://127.0.0.1:{ports['notify-1']}/notifications/status"
    stub = resources.enter_context(stub_process(log_dir / "notify-stub.log", callback_url=callback_url, seed=seed))
    notify_extra = _notify_env(stub, stale_seconds=stale_seconds, postpone_seconds=postpone_seconds)
    processes = service_processes(
        ports,
        database_url=database_url,
        # Each replica's list starts on another node, so the replicas start spread over the cluster.
        rabbitmq_url=lambda position: cluster.addresses(vhost, start=position % len(cluster.nodes)),
        notify_extra=notify_extra,
        log_dir=log_dir,
    )
    stack = Stack(database_url, amqp_url, rabbit, stub, log_dir, processes)
    launch(resources, stack, migrating=lambda p: p.name.endswith("-1"))
    yield ClusterStack(stack, cluster, vhost)
