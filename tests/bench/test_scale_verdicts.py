"""make scale's verdicts: the curve's linearity, the RSS and query limits, caps and losses."""

from __future__ import annotations

from typing import Any

import pytest

from bench.scale import _verdicts

pytestmark = pytest.mark.unit


def figures(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "invitations_per_s_by_size": {"10k": 4000.0, "100k": 5000.0, "1M": 4500.0, "3_at_once": 4800.0},
        "rss_mb_max_by_service": {"cohort": 110.0, "notify": 130.0},
        "retime_100k_s": 3.2,
        "retime_children": 100_000,
        "query_p95_ms": {"list_all_page1": 40.0, "activity_log": 20.0},
        "daily_cap_days": 5,
        "daily_cap_exceeded": 0,
        "lost": 0,
        "daily": {"daily_sizes": {"messages": 2_000_000}},
    }
    return base | changes


def verdict_of(rows: list[tuple[str, str, str, str]], starts: str) -> str:
    return next(v for name, _, _, v in rows if name.startswith(starts))


def test_every_target_met() -> None:
    rows = _verdicts(figures())
    assert {v for *_, v in rows} <= {"met", "—"}
    assert any(name == "daily caps: days for 2,000,000" for name, *_ in rows)


def test_a_rate_at_a_million_more_than_a_fifth_below_the_rate_at_100k_is_missed() -> None:
    rates = {"10k": 4000.0, "100k": 5000.0, "1M": 3999.0}
    assert verdict_of(_verdicts(figures(invitations_per_s_by_size=rates)), "invitations/s") == "MISSED"
    assert verdict_of(_verdicts(figures(invitations_per_s_by_size=rates | {"1M": 4001.0})), "invitations/s") == "met"


def test_a_missing_figure_is_missed_not_met() -> None:
    rows = _verdicts({})
    for name in ("invitations/s", "peak RSS", "re-time", "staff queries", "  days a cap", "  messages lost"):
        assert verdict_of(rows, name) == "MISSED", name


def test_limits() -> None:
    assert verdict_of(_verdicts(figures(rss_mb_max_by_service={"notify": 151.0})), "peak RSS") == "MISSED"
    assert verdict_of(_verdicts(figures(retime_100k_s=10.5)), "re-time") == "MISSED"
    assert verdict_of(_verdicts(figures(query_p95_ms={"find_nhs_number": 201.0})), "staff queries") == "MISSED"
    assert verdict_of(_verdicts(figures(daily_cap_exceeded=1)), "  days a cap") == "MISSED"
    assert verdict_of(_verdicts(figures(lost=3)), "  messages lost") == "MISSED"
