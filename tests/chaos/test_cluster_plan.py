"""The cluster fault suite's plan: node restarts (one by kill -9 at least), every replica killed, inside the window."""

from __future__ import annotations

import random
from collections import Counter
from itertools import pairwise

import pytest

from chaos.cluster import (
    FULL,
    MIN_NODE_RESTARTS,
    NODE_FAULTS_END,
    QUICK,
    ClusterProfile,
    cluster_problems,
    plan_for,
    team_codes,
)
from chaos.cluster_stack import replica_names
from chaos.plan import FaultKind, node_fault_count

pytestmark = pytest.mark.unit

REPLICAS = replica_names(2)


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("profile", [QUICK, FULL], ids=["quick", "full"])
def test_the_plan_restarts_nodes_at_least_three_times_one_by_kill_9(profile: ClusterProfile, seed: int) -> None:
    plan = plan_for(profile, REPLICAS, random.Random(seed), postgres_restarts=1)
    nodes = node_fault_count(plan)
    assert nodes[FaultKind.NODE_STOP] + nodes[FaultKind.NODE_KILL] >= MIN_NODE_RESTARTS
    assert nodes[FaultKind.NODE_KILL] >= 1
    kinds = Counter(f.kind for f in plan)
    assert kinds[FaultKind.POSTGRES_RESTART] == 1
    assert kinds[FaultKind.RABBITMQ_RESTART] == 0  # a node restart is the cluster's broker restart
    assert {f.target for f in plan if f.kind is FaultKind.KILL} == set(REPLICAS)
    assert all(5.0 <= f.at <= profile.base.window for f in plan)
    assert [f.at for f in plan] == sorted(f.at for f in plan)


@pytest.mark.parametrize("seed", range(20))
def test_the_node_restarts_are_spread_over_the_imports(seed: int) -> None:
    plan = plan_for(QUICK, REPLICAS, random.Random(seed), postgres_restarts=1)
    moments = [f.at for f in plan if f.kind in (FaultKind.NODE_STOP, FaultKind.NODE_KILL)]
    last = NODE_FAULTS_END * QUICK.base.window
    slot = (last - 5.0) / QUICK.node_restarts
    assert all(b - a >= 0.4 * slot for a, b in pairwise(moments))
    assert max(moments) <= last


def test_two_replicas_of_every_service() -> None:
    assert [f"{s}-{n}" for s in ("sessions", "cohort", "consent", "notify") for n in (1, 2)] == REPLICAS


def test_team_codes_are_valid_ods_codes() -> None:
    codes = team_codes("ab12cd34", 4)
    assert len(set(codes)) == 4
    assert all(c.isalnum() and c.isupper() and 2 <= len(c) <= 10 for c in codes)


def test_the_run_fails_on_too_few_node_restarts_a_missing_kill_9_a_stuck_message_or_a_slow_recovery() -> None:
    whole = {"sessions": 2, "cohort": 2, "consent": 2, "notify": 2}
    good = {"node_stop": 2, "node_kill": 1}
    assert cluster_problems(replicas=whole, node_restarts=good, stuck=0, slowest=30.0) == []
    assert cluster_problems(replicas={**whole, "notify": 1}, node_restarts=good, stuck=0, slowest=1.0)
    assert cluster_problems(replicas=whole, node_restarts={"node_stop": 3}, stuck=0, slowest=1.0)
    assert cluster_problems(replicas=whole, node_restarts={"node_stop": 1, "node_kill": 1}, stuck=0, slowest=1.0)
    assert cluster_problems(replicas=whole, node_restarts=good, stuck=1, slowest=1.0)
    assert cluster_problems(replicas=whole, node_restarts=good, stuck=0, slowest=61.0)
