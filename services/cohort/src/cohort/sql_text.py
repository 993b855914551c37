"""Domain values rendered into SQL text, so that a rule spelled in SQL is spelled from the domain.

Only for constants of the code (enum values, URNs, column names), never for anything a message carries:
those are always bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def in_list(values: Iterable[str]) -> str:
    """`'a', 'b'` for `x IN (...)`, in a stable order."""
    return ", ".join(literal(v) for v in sorted(values))


def case_of(expression: str, mapping: Mapping[str, str]) -> str:
    """`mapping[expression]` in SQL: NULL where it has no key."""
    whens = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in sorted(mapping.items()))
    return f"CASE {expression} {whens} END"


def none_of(alias: str, flags: Iterable[str]) -> str:
    """True when none of these boolean columns of `alias` is set."""
    return " AND ".join(f"NOT {alias}.{flag}" for flag in flags)


def json_object(fields: Mapping[str, str], function: str = "json_build_object") -> str:
    """A JSON object with these keys, each the SQL expression given for it."""
    pairs = ", ".join(f"{literal(key)}, {expression}" for key, expression in fields.items())
    return f"{function}({pairs})"
