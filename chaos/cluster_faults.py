"""Node faults on the suite's own cluster: the node leading the most quorum queues is stopped or killed -9, then
started again, and how long the system takes to be whole and to send again is measured.

A kill of a service name (the workload's mid-commit kill of "cohort") picks one of its replicas in turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from chaos import checks
from chaos.cluster_stack import ClusterStack
from chaos.faults import Injector
from chaos.plan import Fault, FaultKind
from testkit import eventually

NODE_FAULTS = (FaultKind.NODE_STOP, FaultKind.NODE_KILL)
MAX_RECOVERY_SECONDS = 60.0


class ClusterInjector(Injector):
    """chaos.faults.Injector, plus node faults on the cluster; a kill of a service name picks one of its replicas."""

    def __init__(self, cs: ClusterStack, *, node_outage_seconds: float, say: Callable[[str], None]) -> None:
        super().__init__(cs.stack, outage_seconds=node_outage_seconds, say=say)
        self._cs = cs
        self._turn = itertools.count()
        self.node_restarts: Counter[str] = Counter()
        self.recoveries: list[dict[str, Any]] = []

    async def kill_now(self, target: str, *, mid_commit: bool = False) -> None:
        if target not in self._stack.processes:  # chaos.suite.workload asks for "cohort": take turns
            replicas = [n for n in self._stack.processes if n.rsplit("-", 1)[0] == target]
            target = replicas[next(self._turn) % len(replicas)]
        await super().kill_now(target, mid_commit=mid_commit)

    async def inject(self, fault: Fault) -> None:
        if fault.kind not in NODE_FAULTS:
            await super().inject(fault)
            self.recoveries.append({"fault": fault.describe(), "seconds": round(self.log.recovery_seconds[-1], 1)})
            return
        cluster = self._cs.cluster
        leaders = await asyncio.to_thread(self._cs.leader_counts)
        victim = cluster.node(max(leaders, key=lambda n: leaders[n])) if leaders else cluster.answering()
        led = leaders.get(victim.nodename, 0)
        self._say(f"  {victim.nodename} leads {led} of {sum(leaders.values())} quorum queues")
        under_load = await self._sends_pending()
        began = time.monotonic()
        progressing = asyncio.create_task(self._progress_after(began))
        if fault.kind is FaultKind.NODE_KILL:
            await asyncio.to_thread(cluster.kill, victim)
        else:
            await asyncio.to_thread(cluster.stop, victim)
        await asyncio.sleep(self._outage)  # how long the node stays away is the fault itself
        await asyncio.to_thread(cluster.start, victim)
        await asyncio.to_thread(cluster.wait_rejoined, victim)
        rejoined = time.monotonic() - began
        await self.recover()
        took = time.monotonic() - began
        progress = await progressing
        self.node_restarts[str(fault.kind)] += 1
        self.log.restarts["rabbitmq"] += 1  # what chaos.verdict counts as the broker restarting
        self.log.recovery_seconds.append(took)
        self.recoveries.append(
            {"fault": str(fault.kind), "node": victim.nodename, "led_queues": led, "rejoined_s": round(rejoined, 1),
             "seconds": round(took, 1), "first_send_s": progress, "under_load": under_load}
        )  # fmt: skip
        sent = "nothing was waiting to be sent" if progress is None else f"first send after {progress:.1f}s"
        self._say(f"  recovered: {victim.nodename} rejoined after {rejoined:.1f}s, every replica ready after "
                  f"{took:.1f}s; {sent}")  # fmt: skip

    async def _sends_pending(self, *, timeout: float = 30.0) -> bool:
        """Wait (at most `timeout`) until notify has sends pending, so the node goes away under load; whether it did."""
        database = checks.Database(self._stack.database_url)

        async def pending() -> bool:
            with contextlib.suppress(Exception):
                counts = await database.pending()
                return bool(counts["notifications"] or counts["invitations"])
            return False

        try:
            await eventually(pending, timeout=timeout, interval=0.5, what="sends pending")
        except AssertionError:
            self._say(f"  nothing pending to send after {timeout:g}s: the node goes away on an idle system")
            return False
        return True

    async def _progress_after(self, began: float, *, limit: float = MAX_RECOVERY_SECONDS) -> float | None:
        """Seconds from `began` until the provider accepted another send: the system made progress during or
        after the node's outage. None if nothing was waiting to be sent then, or nothing was within `limit`."""
        stub = self._stack.stub
        try:
            baseline = int((await stub.stats())["recorded"])
            pending = await checks.Database(self._stack.database_url).pending()
        except Exception:  # the database may be restarting: no measurement rather than a failed fault
            return None
        if not (pending["notifications"] or pending["invitations"]):
            return None
        while time.monotonic() - began < limit:
            await asyncio.sleep(0.25)  # polling the stub's count: a measurement, not synchronisation
            with contextlib.suppress(Exception):
                if int((await stub.stats())["recorded"]) > baseline:
                    return round(time.monotonic() - began, 1)
        return None
