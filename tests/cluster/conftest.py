"""A real 3-node RabbitMQ cluster for this test run: own node names, free ports, data under the run's tmp dir."""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # cluster/ (like bench/ and chaos/) lives at the repository root

from cluster import Cluster  # noqa: E402
from cluster.node import rabbitmq_bin  # noqa: E402
from testkit import free_port  # noqa: E402


def _free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        if (port := free_port()) not in ports:
            ports.append(port)
    return ports


@pytest.fixture(scope="session")
def rabbit_cluster() -> Iterator[Cluster]:
    """Started once per run (20-35 s) and stopped at its end, whatever the tests did to its nodes.

    Its directory and node names are this checkout's own, the same on every run, so a run that was killed
    before it could stop its nodes has them stopped by the next run's `up` (which finds them by name and
    directory); its ports are free ones, so runs in other checkouts never collide with it.
    """
    if rabbitmq_bin() is None:
        pytest.skip("rabbitmq-server is not installed: the cluster tests start three real RabbitMQ nodes")
    root = Path(ROOT) / ".run" / "cluster-tests"
    ports = _free_ports(6)
    cluster = Cluster.on_ports(
        root,
        name="t" + hashlib.sha1(str(root).encode()).hexdigest()[:6],
        amqp_ports=ports[:3],
        dist_ports=ports[3:],
    )
    try:
        started = time.monotonic()
        cluster.up()
        print(f"\ncluster of 3 nodes up in {time.monotonic() - started:.1f}s")
        yield cluster
    finally:
        cluster.down()


@pytest.fixture
def cluster(rabbit_cluster: Cluster) -> Cluster:
    """The cluster with every node running: a node an earlier test left stopped is started and rejoined."""
    for node in rabbit_cluster.nodes:
        if not node.alive():
            rabbit_cluster.start(node)
            rabbit_cluster.wait_rejoined(node)
    return rabbit_cluster
