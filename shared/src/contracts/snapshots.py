"""JSON Schema snapshots of every message, and the rule for what a compatible change is.

`python -m contracts.snapshots` rewrites shared/schemas/; the contract test compares against them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contracts import cohort, consent, notify, retired, sessions, topology
from contracts.envelope import Message, Reply

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def all_messages() -> list[type[Message]]:
    found: set[type[Message]] = set()
    for module in (sessions, cohort, consent, notify):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Message) and value.__module__ == module.__name__:
                found.add(value)
    return sorted(found, key=lambda m: (topology.producer_of(m), m.__name__))


def snapshot_name(message: type[Message]) -> str:
    return f"{topology.producer_of(message)}.{message.__name__}.json"


def retired_names() -> set[str]:
    """Snapshot names of the messages taken out of the contract (`retired.RETIRED`)."""
    return {f"{r.producer}.{r.name}.json" for r in retired.RETIRED}


def current_schemas() -> dict[str, dict[str, Any]]:
    schemas = {snapshot_name(m): m.model_json_schema() for m in all_messages()}
    schemas["envelope.Reply.json"] = Reply.model_json_schema()
    return schemas


def breaking_changes(old: dict[str, Any], new: dict[str, Any], path: str = "") -> list[str]:
    """Differences a tolerant reader of `old` could not survive: removed or changed fields, new requirements."""
    problems: list[str] = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, definition in old_props.items():
        if name not in new_props:
            problems.append(f"{path}{name}: removed")
        elif definition != new_props[name]:
            problems.append(f"{path}{name}: changed")
    newly_required = set(new.get("required", [])) - set(old.get("required", []))
    problems += [f"{path}{name}: newly required" for name in sorted(newly_required)]
    for name, definition in old.get("$defs", {}).items():
        if name not in new.get("$defs", {}):
            problems.append(f"$defs.{name}: removed")
        else:
            problems += breaking_changes(definition, new["$defs"][name], f"$defs.{name}.")
    if "enum" in old and not set(old["enum"]) <= set(new.get("enum", [])):
        problems.append(f"{path}enum: values removed")
    return problems


def write(directory: Path = SCHEMA_DIR) -> list[str]:
    """Write every snapshot and delete those of retired messages; returns the snapshots left without a message.

    A snapshot whose message is gone but not retired is kept, so the contract test fails on it: removing a
    message breaks whoever still reads it, so it is a decision written down in `retired.RETIRED`.
    """
    directory.mkdir(parents=True, exist_ok=True)
    schemas = current_schemas()
    orphans = []
    for stale in sorted(directory.glob("*.json")):
        if stale.name in retired_names():
            stale.unlink()
        elif stale.name not in schemas:
            orphans.append(stale.name)
    for name, schema in schemas.items():
        (directory / name).write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
    return orphans


if __name__ == "__main__":
    left = write()
    print(f"wrote {len(current_schemas())} schemas to {SCHEMA_DIR}")
    for name in left:
        print(f"kept {name}: its message is gone; retire it in contracts.retired.RETIRED or bring it back")
