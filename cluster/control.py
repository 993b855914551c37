"""A local cluster of RabbitMQ nodes this project starts itself: up, down, status, and the faults the tests inject."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from cluster.node import Node, rabbitmq_bin

T = TypeVar("T")

# The repository's .run/ (git-ignored), wherever the command is run from.
ROOT = Path(__file__).resolve().parents[1] / ".run" / "cluster"
BOOT_TIMEOUT = 90.0
CTL_TIMEOUT = 60.0


class ClusterError(RuntimeError):
    """The cluster could not be started, queried or changed; the message says which node and why."""


class Cluster:
    """`size` nodes `<name>-1@localhost`… on AMQP ports `amqp_base`…, distribution ports `dist_base`…, with
    their config, data and logs under `root/<node>/` and one Erlang cookie of their own in `root`."""

    def __init__(
        self, root: Path = ROOT, *, name: str = "clinics", size: int = 3, amqp_base: int = 5701, dist_base: int = 5801
    ) -> None:
        ports = [(amqp_base + i, dist_base + i) for i in range(size)]
        self.root = root.resolve()
        self.nodes = self._make_nodes(name, ports)

    @classmethod
    def on_ports(cls, root: Path, *, name: str, amqp_ports: Sequence[int], dist_ports: Sequence[int]) -> Cluster:
        """A cluster on ports chosen by the caller (tests pick free ones so parallel runs never collide)."""
        cluster = cls(root, name=name, size=0)
        cluster.nodes = cluster._make_nodes(name, list(zip(amqp_ports, dist_ports, strict=True)))
        return cluster

    def _make_nodes(self, name: str, ports: Sequence[tuple[int, int]]) -> tuple[Node, ...]:
        replicas = min(3, len(ports))
        return tuple(
            Node(f"{name}-{i}", amqp, dist, self.root / f"{name}-{i}", replicas=replicas)
            for i, (amqp, dist) in enumerate(ports, start=1)
        )

    # --- addresses ---------------------------------------------------------------------------------------

    def urls(self, vhost: str = "/", *, user: str = "guest", password: str = "guest") -> list[str]:
        return [node.url(vhost, user=user, password=password) for node in self.nodes]

    def addresses(self, vhost: str = "/", *, user: str = "guest", password: str = "guest", start: int = 0) -> str:
        """The services' `<SERVICE>_RABBITMQ_URL` for this cluster: the first node's URL, then the others'
        host:port (msgkit.addresses), e.g. `amqp://guest:guest@127.0.0.1:5701/,127.0.0.1:5702,127.0.0.1:5703`.
        `start` rotates the list so that another node is tried first."""
        first, *others = self.nodes[start:] + self.nodes[:start]
        return ",".join([first.url(vhost, user=user, password=password), *(f"127.0.0.1:{n.amqp_port}" for n in others)])

    def node(self, key: str | int) -> Node:
        """A node by its name (`clinics-2`), node name (`clinics-2@localhost`) or AMQP port."""
        for node in self.nodes:
            if key in (node.name, node.nodename, node.amqp_port):
                return node
        raise ClusterError(f"no node {key!r} in this cluster")

    # --- life cycle -----------------------------------------------------------------------------------

    def up(self) -> float:
        """Start every node afresh, cluster them with `rabbitmqctl join_cluster`, wait until all are running.

        Idempotent: nodes left running by an earlier `up` or a killed run are stopped and their data wiped
        first. Returns the seconds it took.
        """
        started = time.monotonic()
        bin_dir = self._bin()
        self.down()
        for node in self.nodes:
            shutil.rmtree(node.dir, ignore_errors=True)
            if (port := node.port_taken()) is not None:
                raise ClusterError(f"port {port} for {node.nodename} is already in use by another process")
        self._write_shared_files()
        for node in self.nodes:
            node.start(bin_dir, self.root)
        _parallel(self._wait_booted, self.nodes)
        first, *others = self.nodes
        # Each rabbitmqctl call starts an Erlang VM (~2 s): stop and start side by side. The joins themselves
        # change the cluster's schema and must not overlap (two at once abort with schema_prepare).
        _parallel(lambda node: self.ctl(node, "stop_app"), others)
        for node in others:
            self.ctl(node, "join_cluster", first.nodename)
        _parallel(lambda node: self.ctl(node, "start_app"), others)
        self.ctl(first, "await_online_nodes", str(len(self.nodes)))
        return time.monotonic() - started

    def down(self) -> None:
        """Stop every node of this cluster still running (in order, SIGKILL only if one hangs); keeps the logs."""
        _parallel(lambda node: node.terminate(), [node for node in self.nodes if node.alive()])

    def status(self) -> dict[str, Any]:
        """Each node's process and listener, and the cluster's view from the first node that answers."""
        report: dict[str, Any] = {
            "nodes": {
                node.nodename: {"process": node.alive(), "amqp": node.accepts_amqp(), "port": node.amqp_port}
                for node in self.nodes
            }
        }
        for node in self.nodes:
            if report["nodes"][node.nodename]["amqp"]:
                view = self.cluster_status(node)
                report["running_nodes"] = sorted(view.get("running_nodes", []))
                report["disk_nodes"] = sorted(view.get("disk_nodes", []))
                break
        return report

    # --- faults ----------------------------------------------------------------------------------------

    def kill(self, node: Node) -> None:
        """kill -9 the node (every process of its group at once)."""
        node.kill()

    def stop(self, node: Node) -> None:
        """Stop the node gracefully (its Erlang VM shuts down in order, as `rabbitmqctl stop` does)."""
        node.terminate()

    def start(self, node: Node, *, timeout: float = BOOT_TIMEOUT) -> None:
        """Start a stopped or killed node on its existing data: it rejoins the cluster it belonged to."""
        if node.alive():
            raise ClusterError(f"{node.nodename} is already running")
        node.start(self._bin(), self.root)
        self._wait_booted(node, timeout=timeout)

    def wait_rejoined(self, node: Node, *, timeout: float = BOOT_TIMEOUT) -> None:
        """Until another running node lists `node` among the cluster's running nodes (they share one view)."""
        other = next((n for n in self.nodes if n is not node and n.accepts_amqp()), node)
        _wait(
            lambda: node.nodename in self.cluster_status(other).get("running_nodes", []),
            timeout=timeout,
            what=f"{node.nodename} to rejoin the cluster",
        )

    # --- queues ----------------------------------------------------------------------------------------

    def quorum_status(self, queue: str, *, vhost: str = "/", via: Node | None = None) -> list[dict[str, Any]]:
        """`rabbitmq-queues quorum_status`: one row per member with its Raft state and log indexes."""
        out = self.ctl(
            via or self.answering(), "quorum_status", queue, "-p", vhost, "--formatter", "json", tool="rabbitmq-queues"
        )
        rows: list[dict[str, Any]] = json.loads(out)
        return rows

    def queues(self, *, vhost: str = "/") -> dict[str, dict[str, Any]]:
        """Every queue of the vhost with its leader and members (node names), in one rabbitmqctl call."""
        columns = ("name", "leader", "members")
        out = self.ctl(self.answering(), "list_queues", "-p", vhost, *columns, "--formatter", "json")
        return {str(row["name"]): row for row in json.loads(out)}

    def leader(self, queue: str, *, vhost: str = "/") -> Node:
        """The node whose replica of the quorum queue is its leader."""
        row = self.queues(vhost=vhost).get(queue, {})
        if not row.get("leader"):
            raise ClusterError(f"quorum queue {queue!r} in vhost {vhost!r} has no leader")
        return self.node(str(row["leader"]))

    def wait_in_sync(
        self, queue: str, *, vhost: str = "/", members: int | None = None, timeout: float = 60.0
    ) -> list[dict[str, Any]]:
        """Until the queue has `members` members (default: every node), one leader, the rest followers, and every
        member's commit index equal to the leader's: a restarted node's replica has caught up. Returns the
        quorum_status rows that showed it."""
        expected = members or len(self.nodes)
        last: list[dict[str, Any]] = []

        def in_sync() -> bool:
            nonlocal last
            try:
                last = self.quorum_status(queue, vhost=vhost)
            except ClusterError:
                return False
            states = sorted(str(row.get("Raft State")) for row in last)
            commits = {row.get("Commit Index") for row in last}
            return len(last) == expected and states == ["follower"] * (expected - 1) + ["leader"] and len(commits) == 1

        _wait(in_sync, timeout=timeout, what=f"quorum queue {queue!r} to have {expected} members in sync")
        return last

    # --- rabbitmqctl ------------------------------------------------------------------------------------

    def ctl(self, node: Node, *args: str, tool: str = "rabbitmqctl", timeout: float = CTL_TIMEOUT) -> str:
        """Run a RabbitMQ CLI tool against `node`, as this cluster's own user (its cookie, not /etc's)."""
        env = {
            **_plain_env(),
            "HOME": str(self.root),
            "RABBITMQ_CONF_ENV_FILE": str(self.root / "rabbitmq-env.conf"),
            # A port of the OS's choosing for the CLI's own Erlang node, rather than the machine-wide 35672-35682
            # every rabbitmqctl on the machine (other test runs' included) competes for.
            "RABBITMQ_CTL_DIST_PORT_MIN": "0",
            "RABBITMQ_CTL_DIST_PORT_MAX": "0",
        }
        try:
            done = subprocess.run(
                [str(self._bin() / tool), "-q", "-n", node.nodename, *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise ClusterError(f"{tool} {' '.join(args)} on {node.nodename} took over {timeout:g}s") from exc
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            raise ClusterError(f"{tool} {' '.join(args)} on {node.nodename} failed: {' '.join(detail[-3:])}")
        return done.stdout

    def cluster_status(self, node: Node) -> dict[str, Any]:
        status: dict[str, Any] = json.loads(self.ctl(node, "cluster_status", "--formatter", "json"))
        return status

    def add_vhost(self, vhost: str, *, user: str = "guest") -> None:
        node = self.answering()
        self.ctl(node, "add_vhost", vhost)
        self.ctl(node, "set_permissions", "-p", vhost, user, ".*", ".*", ".*")

    # --- internals --------------------------------------------------------------------------------------

    def _bin(self) -> Path:
        found = rabbitmq_bin()
        if found is None:
            raise ClusterError("rabbitmq-server is not installed (set CLUSTER_RABBITMQ_BIN to its directory)")
        return found

    def answering(self) -> Node:
        """The first node that accepts AMQP connections."""
        for node in self.nodes:
            if node.accepts_amqp():
                return node
        raise ClusterError("no node of the cluster is running")

    def _write_shared_files(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        cookie = self.root / ".erlang.cookie"
        cookie.unlink(missing_ok=True)
        cookie.write_text(secrets.token_hex(16).upper())
        cookie.chmod(0o400)  # Erlang refuses a cookie others can read
        # Read instead of /etc/rabbitmq/rabbitmq-env.conf, whose NODENAME is the machine's own node.
        (self.root / "rabbitmq-env.conf").write_text("")

    def _wait_booted(self, node: Node, *, timeout: float = BOOT_TIMEOUT) -> None:
        def booted() -> bool:
            if not node.alive():
                tail = node.log_file.read_text()[-2000:] if node.log_file.exists() else ""
                out = (node.dir / "server.out").read_text()[-2000:] if (node.dir / "server.out").exists() else ""
                raise ClusterError(f"{node.nodename} exited while starting:\n{tail or out}")
            return node.accepts_amqp()

        _wait(booted, timeout=timeout, what=f"{node.nodename} to accept AMQP connections")


def _plain_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}


def _parallel(work: Callable[[Node], T], nodes: Iterable[Node]) -> list[T]:
    nodes = list(nodes)
    if not nodes:
        return []
    with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
        return list(pool.map(work, nodes))


def _wait(probe: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(interval)
    raise ClusterError(f"timed out after {timeout:g}s waiting for {what}")
