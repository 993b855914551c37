"""testkit's stack opened on a cluster, as `make cluster-chaos` opens it: every replica given every node, each
starting on another, against a fresh database; ready, and stopped cleanly."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from chaos.cluster_stack import cluster_world
from cluster import Cluster
from msgkit.addresses import parse_addresses
from testkit.stack import open_stack

pytestmark = pytest.mark.integration


def test_replicas_on_the_cluster_start_spread_over_its_nodes(cluster: Cluster, tmp_path: Path) -> None:
    with (
        cluster_world(cluster, f"t_{uuid.uuid4().hex[:10]}") as world,
        open_stack(world, log_dir=tmp_path, replicas={"sessions": 3}, stub=None) as stack,
    ):
        assert list(stack.processes) == ["sessions-1", "sessions-2", "sessions-3"]
        assert all(asyncio.run(stack.readiness()).values())
        lists = [parse_addresses(p.env["SESSIONS_RABBITMQ_URL"]) for p in stack.processes.values()]
        assert all(len(a.endpoints) == 3 for a in lists)
        assert len({a.endpoints[0] for a in lists}) == 3  # each starts on another node
        assert {a.vhost for a in lists} == {parse_addresses(world.amqp_url).vhost}
    assert all(p.process is not None and p.process.returncode is not None for p in stack.processes.values())
