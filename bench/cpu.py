"""CPU seconds each part of the system used during a phase: every service process, PostgreSQL and RabbitMQ.

Read from /proc, so the servers are counted only when they run on this machine. PostgreSQL forks a
backend per connection: its CPU is the postmaster's own, plus its reaped children's (cutime/cstime: the
backends that ended), plus the live backends'. A backend alive at both samples is counted in both live
sums, one that ended between them moves from the live sum into cutime, so the difference is exact.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) is in parentheses and may hold spaces; the fields after it are plain.
    return text[text.rindex(")") + 2 :].split()


def process_seconds(pid: int, *, with_children: bool = False) -> float:
    """utime + stime of `pid` (and of its reaped children), in seconds; 0 when it has gone."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    # Fields 14-17 of proc(5) (utime, stime, cutime, cstime) are 11-14 here, counted from field 3.
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ""


def parent_of(pid: int) -> int | None:
    """The parent process id (a backend's parent is its postmaster), or None once `pid` has gone."""
    fields = _stat(pid)
    return int(fields[1]) if fields is not None else None


def listener(port: int) -> int | None:
    """The process listening on TCP `port` of this machine (IPv4 or IPv6), if it can be seen."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if any(str(fd.readlink()) in inodes for fd in (entry / "fd").iterdir()):
                return int(entry.name)
        except (FileNotFoundError, PermissionError, ProcessLookupError):
            continue
    return None


def rabbit_nodes() -> list[int]:
    """The RabbitMQ nodes on this machine (one beam.smp each)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and "beam.smp" in (command := _command(int(entry.name))) and "rabbit" in command:
            found.append(int(entry.name))
    return found


def postgres_seconds(postmaster: int) -> float:
    return process_seconds(postmaster, with_children=True) + sum(map(process_seconds, _children(postmaster)))


def rabbitmq_seconds(nodes: list[int]) -> float:
    return sum(process_seconds(pid) for pid in nodes)


class CpuMeter:
    """Samples the CPU of named service processes and the servers; `used()` is the CPU since `start()`."""

    def __init__(self, services: Mapping[str, int], *, postmaster: int | None, amqp_port: int | None) -> None:
        self._services = dict(services)
        self._postmaster = postmaster
        # The node serving the run, else every node on the machine (other work on it is counted too).
        node = listener(amqp_port) if amqp_port else None
        self._rabbit = [node] if node is not None else rabbit_nodes()
        self._start: dict[str, float] = {}

    def _sample(self) -> dict[str, float]:
        sample = {name: process_seconds(pid) for name, pid in self._services.items()}
        if self._postmaster is not None:
            sample["postgresql"] = postgres_seconds(self._postmaster)
        sample["rabbitmq"] = rabbitmq_seconds(self._rabbit)
        return sample

    def start(self) -> None:
        self._start = self._sample()

    def used(self) -> dict[str, float]:
        now = self._sample()
        used = {name: round(now[name] - self._start.get(name, 0.0), 2) for name in now}
        used["total"] = round(sum(used.values()), 2)
        return used
