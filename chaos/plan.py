"""When and what to break: a seeded random plan of kills and restarts, and the provider's fault mix."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    KILL = "kill"  # SIGKILL one process, start it again, wait until it is ready
    RABBITMQ_RESTART = "rabbitmq_restart"  # rabbitmqctl stop_app, then start_app
    POSTGRES_RESTART = "postgres_restart"  # pg_ctlcluster … restart
    # On a cluster (chaos.cluster): the node leading the most quorum queues goes away, then is started again.
    NODE_STOP = "node_stop"  # graceful stop (SIGTERM: the Erlang VM shuts down in order)
    NODE_KILL = "node_kill"  # kill -9 of the node's beam process group: nothing flushed


@dataclass(frozen=True, slots=True)
class Fault:
    at: float  # seconds after the workload started
    kind: FaultKind
    target: str | None = None  # the process of a kill

    def describe(self) -> str:
        return f"{self.kind} {self.target}" if self.target else str(self.kind)


def plan_faults(
    rng: random.Random,
    *,
    targets: Sequence[str],
    kills: int,
    start: float,
    end: float,
    rabbitmq_restarts: int = 1,
    postgres_restarts: int = 1,
) -> list[Fault]:
    """Faults at random moments in [start, end]: every target killed at least once, the kills spread evenly."""
    if kills < len(targets):
        raise ValueError(f"{kills} kills cannot reach each of {len(targets)} processes")
    if not 0 <= start <= end:
        raise ValueError("the fault window must satisfy 0 <= start <= end")
    victims = [targets[i % len(targets)] for i in range(kills)]
    rng.shuffle(victims)
    faults: list[tuple[FaultKind, str | None]] = [(FaultKind.KILL, v) for v in victims]
    faults += [(FaultKind.RABBITMQ_RESTART, None)] * rabbitmq_restarts
    faults += [(FaultKind.POSTGRES_RESTART, None)] * postgres_restarts
    rng.shuffle(faults)
    moments = sorted(rng.uniform(start, end) for _ in faults)
    return [Fault(at, kind, target) for at, (kind, target) in zip(moments, faults, strict=True)]


def plan_cluster_faults(
    rng: random.Random,
    *,
    targets: Sequence[str],
    kills: int,
    start: float,
    end: float,
    node_stops: int,
    node_kills: int,
    postgres_restarts: int = 1,
    node_end: float | None = None,
) -> list[Fault]:
    """plan_faults' kills and PostgreSQL restarts, plus node faults, one in each equal slot of the window.

    The node faults are spread rather than drawn freely: two of them drawn close together would be carried out
    back to back (the injector waits for the first node to rejoin), leaving the rest of the run without any.
    The slots divide [start, node_end] (default: the whole window); their order of kinds is random.
    """
    faults = plan_faults(
        rng,
        targets=targets,
        kills=kills,
        start=start,
        end=end,
        rabbitmq_restarts=0,
        postgres_restarts=postgres_restarts,
    )
    kinds = [FaultKind.NODE_STOP] * node_stops + [FaultKind.NODE_KILL] * node_kills
    rng.shuffle(kinds)
    last = end if node_end is None else node_end
    if not start <= last <= end:
        raise ValueError("node faults must end inside the fault window")
    slot = (last - start) / max(1, len(kinds))
    faults += [Fault(start + slot * (i + rng.uniform(0.1, 0.6)), kind) for i, kind in enumerate(kinds)]
    return sorted(faults, key=lambda f: f.at)


def node_fault_count(plan: Sequence[Fault]) -> dict[str, int]:
    """Node restarts in a plan, by kind (`node_stop`, `node_kill`)."""
    return {str(k): sum(f.kind is k for f in plan) for k in (FaultKind.NODE_STOP, FaultKind.NODE_KILL)}


# What the provider does wrong, besides answering: the first four are the list. The last is
# "accepted after the client gave up" (issue 19): held until notify's client times out, then taken later.
LATE_ACCEPT = "accept_after_give_up"
PROVIDER_FAULT_KINDS = ("500", "429", "timeout", "accept_then_drop", "accept_then_500", LATE_ACCEPT)


def provider_faults(rate: float, *, timeout_seconds: float, late_seconds: float) -> dict[str, Any]:
    """The stub's control request for a steady random fault rate (see notify_stub.faults.FaultPlan).

    A timeout holds a request `timeout_seconds`; a late acceptance is taken `late_seconds` after the client
    gave up, which must be less than notify's NOTIFY_PROVIDER_IN_FLIGHT_SECONDS (`StackOptions`).
    """
    if not 0.0 < rate <= 1.0:
        raise ValueError("rate must be within (0, 1]")
    kinds: list[Any] = [{"kind": k, "seconds": late_seconds} if k == LATE_ACCEPT else k for k in PROVIDER_FAULT_KINDS]
    return {"probabilistic": {"rate": rate, "kinds": kinds, "seconds": timeout_seconds}}


def provider_fault_counts(totals: Mapping[str, int]) -> dict[str, int]:
    """Faults the stub injected, by kind, from its /_control/stats totals (`fault_<kind>`)."""
    return {kind: int(totals.get(f"fault_{kind}", 0)) for kind in PROVIDER_FAULT_KINDS}


def missing_fault_kinds(
    *, kills: Mapping[str, int], targets: Sequence[str], restarts: Mapping[str, int], provider: Mapping[str, int]
) -> list[str]:
    """Every fault kind the suite promises that this run did not inject (empty when all were)."""
    missing = [f"kill {t}" for t in targets if not kills.get(t)]
    missing += [f"{k} restart" for k in ("rabbitmq", "postgres") if not restarts.get(k)]
    missing += [f"provider {k}" for k, n in provider.items() if not n]
    return missing
