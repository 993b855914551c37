"""Human tables or JSON for scripts on stdout; errors and progress on stderr, each error in one line.

Every table cell that holds an ISO date or date-time reads as people read it (msgkit.clock.readable:
"2 Dec 2026 19:08", Europe/London); JSON output keeps the services' ISO UTC values untouched.

Everything printed for people passes through `printable`: stored text may hold control characters (ESC
clears a screen or sets a title, U+202E reverses a line), and a terminal obeys them, so each is shown as an
escape instead. JSON output needs nothing more: `json.dumps` escapes every non-ASCII and control character.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from contracts.common import CONTROL_CHARACTERS
from msgkit.clock import readable_iso

_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")


def _width(stream: Any) -> int | None:
    # Piped output is read by people later or by tests: wide rows beat ids wrapped across lines.
    interactive = hasattr(stream, "isatty") and stream.isatty()
    return None if interactive or "COLUMNS" in os.environ else 200


# No emoji codes either: a name written ":smile:" is shown as written.
console = Console(highlight=False, emoji=False, width=_width(sys.stdout))
errors = Console(stderr=True, highlight=False, emoji=False, width=_width(sys.stderr))


def printable(text: str) -> str:
    """`text` with each control character shown as its escape (`\\x1b`, `\\u202e`), never obeyed."""
    return _CONTROL.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


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
        say(str(data))


def table(
    rows: Sequence[Mapping[str, Any]],
    *,
    title: str | None = None,
    columns: Sequence[str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    if not rows:
        say(f"{title or 'nothing'}: none")
        return
    names = list(columns or rows[0].keys())
    t = Table(title=_title(title), title_justify="left")
    for name in names:
        t.add_column(Text(printable((headers or {}).get(name, name.replace("_", " ")))))
    for row in rows:
        t.add_row(*(Text(cell(row.get(name))) for name in names))
    console.print(t)


def mapping(data: Mapping[str, Any], *, title: str | None = None) -> None:
    t = Table(title=_title(title), title_justify="left", show_header=False)
    t.add_column("field", style="bold")
    t.add_column("value")
    for key, value in data.items():
        t.add_row(Text(printable(key.replace("_", " "))), Text(cell(value)))
    console.print(t)


def _title(title: str | None) -> Text | None:
    return None if title is None else Text(printable(title))


def cell(value: Any) -> str:
    """A value as a table shows it: dates read in Europe/London, lists joined, control characters escaped."""
    return printable(_readable(value))


def _readable(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return readable_iso(value)
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return ", ".join(map(_readable, value))
    if isinstance(value, dict) and all(isinstance(v, str | int | bool | None) for v in value.values()):
        return ", ".join(f"{k}: {_readable(v)}" for k, v in value.items())
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return str(value)


def say(text: str) -> None:
    console.print(Text(printable(text)))


def progress_line(text: str) -> None:
    errors.print(Text(printable(text)))


def fail(message: str) -> None:
    errors.print(Text(f"error: {printable(message)}"), soft_wrap=True)
