"""A RabbitMQ node of the dev runner's own, on the URL's port: the local cluster tool's machinery (cluster/), one node.

Its config, data, logs and Erlang cookie live under `.run/rabbitmq-<port>/`; it runs the machine's
`rabbitmq-server` (CLUSTER_RABBITMQ_BIN names another directory). The node keeps its data between runs, so
messages still queued when `make dev` stopped are there when it starts again.
"""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from clinics_admin.bootstrap import Permissions, RabbitmqctlAdmin
from clinics_admin.endpoints import CannotStart, Endpoint, free_port, port_free
from msgkit.addresses import parse_addresses

if TYPE_CHECKING:
    from cluster import Cluster, Node

# cluster/ lives at the repository's root, like bench/ and chaos/, beside admin/src/clinics_admin/.
REPOSITORY = Path(__file__).resolve().parents[3]
EVERYTHING = Permissions(".*", ".*", ".*")


def _cluster_importable() -> bool:
    if not (REPOSITORY / "cluster" / "node.py").exists():
        return False
    if str(REPOSITORY) not in sys.path:
        sys.path.append(str(REPOSITORY))
    return True


def rabbitmq_bin() -> Path | None:
    """The directory holding rabbitmq-server, by the cluster tool's rule (CLUSTER_RABBITMQ_BIN, else Debian's
    scripts, else PATH's), or None where it is not installed."""
    if not _cluster_importable():
        return None
    from cluster.node import rabbitmq_bin as cluster_rabbitmq_bin

    found = cluster_rabbitmq_bin()
    return found if found is not None and (found / "rabbitmq-server").exists() else None


@dataclass(frozen=True, slots=True)
class PrivateRabbit:
    """A one-node cluster at `endpoint`, with the URL's user, password and vhost."""

    endpoint: Endpoint
    cluster: Cluster
    user: str
    password: str
    vhost: str

    @classmethod
    def for_url(cls, rabbitmq_url: str, endpoint: Endpoint, run_dir: Path) -> PrivateRabbit:
        """The node to start for the URL; raises CannotStart (with the line to show) if none can be."""
        if not _cluster_importable():
            raise endpoint.not_running(f"and {REPOSITORY} has no cluster/ to start a node with: set RABBITMQ_URL")
        if rabbitmq_bin() is None:
            raise endpoint.not_running(
                "and rabbitmq-server is not installed: install it (apt-get install rabbitmq-server) or set RABBITMQ_URL"
            )
        from cluster import Cluster

        root = (run_dir / f"rabbitmq-{endpoint.port}").resolve()
        # RabbitMQ's own rule for a node's distribution port (25672 for 5672), unless that one is taken.
        dist = endpoint.port + 20000
        dist = dist if dist < 65536 and port_free(dist) else free_port()
        # Node names are the machine's (epmd's): one of this checkout's directory, never another's.
        name = f"clinics-dev-{hashlib.sha1(str(root).encode()).hexdigest()[:6]}"
        cluster = Cluster.on_ports(root, name=name, amqp_ports=[endpoint.port], dist_ports=[dist])
        first = urlsplit(parse_addresses(rabbitmq_url).first)
        user, password = unquote(first.username or "guest"), unquote(first.password or "guest")
        vhost = parse_addresses(rabbitmq_url).vhost
        return cls(endpoint, cluster, user, password, vhost)

    @property
    def root(self) -> Path:
        return self.cluster.root

    @property
    def node(self) -> Node:
        return self.cluster.nodes[0]

    @property
    def running(self) -> bool:
        """The node runs (an earlier `make dev` that was killed left it running)."""
        return self.node.alive()

    def start(self) -> float:
        """Start the node (on the last run's data if there is any), admit the URL's user; the seconds it took."""
        from cluster import ClusterError

        started = time.monotonic()
        try:
            if (self.node.dir / "mnesia").exists() and (self.cluster.root / ".erlang.cookie").exists():
                self.cluster.start(self.node)
            else:
                self.cluster.up()
            self._admit()
        except ClusterError as exc:
            why = str(exc).splitlines()[0]
            raise CannotStart(
                f"could not start a private RabbitMQ at {self.endpoint.shown}: {why} (log: {self.node.log_file})"
            ) from exc
        return time.monotonic() - started

    def stop(self) -> None:
        """Stop the node in order (SIGKILL only if it hangs); its data stays for the next run."""
        self.cluster.down()

    def ctl(self, args: list[str]) -> None:
        """rabbitmqctl against this node, with its own Erlang cookie (bootstrap's users and permissions)."""
        self.cluster.ctl(self.node, *args)

    def _admit(self) -> None:
        """The URL's vhost and user, as the developer wrote them (a fresh node has only guest/guest on /)."""
        admin = RabbitmqctlAdmin(self.ctl)
        if self.vhost != "/":
            self.ctl(["add_vhost", self.vhost])
        if (self.user, self.password) != ("guest", "guest"):
            admin.put_user(self.user, self.password)
            self.ctl(["set_user_tags", self.user, "administrator"])
        if self.vhost != "/" or self.user != "guest":
            admin.set_permissions(self.vhost, self.user, EVERYTHING)
