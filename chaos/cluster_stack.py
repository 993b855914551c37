"""The system under test on a cluster: its own 3 RabbitMQ nodes, and two replicas of every service on them.

The nodes are `chaos-1..3@localhost` on AMQP ports 5711-5713 (distribution 5811-5813), with their data under
.run/cluster-chaos/, so neither the machine's RabbitMQ nor the tests' clusters (5701-5703, free ports) are
touched. Every replica is given all three nodes, rotated so that the replicas start spread over the nodes.
The rest is chaos.stack's (testkit's stack): a fresh database on DATABASE_URL's server, the Notify stub, the
services as processes (`<service>-1`, `<service>-2`), migrated once per service.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from chaos.stack import StackOptions, open_replicated
from cluster import Cluster
from cluster.control import ClusterError
from contracts.topology import SERVICES
from testkit.servers import RabbitServer
from testkit.stack import Stack, World, process_names, service_database

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
    return process_names(dict.fromkeys(SERVICES, replicas))


@contextmanager
def cluster_world(cluster: Cluster, vhost: str) -> Iterator[World]:
    """A fresh database on DATABASE_URL's server, and `vhost` on the cluster: each process is given all three
    nodes, its list starting on another node, so the replicas start spread over the cluster."""
    cluster.add_vhost(vhost)

    def ctl(args: list[str]) -> None:
        try:
            cluster.ctl(cluster.answering(), *args)
        except ClusterError as exc:
            raise RuntimeError(str(exc)) from exc

    def addresses(position: int) -> str:
        return cluster.addresses(vhost, start=position % len(cluster.nodes))

    with service_database() as database_url:
        yield World(database_url, cluster.addresses(vhost), RabbitServer(cluster.urls(vhost)[0], ctl), addresses)


def open_cluster_stack(
    resources: ExitStack,
    options: StackOptions,
    *,
    replicas: int,
    root: Path = ROOT,
    amqp_base: int = AMQP_BASE,
    dist_base: int = DIST_BASE,
) -> ClusterStack:
    """Cluster up, database and vhost made, every replica migrated, started and ready; all stopped on exit."""
    cluster = Cluster(root, name="chaos", size=3, amqp_base=amqp_base, dist_base=dist_base)
    resources.callback(cluster.down)
    seconds = cluster.up()
    ports = [n.amqp_port for n in cluster.nodes]
    options.say(f"cluster of 3 nodes up in {seconds:.1f}s on AMQP ports {ports}")
    vhost = f"chaos_{uuid.uuid4().hex[:8]}"
    the_world = resources.enter_context(cluster_world(cluster, vhost))
    stack = open_replicated(resources, the_world, dict.fromkeys(SERVICES, replicas), options)
    return ClusterStack(stack, cluster, vhost)
