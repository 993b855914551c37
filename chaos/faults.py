"""The fault injector: carries out the plan, one fault at a time, and counts what it did.

A fault is over when every process is ready again, so the next one never lands on a system that
has not recovered from the last (that would test start-up, not recovery). A process that exits on
its own is restarted, as a supervisor would, and counted as a crash.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from chaos.plan import Fault, FaultKind
from chaos.stack import READY_TIMEOUT, Stack, postgres_restart_command

log = logging.getLogger("chaos")


@dataclass
class FaultLog:
    kills: Counter[str] = field(default_factory=Counter)
    restarts: Counter[str] = field(default_factory=Counter)
    crashes: Counter[str] = field(default_factory=Counter)
    mid_commit_kills: int = 0
    recovery_seconds: list[float] = field(default_factory=list)

    @property
    def total_kills(self) -> int:
        return sum(self.kills.values())


class Injector:
    def __init__(self, stack: Stack, *, outage_seconds: float, say: Callable[[str], None]) -> None:
        self._stack = stack
        self._outage = outage_seconds
        self._say = say
        self._lock = asyncio.Lock()
        self.log = FaultLog()

    async def run(self, plan: list[Fault], started: float) -> None:
        """Inject each planned fault at its moment (or as soon as the previous one has recovered)."""
        loop = asyncio.get_running_loop()
        for number, fault in enumerate(plan, start=1):
            delay = started + fault.at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)  # the plan's random moment: pacing, not synchronisation
            async with self._lock:
                self._say(f"fault {number}/{len(plan)} at {loop.time() - started:.0f}s: {fault.describe()}")
                await self.inject(fault)

    async def kill_now(self, target: str, *, mid_commit: bool = False) -> None:
        """A kill triggered by the workload (cohort while an import commits)."""
        async with self._lock:
            self._say(f"fault: kill {target}" + (" mid-commit" if mid_commit else ""))
            await self.inject(Fault(0.0, FaultKind.KILL, target))
            self.log.mid_commit_kills += int(mid_commit)

    async def inject(self, fault: Fault) -> None:
        began = time.monotonic()
        if fault.kind is FaultKind.KILL:
            assert fault.target is not None
            process = self._stack.processes[fault.target]
            process.kill()
            self.log.kills[fault.target] += 1
            process.start()
        elif fault.kind is FaultKind.RABBITMQ_RESTART:
            await asyncio.to_thread(self._stack.rabbit.ctl, "stop_app")
            await asyncio.sleep(self._outage)  # how long the broker stays away is the fault itself
            await asyncio.to_thread(self._stack.rabbit.ctl, "start_app")
            self.log.restarts["rabbitmq"] += 1
        elif fault.kind is FaultKind.POSTGRES_RESTART:
            await asyncio.to_thread(subprocess.run, postgres_restart_command(), check=True, timeout=120)
            self.log.restarts["postgres"] += 1
        await self.recover()
        took = time.monotonic() - began
        self.log.recovery_seconds.append(took)
        self._say(f"  recovered: every process ready after {took:.1f}s")

    async def recover(self) -> None:
        """Wait until every process is ready; restart any that exited by itself."""
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            for name, process in self._stack.processes.items():
                if not process.alive:
                    self.log.crashes[name] += 1
                    self._say(f"  {name} exited by itself (code {process.process and process.process.returncode});"
                              " restarting it")  # fmt: skip
                    process.start()
            try:
                await self._stack.wait_all_ready(timeout=max(1.0, deadline - time.monotonic()))
                return
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
