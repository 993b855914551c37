"""Who decides a service process's settings: the environment under `make dev`, the harness in test stacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinics_admin.devserver import DEFAULT_PORTS, cli_line, dev_env, dev_processes
from clinics_admin.processes import ServiceProcess, service_env

pytestmark = pytest.mark.unit

DATABASE = "postgresql://postgres@127.0.0.1:5432/clinics"
BROKER = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture
def second_stack(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's shell set up for a second `make dev` stack."""
    monkeypatch.setenv("COHORT_HTTP_PORT", "9102")
    monkeypatch.setenv("COHORT_HTTP_HOST", "0.0.0.0")
    monkeypatch.setenv("COHORT_PREFETCH_COUNT", "7")
    monkeypatch.setenv("NOTIFY_PROVIDER", "smtp")
    monkeypatch.setenv("DEV_LOG_DIR", "/tmp/second-stack")


@pytest.mark.usefixtures("second_stack")
def test_make_dev_lets_the_environment_override_its_defaults() -> None:
    cohort = dev_env("cohort", database_url=DATABASE, rabbitmq_url=BROKER)
    assert (cohort["COHORT_HTTP_PORT"], cohort["COHORT_HTTP_HOST"], cohort["COHORT_PREFETCH_COUNT"]) == (
        "9102",
        "0.0.0.0",
        "7",
    )
    assert dev_env("notify", database_url=DATABASE, rabbitmq_url=BROKER)["NOTIFY_PROVIDER"] == "smtp"
    sessions = dev_env("sessions", database_url=DATABASE, rabbitmq_url=BROKER)
    assert sessions["SESSIONS_HTTP_PORT"] == str(DEFAULT_PORTS["sessions"])  # what is not set keeps its default


@pytest.mark.usefixtures("second_stack")
def test_make_dev_waits_for_each_service_where_it_listens_and_logs_where_told() -> None:
    by_service = {p.service: p for p in dev_processes(["sessions", "cohort"])}
    assert by_service["cohort"].base_url == "http://127.0.0.1:9102"  # every address: asked on loopback
    assert by_service["sessions"].base_url == f"http://127.0.0.1:{DEFAULT_PORTS['sessions']}"
    assert by_service["cohort"].log_path == Path("/tmp/second-stack/cohort.log")


def test_the_log_provider_is_make_dev_s_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_PROVIDER", raising=False)
    assert dev_env("notify", database_url=DATABASE, rabbitmq_url=BROKER)["NOTIFY_PROVIDER"] == "log"


@pytest.mark.usefixtures("second_stack")
def test_a_test_stack_is_configured_by_its_harness_alone() -> None:
    env = service_env("cohort", database_url=DATABASE, rabbitmq_url=BROKER, port=23456)
    assert (env["COHORT_HTTP_PORT"], env["COHORT_HTTP_HOST"]) == ("23456", "127.0.0.1")
    assert "COHORT_PREFETCH_COUNT" not in env
    notify = service_env("notify", database_url=DATABASE, rabbitmq_url=BROKER, port=23457, extra={"NOTIFY_X": "1"})
    assert "NOTIFY_PROVIDER" not in notify and notify["NOTIFY_X"] == "1"


def test_a_process_on_an_ipv6_address_is_asked_there() -> None:
    process = ServiceProcess("cohort", {}, 8102, Path("x.log"), host="::1")
    assert process.base_url == "http://[::1]:8102"


def test_each_service_accepts_the_admin_it_was_given_as_its_operator() -> None:
    env = dev_env("cohort", database_url=DATABASE, rabbitmq_url="amqp://ops:pw@mq:5672/dev")
    assert (env["COHORT_RABBITMQ_URL"].split("@")[0], env["COHORT_BROKER_OPERATORS"]) == ("amqp://cohort:cohort", "ops")


def test_make_dev_says_how_staffs_cli_connects_as_its_own_user() -> None:
    assert "nothing to set" in cli_line(BROKER)  # the CLI's default is make dev's broker, as clinics_cli
    line = cli_line("amqp://admin:s3cret@mq:5673/dev")
    assert "CLINICS_RABBITMQ_URL=amqp://clinics_cli:***@mq:5673/dev" in line and "s3cret" not in line
