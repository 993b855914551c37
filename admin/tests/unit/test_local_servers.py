"""What `make dev` does about each URL before starting anything: use it, start a private server, or say why not.

Whether a server answers is decided here by the test (no connection is made to any host).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from clinics_admin.endpoints import CannotStart, Endpoint, postgres_endpoint, rabbitmq_endpoints
from clinics_admin.local_servers import LocalServers, decide

pytestmark = pytest.mark.unit


@dataclass
class FakeServer:
    endpoint: Endpoint
    root: Path
    running: bool = False

    def start(self) -> float:
        return 0.0

    def stop(self) -> None:
        pass


def answering(monkeypatch: pytest.MonkeyPatch, *hosts: str) -> None:
    monkeypatch.setattr(Endpoint, "answers", lambda self, timeout=1.0: self.host in hosts)


def never() -> FakeServer:
    raise AssertionError("a private server was considered for a URL that is not on this machine")


def test_urls_are_shown_without_their_passwords() -> None:
    assert postgres_endpoint("postgresql+asyncpg://admin:s3cret@db.example.org:6432/clinics").shown == (
        "postgresql://admin:***@db.example.org:6432/clinics"
    )
    (node,) = rabbitmq_endpoints("amqp://admin:s3cret@mq.example.org/clinics")
    assert (node.host, node.port, node.shown) == ("mq.example.org", 5672, "amqp://admin:***@mq.example.org/clinics")


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("postgresql://admin:s3cret@db.example.org:5432/clinics", "PostgreSQL"),
        ("amqp://admin:s3cret@mq.example.org:5672/", "RabbitMQ"),
        ("amqp://admin:s3cret@127.0.0.1:5701/,127.0.0.1:5702", "RabbitMQ"),  # a cluster is never started here
    ],
)
def test_a_remote_server_that_does_not_answer_is_never_started_and_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str, kind: str
) -> None:
    answering(monkeypatch)
    endpoints = [postgres_endpoint(url)] if kind == "PostgreSQL" else rabbitmq_endpoints(url)
    with pytest.raises(CannotStart) as raised:
        decide(endpoints, never)
    line = str(raised.value)
    assert "\n" not in line and "s3cret" not in line and "admin:***@" in line
    assert line.startswith(f"{kind} does not answer at ") and ("DATABASE_URL" in line or "RABBITMQ_URL" in line)


def test_a_server_that_answers_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    answering(monkeypatch, "db.example.org")
    decision = decide([postgres_endpoint("postgresql://postgres@db.example.org/clinics")], never)
    assert (decision.server, decision.start, decision.adopt) == (None, False, False)


def test_a_local_url_where_nothing_answers_gets_a_private_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    answering(monkeypatch)
    endpoint = postgres_endpoint("postgresql://postgres@localhost:25432/clinics")
    decision = decide([endpoint], lambda: FakeServer(endpoint, tmp_path))
    assert decision.server is not None and decision.start and not decision.adopt


@pytest.mark.parametrize(("running", "adopted"), [(True, True), (False, False)])
def test_a_private_server_left_running_by_a_killed_runner_is_used_and_stopped_with_this_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, running: bool, adopted: bool
) -> None:
    answering(monkeypatch, "127.0.0.1")
    endpoint = postgres_endpoint("postgresql://postgres@127.0.0.1:25432/clinics")
    (tmp_path / "runner.pid").write_text("999999999")  # no such process
    decision = decide([endpoint], lambda: FakeServer(endpoint, tmp_path, running=running))
    assert not decision.start and decision.adopt is adopted
    # Something else answering there (not the server of ours) is simply used.
    assert (decision.server is not None) is running


def test_nothing_starts_unless_both_servers_can_be_had(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    answering(monkeypatch)
    monkeypatch.setenv("DEV_POSTGRES_BIN", str(tmp_path))  # holds no initdb: PostgreSQL is "not installed"
    with pytest.raises(CannotStart) as raised:
        LocalServers(
            "postgresql://postgres@127.0.0.1:25432/clinics", "amqp://guest:guest@mq.example.org/", tmp_path / ".run"
        )
    lines = str(raised.value).splitlines()
    assert lines == [
        "PostgreSQL is not running at postgresql://postgres@127.0.0.1:25432/clinics and PostgreSQL's server programs "
        "(initdb, pg_ctl) are not installed: install them (apt-get install postgresql) or set DATABASE_URL",
        "RabbitMQ does not answer at amqp://guest:***@mq.example.org/, which is not on this machine, so make dev "
        "starts nothing: start it there or set RABBITMQ_URL",
    ]
    assert not (tmp_path / ".run").exists()
