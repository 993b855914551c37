"""Generate the contract documents from the code: each service's AsyncAPI and the message catalogue.

`python docs/generate.py` (or `make docs`) rewrites docs/asyncapi/<service>.json and docs/messages.md;
`--check` only reports stale files (exit 1). tests/contract/test_docs.py runs the same comparison.
Output is deterministic: sorted keys, no timestamps, a fixed broker address.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from contracts import retired, snapshots, topology
from contracts.envelope import Command, Event, Message, Query

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
ASYNCAPI_DIR = DOCS / "asyncapi"
CATALOGUE = DOCS / "messages.md"
# The documents describe the contract, not one machine: every server entry names the same local broker.
DOC_BROKER_URL = "amqp://guest:guest@localhost:5672/"
DOC_DATABASE_URL = "postgresql://postgres@localhost:5432/clinics"
SERVICE_OVERRIDES: dict[str, dict[str, Any]] = {"notify": {"provider": "log"}}


@contextmanager
def _logging_untouched() -> Iterator[None]:
    """Building an app configures the root logger; put it back so a test run's logging is unchanged."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def _version(service: str) -> str:
    project = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())["project"]
    return str(project["version"])


def asyncapi(service: str) -> dict[str, Any]:
    """The AsyncAPI 3 document of `service`, from its app exactly as `create_app` builds it (never started)."""
    settings_class = importlib.import_module(f"{service}.config").Settings
    create_app = importlib.import_module(f"{service}.app").create_app
    settings = settings_class(
        database_url=DOC_DATABASE_URL,
        rabbitmq_url=DOC_BROKER_URL,
        http_port=0,
        log_json=False,
        **SERVICE_OVERRIDES.get(service, {}),
    )
    with _logging_untouched():
        app = create_app(settings)
    spec = app.schema
    spec.title = f"clinics {service} service"
    spec.version = _version(service)
    spec.description = (
        f"What the {service} service consumes, answers (request–reply) and publishes over RabbitMQ. "
        "Generated from the code by `make docs`; see docs/messages.md for who publishes and consumes each message."
    )
    document: dict[str, Any] = spec.to_specification().to_jsonable()
    return document


def render_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- the message catalogue -----------------------------------------------------------------------


def _summary(message: type[Message]) -> str:
    return (message.__doc__ or "").strip().splitlines()[0]


def _kind(message: type[Message]) -> str:
    if issubclass(message, Query):
        return "query"
    if issubclass(message, Command):
        return "command"
    return "event" if issubclass(message, Event) else "message"


def _schema_link(message: type[Message]) -> str:
    name = snapshots.snapshot_name(message)
    return f"[`{message.__name__}`](../shared/schemas/{name})"


def _async_rows(kind: type[Message]) -> list[str]:
    rows = []
    for producer in topology.SERVICES:
        for message in topology.published_by(producer):
            if not issubclass(message, kind):
                continue
            route = topology.route_for(message)
            consumers = [b for b in topology.all_bindings() if b.message is message and not b.is_request]
            queues = "<br>".join(f"{b.consumer}: `{b.queue}`" for b in consumers)
            rows.append(
                f"| {_schema_link(message)} | {producer} | `{route.exchange}` / `{route.routing_key}` "
                f"| {queues} | {_summary(message)} |"
            )
    return rows


def _request_rows() -> list[str]:
    rows = []
    for service in topology.SERVICES:
        for b in topology.bindings(service):
            if b.is_request:
                rows.append(
                    f"| {_schema_link(b.message)} | {_kind(b.message)} | {service} "
                    f"| `{b.exchange}` / `{b.routing_key}` | `{b.queue}` | {_summary(b.message)} |"
                )
    return rows


def _by_service() -> list[str]:
    lines = []
    for service in topology.SERVICES:
        publishes = ", ".join(f"`{m.__name__}`" for m in topology.published_by(service)) or "nothing"
        consumes = ", ".join(f"`{m.__name__}`" for m in topology.CONSUMES[service]) or "nothing"
        answers = ", ".join(f"`{m.__name__}`" for m in topology.ANSWERS[service]) or "nothing"
        lines += [
            f"### {service}",
            "",
            f"- publishes: {publishes}",
            f"- consumes: {consumes}",
            f"- answers: {answers}",
            f"- AsyncAPI: [asyncapi/{service}.json](asyncapi/{service}.json)",
            "",
        ]
    return lines


def _unrouted() -> list[str]:
    routed = {b.message for b in topology.all_bindings()}
    missing = [m for m in snapshots.all_messages() if m not in routed]
    if not missing:
        return []
    rows = [f"| {_schema_link(m)} | {topology.producer_of(m)} | {_summary(m)} |" for m in missing]
    return ["## Defined but not routed", "", "| message | defined by | what |", "|---|---|---|", *rows, ""]


def _retired() -> list[str]:
    if not retired.RETIRED:
        return []
    rows = [
        f"| `{r.name}` | {r.producer} | {r.on.isoformat()} | {r.why} | {', '.join(f'`{q}`' for q in r.queues)} |"
        for r in retired.RETIRED
    ]
    return [
        "## Retired",
        "",
        "Taken out of the contract (`contracts.retired.RETIRED`); nothing publishes or consumes them. Their queues "
        "stay declared on a broker that ran an older release until an operator deletes them.",
        "",
        "| message | was published by | retired on | why | queues to delete |",
        "|---|---|---|---|---|",
        *rows,
        "",
    ]


def catalogue() -> str:
    """docs/messages.md: every event, command and query, who publishes it and who consumes it."""
    header = "| message | published by | exchange / routing key | consumed by: queue | what |\n|---|---|---|---|---|"
    lines = [
        "# Message catalogue",
        "",
        "<!-- Generated from shared/src/contracts by `make docs` (docs/generate.py); do not edit by hand. -->",
        "",
        "Every message of the published contract, who publishes it and who consumes it. Names follow one scheme "
        "(`contracts.topology`): a producer publishes events on `<producer>.events` and commands on "
        "`<producer>.commands` (topic exchanges) with routing key `<producer>.<message_snake>`; each consumer "
        "reads its own durable quorum queue `<consumer>.<message_snake>`, whose dead letters go to "
        "`<queue>.dlq` through `<consumer>.dead-letters`. Requests (commands and queries that expect a reply) "
        "go to the answering service's direct exchange `<service>.requests`, with `reply_to` and "
        "`correlation_id` set; the answer is an `envelope.Reply` (`ok` with `data`, or an `error` with a code). "
        "Each message name links to its JSON Schema snapshot.",
        "",
        "## Events",
        "",
        header,
        *_async_rows(Event),
        "",
        "## Commands (asynchronous, one consumer)",
        "",
        header,
        *_async_rows(Command),
        "",
        "## Requests (request–reply)",
        "",
        "| message | kind | answered by | exchange / routing key | queue | what |",
        "|---|---|---|---|---|---|",
        *_request_rows(),
        "",
        *_unrouted(),
        *_retired(),
        "## By service",
        "",
        *_by_service(),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


# --- writing and checking --------------------------------------------------------------------------


def expected() -> dict[Path, str]:
    """Every generated file and its content."""
    files = {ASYNCAPI_DIR / f"{s}.json": render_json(asyncapi(s)) for s in topology.SERVICES}
    files[CATALOGUE] = catalogue()
    return files


def stale(files: dict[Path, str]) -> list[Path]:
    return [path for path, text in files.items() if not path.exists() or path.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="Only report stale documents (exit 1).")
    args = parser.parse_args(argv)
    files = expected()
    outdated = stale(files)
    if args.check:
        for path in outdated:
            print(f"stale: {path.relative_to(ROOT)} (run `make docs`)")
        return 1 if outdated else 0
    ASYNCAPI_DIR.mkdir(parents=True, exist_ok=True)
    for path in outdated:
        path.write_text(files[path])
    print(f"{len(files)} documents, {len(outdated)} rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
