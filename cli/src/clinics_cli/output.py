"""Human tables or JSON for scripts on stdout; errors and progress on stderr, each error in one line.

Every table cell that holds an ISO date or date-time reads as people read it (msgkit.clock.readable:
"2 Dec 2026 19:08", Europe/London); JSON output keeps the services' ISO UTC values untouched.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from msgkit.clock import readable_iso


def _width(stream: Any) -> int | None:
    # Piped output is read by people later or by tests: wide rows beat ids wrapped across lines.
    interactive = hasattr(stream, "isatty") and stream.isatty()
    return None if interactive or "COLUMNS" in os.environ else 200


console = Console(highlight=False, width=_width(sys.stdout))
errors = Console(stderr=True, highlight=False, width=_width(sys.stderr))


def write_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    sys.stdout.flush()


def emit(data: Any, *, as_json: bool, title: str | None = None, columns: Sequence[str] | None = None) -> None:
    if as_json:
        write_json(data)
    elif isinstance(data, list):
        table(data, title=title, columns=columns)
    elif isinstance(data, dict):
        mapping(data, title=title)
    else:
        console.print(str(data), markup=False)


def table(
    rows: Sequence[Mapping[str, Any]],
    *,
    title: str | None = None,
    columns: Sequence[str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    if not rows:
        console.print(f"{title or 'nothing'}: none", markup=False)
        return
    names = list(columns or rows[0].keys())
    t = Table(title=title, title_justify="left")
    for name in names:
        t.add_column((headers or {}).get(name, name.replace("_", " ")))
    for row in rows:
        t.add_row(*(Text(cell(row.get(name))) for name in names))
    console.print(t)


def mapping(data: Mapping[str, Any], *, title: str | None = None) -> None:
    t = Table(title=title, title_justify="left", show_header=False)
    t.add_column("field", style="bold")
    t.add_column("value")
    for key, value in data.items():
        t.add_row(Text(key.replace("_", " ")), Text(cell(value)))
    console.print(t)


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return readable_iso(value)
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return ", ".join(map(cell, value))
    if isinstance(value, dict) and all(isinstance(v, str | int | bool | None) for v in value.values()):
        return ", ".join(f"{k}: {cell(v)}" for k, v in value.items())
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return str(value)


def say(text: str) -> None:
    console.print(text, markup=False)


def progress_line(text: str) -> None:
    errors.print(text, markup=False)


def fail(message: str) -> None:
    errors.print(f"error: {message}", markup=False, soft_wrap=True)
