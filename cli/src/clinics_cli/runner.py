"""Running one command: global options, the request, the exit code, and how the outcome is shown."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import typer
from pydantic import ValidationError

from clinics_cli import output, views
from clinics_cli.client import EXIT_USAGE, Client, CliError, broker_url, run
from contracts.envelope import Message

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class Options:
    """The global options (`--json`, `--url`, `--timeout`) the root callback sets for every command."""

    json: bool = False
    url: str = ""
    timeout: float = 10.0

    @property
    def broker_url(self) -> str:
        return self.url or broker_url()

    @property
    def operator_url(self) -> str:
        """For operators' commands (`clinics dead-letters`): the same, but make dev's admin where nothing is set."""
        return self.url or broker_url(operator=True)


options = Options()


def report(exc: CliError) -> None:
    """One line on stderr; in JSON mode the error as an object on stdout; row errors as a table."""
    output.fail(f"{exc} ({exc.code})" if exc.code else str(exc))
    if options.json:
        output.write_json({"error": {"code": exc.code, "message": str(exc), "details": exc.details}})
    elif exc.details:
        if all({"row", "column", "message"} <= set(d) for d in exc.details):
            views.row_errors(exc.details)
        else:
            output.table(exc.details, title="details")


def call(work: Callable[[Client], Awaitable[Any]], view: views.View | None = None) -> Any:
    """Run `work` against the broker; show its result, or report its failure and exit with its code."""
    try:
        result = run(options.broker_url, options.timeout, work)
    except CliError as exc:
        report(exc)
        raise typer.Exit(exc.exit_code) from None
    if options.json:
        output.write_json(result)
    elif view is not None:
        view(result)
    elif result is not None:
        output.emit(result, as_json=False)
    return result


def ask(message: Message, view: views.View | None = None) -> Any:
    return call(lambda client: client.ask(message), view)


def describe_invalid(exc: ValidationError) -> str:
    problems = [f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors()[:5]]
    return "invalid input: " + "; ".join(problems)


def guarded(command: Callable[P, R]) -> Callable[P, R]:
    """Input the contract rejects (a malformed ODS code, an empty list) is bad usage: exit 2, one line."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ValidationError as exc:
            report(CliError(describe_invalid(exc), EXIT_USAGE))
            raise typer.Exit(EXIT_USAGE) from None

    return wrapper
