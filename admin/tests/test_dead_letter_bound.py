"""The dead-letter queues' bound as bootstrap sets it: by rabbitmqctl or over the management API."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from clinics_admin.bootstrap import ManagementApiAdmin, RabbitmqctlAdmin
from clinics_admin.dead_letter_bound import DEAD_LETTER_BOUND, MAX_BYTES, MAX_LENGTH
from contracts import topology

pytestmark = pytest.mark.unit


def test_the_bound_matches_every_dead_letter_queue_and_no_other_queue() -> None:
    pattern = re.compile(DEAD_LETTER_BOUND.pattern)
    for b in topology.all_bindings():
        assert pattern.search(b.dead_letter_queue), b.dead_letter_queue
        assert not pattern.search(b.queue), b.queue
    assert DEAD_LETTER_BOUND.definition == {"max-length": MAX_LENGTH, "max-length-bytes": MAX_BYTES}


def test_rabbitmqctl_sets_it_as_an_operator_policy_in_the_vhost() -> None:
    calls: list[list[str]] = []
    RabbitmqctlAdmin(calls.append).set_operator_policy("clinics-1", DEAD_LETTER_BOUND)
    (args,) = calls
    assert args[:7] == ["set_operator_policy", "-p", "clinics-1", "--priority", "0", "--apply-to", "queues"]
    assert args[7:9] == ["clinics-dead-letter-bound", r"\.dlq$"]
    assert json.loads(args[9]) == {"max-length": MAX_LENGTH, "max-length-bytes": MAX_BYTES}


@pytest.fixture
def management_api() -> Iterator[tuple[str, list[tuple[str, str, Any]]]]:
    """A stand-in for the management plugin that records each request (the local broker has no plugin)."""
    received: list[tuple[str, str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            received.append((self.path, self.headers["authorization"], body))
            self.send_response(201)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://admin:secret@127.0.0.1:{server.server_port}", received
    finally:
        server.shutdown()
        server.server_close()


def test_the_management_api_gets_the_same_policy(management_api: tuple[str, list[tuple[str, str, Any]]]) -> None:
    url, received = management_api
    ManagementApiAdmin(url).set_operator_policy("/", DEAD_LETTER_BOUND)
    ((path, auth, body),) = received
    assert path == "/api/operator-policies/%2F/clinics-dead-letter-bound"
    assert auth == "Basic YWRtaW46c2VjcmV0"
    assert body == {"pattern": r"\.dlq$", "priority": 0, "apply-to": "queues",
                    "definition": {"max-length": MAX_LENGTH, "max-length-bytes": MAX_BYTES}}  # fmt: skip
