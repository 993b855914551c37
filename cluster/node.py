"""One RabbitMQ node of the local cluster: its files, its environment and its process."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

# Each vhost of this project's topology holds ~280 descriptors per node; the container's hard limit is 20,000.
FILE_DESCRIPTORS = 20000
# The Debian package's scripts. /usr/sbin/rabbitmq-server `su`s to the rabbitmq user, which resets the
# descriptor limit to 1,024 and reads /etc/rabbitmq; the scripts under /usr/lib run as the caller.
DEBIAN_BIN = Path("/usr/lib/rabbitmq/bin")


def rabbitmq_bin() -> Path | None:
    """The directory holding rabbitmq-server and rabbitmqctl, or None where RabbitMQ is not installed."""
    override = os.environ.get("CLUSTER_RABBITMQ_BIN")
    if override:
        return Path(override)
    if (DEBIAN_BIN / "rabbitmq-server").exists():
        return DEBIAN_BIN
    found = shutil.which("rabbitmq-server")
    return Path(found).resolve().parent if found else None


@dataclass(slots=True)
class Node:
    """A node's name, ports and directory. Everything it writes stays under `dir`."""

    name: str
    amqp_port: int
    dist_port: int
    dir: Path
    # Members each new quorum queue gets: RabbitMQ's quorum_cluster_size, the default of the
    # x-quorum-initial-group-size queue argument this project does not set (see docs/scaling.md).
    replicas: int = 3
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    @property
    def nodename(self) -> str:
        return f"{self.name}@localhost"

    def url(self, vhost: str = "/", *, user: str = "guest", password: str = "guest") -> str:
        path = "" if vhost == "/" else quote(vhost, safe="")
        return f"amqp://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{self.amqp_port}/{path}"

    @property
    def log_file(self) -> Path:
        return self.dir / "log" / f"{self.nodename}.log"

    @property
    def _session_file(self) -> Path:
        return self.dir / "session.pid"

    def env(self, home: Path) -> dict[str, str]:
        """The server's environment: nothing is read from /etc/rabbitmq (its 5672 listener, its node name)."""
        return {
            **os.environ,
            "HOME": str(home),  # the cluster's own Erlang cookie, $HOME/.erlang.cookie
            "RABBITMQ_CONF_ENV_FILE": str(home / "rabbitmq-env.conf"),
            "RABBITMQ_NODENAME": self.nodename,
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.dir / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_PID_FILE": str(self.dir / "beam.pid"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def write_config(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.1 = 127.0.0.1:{self.amqp_port}\n"
            # A node that loses sight of the majority stops serving rather than diverging.
            "cluster_partition_handling = pause_minority\n"
            "log.console = false\n"
            "log.file.level = info\n"
        )
        (self.dir / "advanced.config").write_text(f"[{{rabbit, [{{quorum_cluster_size, {self.replicas}}}]}}].\n")
        # No plugins: the management and Prometheus plugins would want ports of their own.
        (self.dir / "enabled_plugins").write_text("[].\n")

    def start(self, bin_dir: Path, home: Path) -> None:
        """Start the server in its own session (so the whole process group can be signalled)."""
        self.write_config()
        with (self.dir / "server.out").open("ab") as out:
            process = subprocess.Popen(
                ["sh", "-c", f'ulimit -n {FILE_DESCRIPTORS} && exec "$0"', str(bin_dir / "rabbitmq-server")],
                env=self.env(home),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._process = process
        self._session_file.write_text(str(process.pid))

    def pids(self) -> list[int]:
        """Processes of this node still alive: its recorded session, and any other process whose environment
        names this node and this directory (a run whose session file was lost). Never another node's."""
        found: set[int] = set()
        recorded = _read_int(self._session_file)
        if recorded is not None and self._owns(recorded):
            found.add(recorded)
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) not in found and self._owns(int(entry.name)):
                found.add(int(entry.name))
        return sorted(found)

    def _owns(self, pid: int) -> bool:
        try:
            # epmd is started by the first Erlang node on the machine and serves every node: never ours to stop.
            if Path(f"/proc/{pid}/comm").read_text().strip() == "epmd":
                return False
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            return False
        return (
            f"RABBITMQ_NODENAME={self.nodename}".encode() in environ
            and f"RABBITMQ_MNESIA_BASE={self.dir / 'mnesia'}".encode() in environ
        )

    def alive(self) -> bool:
        # Our own child still running settles it without reading every process's environment.
        if self._process is not None and self._process.poll() is None:
            return True
        return bool(self.pids())

    def kill(self) -> None:
        """SIGKILL every process of the node at once: a crash, nothing flushed."""
        self._wait_gone(self._signal(signal.SIGKILL), 10.0)

    def terminate(self, timeout: float = 60.0) -> None:
        """SIGTERM (the Erlang VM shuts down in order, like `rabbitmqctl stop`), SIGKILL after `timeout`."""
        if not self._wait_gone(self._signal(signal.SIGTERM), timeout):
            self.kill()

    def _signal(self, sig: signal.Signals) -> list[int]:
        pids = self.pids()
        # Each node runs in a session of its own; never signal ours (the caller's) by mistake.
        for group in {_group_of(pid) for pid in pids} - {None, os.getpgrp()}:
            assert group is not None
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                continue
        return pids

    def _wait_gone(self, pids: list[int], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None:
                self._process.poll()  # reap our own child, or it lingers as a zombie
            if not any(self._owns(pid) for pid in pids):
                self._session_file.unlink(missing_ok=True)
                self._process = None
                return True
            time.sleep(0.05)
        return False

    def accepts_amqp(self) -> bool:
        """The AMQP listener is open (it opens near the end of boot, after the node is clustered)."""
        with socket.socket() as sock:
            sock.settimeout(0.5)
            return sock.connect_ex(("127.0.0.1", self.amqp_port)) == 0

    def port_taken(self) -> int | None:
        """A port of this node that something else already listens on."""
        for port in (self.amqp_port, self.dist_port):
            with socket.socket() as sock:
                sock.settimeout(0.5)
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return port
        return None


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None
