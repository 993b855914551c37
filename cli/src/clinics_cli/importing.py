"""Streaming a cohort CSV to the cohort service in chunks, with progress on stderr."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from clinics_cli import output
from clinics_cli.client import EXIT_USAGE, Client, CliError
from contracts.cohort import CommitCohortImport, ImportCohortChunk
from contracts.cohort_csv import without_trailing_blank_rows
from contracts.common import Programme

CHUNK_ROWS = 2000
CHUNK_TIMEOUT = 120.0
# Committing 100,000 rows applies them in batches inside one request; allow it minutes, not seconds.
COMMIT_TIMEOUT = 900.0

Rows = list[tuple[int, list[str]]]


def read_rows(path: Path) -> tuple[list[str], Rows]:
    """Header and rows, numbered as in a spreadsheet (header is row 1); UTF-8 or ISO-8859-1.

    Empty lines and the blank rows after the last child are left out; a blank row between two children is
    sent, so the service can say which cells it lacks.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}", EXIT_USAGE) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("iso-8859-1")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
        rows = without_trailing_blank_rows([(number, cells) for number, cells in enumerate(reader, start=2) if cells])
    except (StopIteration, csv.Error) as exc:
        raise CliError(f"{path} is not a CSV file in the cohort upload format", EXIT_USAGE) from exc
    return header, rows


class Tracker(Protocol):
    def advance(self, rows: int) -> None: ...

    def committing(self) -> None: ...


class _Silent:
    def advance(self, rows: int) -> None:
        pass

    def committing(self) -> None:
        pass


class _Lines:
    """Progress as plain lines, for a log file or a pipe where a bar would be noise."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0

    def advance(self, rows: int) -> None:
        self.done += rows
        output.progress_line(f"checked {self.done} of {self.total} rows")

    def committing(self) -> None:
        output.progress_line(f"importing {self.total} rows (all or nothing)")


class _Bar:
    def __init__(self, progress: Progress, total: int) -> None:
        self.progress = progress
        self.task = progress.add_task("checking rows", total=total)

    def advance(self, rows: int) -> None:
        self.progress.advance(self.task, rows)

    def committing(self) -> None:
        self.progress.add_task("importing (all or nothing)", total=None)


@contextmanager
def tracker(total: int, *, show: bool) -> Iterator[Tracker]:
    if not show:
        yield _Silent()
    elif not output.errors.is_terminal:
        yield _Lines(total)
    else:
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
        with Progress(*columns, console=output.errors, transient=True) as progress:
            yield _Bar(progress, total)


async def import_cohort(
    client: Client,
    path: Path,
    *,
    team_ods: str,
    programmes: list[Programme] | None,
    academic_year: int | None,
    show_progress: bool,
) -> dict[str, Any]:
    header, rows = read_rows(path)
    return await import_rows(
        client, header, rows, team_ods=team_ods, programmes=programmes, academic_year=academic_year,
        show_progress=show_progress,
    )  # fmt: skip


async def import_rows(
    client: Client,
    header: list[str],
    rows: Rows,
    *,
    team_ods: str,
    programmes: list[Programme] | None,
    academic_year: int | None,
    show_progress: bool,
) -> dict[str, Any]:
    """Stage every chunk (each reply carries its rows' errors), then commit: every row, or none."""
    import_id = uuid.uuid4()
    chunks = [rows[i : i + CHUNK_ROWS] for i in range(0, len(rows), CHUNK_ROWS)] or [[]]
    with tracker(len(rows), show=show_progress) as progress:
        for sequence, chunk in enumerate(chunks):
            message = ImportCohortChunk(
                import_id=import_id, team_ods=team_ods, sequence=sequence, header=header, rows=chunk
            )
            await client.ask(message, timeout=CHUNK_TIMEOUT)
            progress.advance(len(chunk))
        progress.committing()
        commit = CommitCohortImport(
            import_id=import_id, team_ods=team_ods, programmes=programmes, academic_year=academic_year
        )
        # With errors staged the commit is refused, and its refusal lists every row error at once.
        result = await client.ask(commit, timeout=COMMIT_TIMEOUT)
    return {"import_id": str(import_id), "rows": len(rows), **result}
