"""Pure helpers of the benchmark: windows, percentiles, targets and the results table (no IO)."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


def max_in_window(stamps: Sequence[float], window: float = 60.0) -> int:
    """The most stamps in any half-open interval [t, t + window) (any t, not only whole seconds)."""
    ordered = sorted(stamps)
    best, start = 0, 0
    for end, stamp in enumerate(ordered):
        while ordered[start] <= stamp - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): the smallest value with at least q % of values at or below it."""
    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def count_before(stamps: Sequence[float], until: float) -> int:
    """How many of the sorted `stamps` are earlier than `until`."""
    return bisect_left(stamps, until)


@dataclass(frozen=True, slots=True)
class Target:
    """One SPEC §5 target: a figure in the results, how to judge it, and how to show it."""

    key: str
    label: str
    unit: str
    goal: str
    met: Callable[[Mapping[str, Any]], bool]


def _at_least(key: str, floor: float) -> Callable[[Mapping[str, Any]], bool]:
    return lambda r: r.get(key) is not None and float(r[key]) >= floor


def _at_most(key: str, ceiling: float) -> Callable[[Mapping[str, Any]], bool]:
    return lambda r: r.get(key) is not None and float(r[key]) <= ceiling


def _never_above(results: Mapping[str, Any]) -> bool:
    most, limit = results.get("rate_limit_max_per_60s"), results.get("rate_limit_per_minute")
    return most is not None and limit is not None and most <= limit and results.get("rate_limit_429s", 0) == 0


def _memory(results: Mapping[str, Any]) -> bool:
    rss = results.get("rss_mb_max") or {}
    return bool(rss) and all(v <= 150 for v in rss.values())


TARGETS = (
    Target(
        "invitations_per_s", "cohort → scheduled", "invitations/s", "≥ 10,000 (§5: 5,000)",
        _at_least("invitations_per_s", 10_000),
    ),
    Target(
        "invitations_ratio_to_raw", "  ratio to the raw loop", "×", "≥ 3.5 (§5: 1.5)",
        _at_least("invitations_ratio_to_raw", 3.5),
    ),
    Target("latency_p50_ms", "latency p50", "ms", "≤ 50", _at_most("latency_p50_ms", 50)),
    Target("latency_p95_ms", "latency p95", "ms", "(reported)", lambda r: True),
    Target("latency_p99_ms", "latency p99", "ms", "≤ 100 (§5: 250)", _at_most("latency_p99_ms", 100)),
    Target("dispatch_sends_per_s", "dispatcher", "sends/s", "≥ 1,000", _at_least("dispatch_sends_per_s", 1000)),
    Target("rate_limit_max_per_60s", "rate limit: most in any 60 s", "sends", "≤ limit, no 429", _never_above),
    Target(
        "rate_limit_utilisation", "  share of the limit used", "", "≥ 95 %", _at_least("rate_limit_utilisation", 0.95)
    ),
    Target(
        "followup_events_per_s", "follow-up: activity entries", "events/s", "≥ 2,000",
        _at_least("followup_events_per_s", 2000),
    ),
    Target("followup_lag_s", "  log complete after last send", "s", "≤ 60", _at_most("followup_lag_s", 60)),
    Target("callbacks_per_s", "receipts accepted", "receipts/s", "≥ 1,000", _at_least("callbacks_per_s", 1000)),
    Target(
        "callback_to_log_p99_ms", "  receipt → activity log p99", "ms", "≤ 2,000",
        _at_most("callback_to_log_p99_ms", 2000),
    ),
    Target("parent_page_p95_ms", "parents: page p95", "ms", "≤ 100", _at_most("parent_page_p95_ms", 100)),
    Target("parent_page_p99_ms", "  page p99", "ms", "≤ 250", _at_most("parent_page_p99_ms", 250)),
    Target(
        "consent_submissions_per_s", "  form submissions", "submits/s", "≥ 300",
        _at_least("consent_submissions_per_s", 300),
    ),
    Target(
        "submit_to_recorded_p99_ms", "  submit → recorded p99", "ms", "≤ 1,000",
        _at_most("submit_to_recorded_p99_ms", 1000),
    ),
    Target("rss_mb_max", "largest RSS (run 2)", "MB", "≤ 150 each", _memory),  # the consent form's: run 8
)  # fmt: skip


def _show(key: str, value: Any) -> str:
    if value is None:
        return "not measured"
    if key == "rss_mb_max":
        return ", ".join(f"{name} {mb:.0f}" for name, mb in value.items())
    if key == "rate_limit_utilisation":
        return f"{value:.1%}"
    if key == "invitations_ratio_to_raw":
        return f"{value:.2f}"
    if isinstance(value, float) and value < 100:
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def verdicts(results: Mapping[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(figure, value, unit, target, verdict) per target; a figure not measured is MISSED."""
    rows = []
    for t in TARGETS:
        value = results.get(t.key)
        verdict = "—" if t.goal == "(reported)" else ("met" if value is not None and t.met(results) else "MISSED")
        rows.append((t.label, _show(t.key, value), t.unit, t.goal, verdict))
    return rows


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table with aligned columns."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)), line]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)
