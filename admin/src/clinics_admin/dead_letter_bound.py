"""The bound on every dead-letter queue, as the RabbitMQ operator policy that sets it.

A `<queue>.dlq` keeps what its consumer could not handle until an operator replays it. Unbounded, one bug
that fails every message of a busy queue fills the broker's disk, and a full disk blocks every publisher
of every service (RabbitMQ's disk alarm). Bounded, past `MAX_LENGTH` letters or `MAX_BYTES` of bodies in
one queue the oldest letters are dropped (drop-head, the default overflow), and the alerts of
deploy/k8s/monitoring fire long before that (docs/runbook.md).

Why a policy: a queue's arguments are fixed when it is declared, and redeclaring one with new arguments
fails (PRECONDITION_FAILED) on every broker that has it already. Why an *operator* policy: it applies
together with any policy an operator keeps on the same queues (the lower limit wins) instead of one
replacing the other. Quorum queues honour `max-length` and `max-length-bytes` from 3.10 on.

Applied by `python -m clinics_admin.bootstrap` (docker compose, `make dev`, the tests), and in Kubernetes by
deploy/k8s/rabbitmq/dead-letter-bound.yaml (tests/deploy checks the two agree).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

NAME = "clinics-dead-letter-bound"
# Every dead-letter queue, and nothing else: topology names each `<queue>.dlq`.
PATTERN = r"\.dlq$"
MAX_LENGTH = 100_000
MAX_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class OperatorPolicy:
    """A RabbitMQ operator policy: limits applied to the queues whose names match `pattern`."""

    name: str
    pattern: str
    definition: Mapping[str, int] = field(default_factory=dict)
    apply_to: str = "queues"
    priority: int = 0

    def rabbitmqctl_args(self, vhost: str) -> list[str]:
        """`rabbitmqctl` arguments that set it in `vhost` (idempotent: a second run replaces it)."""
        return [
            "set_operator_policy", "-p", vhost, "--priority", str(self.priority), "--apply-to", self.apply_to,
            self.name, self.pattern, json.dumps(dict(self.definition)),
        ]  # fmt: skip

    def api_request(self, vhost: str) -> tuple[str, dict[str, Any]]:
        """The management HTTP API's path (under /api/) and body for a PUT that sets it in `vhost`."""
        path = f"operator-policies/{quote(vhost, safe='')}/{quote(self.name, safe='')}"
        body = {
            "pattern": self.pattern,
            "definition": dict(self.definition),
            "priority": self.priority,
            "apply-to": self.apply_to,
        }
        return path, body


def dead_letter_bound(max_length: int = MAX_LENGTH, max_bytes: int = MAX_BYTES) -> OperatorPolicy:
    """The bound on every dead-letter queue (tests make a small one to reach it)."""
    return OperatorPolicy(NAME, PATTERN, {"max-length": max_length, "max-length-bytes": max_bytes})


DEAD_LETTER_BOUND = dead_letter_bound()
