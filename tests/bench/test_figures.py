"""The benchmark's pure helpers: the sliding 60-second maximum, percentiles, NHS numbers and verdicts."""

from __future__ import annotations

import random

import pytest

from bench.figures import count_before, max_in_window, percentile, verdicts

pytestmark = pytest.mark.unit


def brute_force_max(stamps: list[float], window: float) -> int:
    return max((sum(1 for s in stamps if t <= s < t + window) for t in stamps), default=0)


def test_no_sends_is_zero() -> None:
    assert max_in_window([], 60) == 0


def test_sends_exactly_a_window_apart_are_not_in_one_window() -> None:
    assert max_in_window([0.0, 60.0], 60) == 1
    assert max_in_window([0.0, 59.999], 60) == 2


def test_the_busiest_window_need_not_start_on_a_whole_second() -> None:
    # 30 sends late in second 0 and 30 early in second 60: together inside [0.9, 60.9), but no
    # whole-second-aligned window holds them all.
    stamps = [0.9 + i * 0.001 for i in range(30)] + [60.1 + i * 0.001 for i in range(30)]
    assert max_in_window(stamps, 60) == 60


def test_unsorted_stamps_are_counted_the_same() -> None:
    stamps = [5.0, 1.0, 3.0, 70.0, 2.0]
    assert max_in_window(stamps, 60) == 4


def test_matches_a_brute_force_count_on_random_arrivals() -> None:
    rng = random.Random(7)
    for _ in range(50):
        stamps = [rng.uniform(0, 200) for _ in range(rng.randint(1, 120))]
        assert max_in_window(stamps, 60) == brute_force_max(stamps, 60)


def test_a_steady_rate_fills_the_window_with_rate_times_sixty() -> None:
    stamps = [i * 20.0 for i in range(50 * 180)]  # 50 a second for three minutes, in milliseconds
    assert max_in_window(stamps, 60_000) == 3000


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([3.0], 99) == 3.0
    assert percentile([10.0, 1.0, 5.0], 50) == 5.0


def test_percentile_refuses_nothing_and_nonsense() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_count_before_counts_strictly_earlier_stamps() -> None:
    assert count_before([1.0, 2.0, 3.0], 2.0) == 1
    assert count_before([1.0, 2.0, 3.0], 9.0) == 3


def test_verdicts_mark_missed_targets_and_figures_not_measured() -> None:
    results = {
        "invitations_per_s": 10_500.0,
        "invitations_ratio_to_raw": 3.4,
        "latency_p50_ms": 20.0,
        "latency_p99_ms": 300.0,
        "dispatch_sends_per_s": 1500.0,
        "rate_limit_max_per_60s": 2950,
        "rate_limit_per_minute": 3000,
        "rate_limit_429s": 0,
        "rate_limit_utilisation": 0.983,
        "rss_mb_max": {"notify": 151.0, "cohort": 90.0},
        "followup_events_per_s": 2500.0,
        "followup_lag_s": 61.0,
        "callbacks_per_s": 999.0,
        "callback_to_log_p99_ms": 1500.0,
    }
    by_label = {row[0].strip(): row[4] for row in verdicts(results)}
    assert by_label["cohort → scheduled"] == "met"
    assert by_label["ratio to the raw loop"] == "MISSED"
    assert by_label["latency p50"] == "met"
    assert by_label["latency p99"] == "MISSED"
    assert by_label["dispatcher"] == "met"
    assert by_label["rate limit: most in any 60 s"] == "met"
    assert by_label["share of the limit used"] == "met"
    assert by_label["largest RSS (run 2)"] == "MISSED"
    assert by_label["follow-up: activity entries"] == "met"
    assert by_label["log complete after last send"] == "MISSED"
    assert by_label["receipts accepted"] == "MISSED"
    assert by_label["receipt → activity log p99"] == "met"
    assert verdicts({})[0][4] == "MISSED"


def test_a_rejected_send_means_the_limit_was_exceeded() -> None:
    results = {"rate_limit_max_per_60s": 2990, "rate_limit_per_minute": 3000, "rate_limit_429s": 3}
    (row,) = [r for r in verdicts(results) if r[0].startswith("rate limit")]
    assert row[4] == "MISSED"
