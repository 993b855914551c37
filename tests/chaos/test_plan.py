"""The fault suite's plan and workload: every process killed, faults inside the window, valid unique children."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from chaos.checks import Malformed, expected_dead_letters, judge_dead_letters, malformed_messages
from chaos.plan import (
    PROVIDER_FAULT_KINDS,
    FaultKind,
    missing_fault_kinds,
    plan_faults,
    provider_fault_counts,
    provider_faults,
)
from chaos.suite import parser, provider_timing
from chaos.workload import make_children, split
from cohort.importer import normalise_phone
from contracts.nhs_number import is_valid_nhs_number
from notify_stub.faults import FaultPlan as StubFaultPlan

pytestmark = pytest.mark.unit

TARGETS = ["sessions", "cohort", "consent", "notify-1", "notify-2"]


def test_the_plan_kills_every_process_and_restarts_each_server_once_inside_the_window() -> None:
    plan = plan_faults(random.Random(7), targets=TARGETS, kills=21, start=2.0, end=400.0)
    kinds = Counter(f.kind for f in plan)
    assert kinds == {FaultKind.KILL: 21, FaultKind.RABBITMQ_RESTART: 1, FaultKind.POSTGRES_RESTART: 1}
    victims = Counter(f.target for f in plan if f.kind is FaultKind.KILL)
    assert set(victims) == set(TARGETS)
    assert max(victims.values()) - min(victims.values()) <= 1
    assert all(2.0 <= f.at <= 400.0 for f in plan)
    assert [f.at for f in plan] == sorted(f.at for f in plan)


def test_the_plan_is_reproducible_from_its_seed() -> None:
    assert plan_faults(random.Random(3), targets=TARGETS, kills=6, start=0, end=60) == plan_faults(
        random.Random(3), targets=TARGETS, kills=6, start=0, end=60
    )


def test_too_few_kills_to_reach_every_process_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot reach"):
        plan_faults(random.Random(1), targets=TARGETS, kills=4, start=0, end=10)


def test_provider_fault_mix_and_counts_use_the_stubs_names() -> None:
    request = provider_faults(0.1, timeout_seconds=11, late_seconds=20)
    kinds = request["probabilistic"]["kinds"]
    assert [k if isinstance(k, str) else k["kind"] for k in kinds] == list(PROVIDER_FAULT_KINDS)
    counts = provider_fault_counts({"fault_500": 3, "fault_timeout": 1, "fault_accept_after_give_up": 2})
    assert counts == {
        "500": 3, "429": 0, "timeout": 1, "accept_then_drop": 0, "accept_then_500": 0, "accept_after_give_up": 2
    }  # fmt: skip


def test_the_stub_takes_the_fault_mix_with_late_acceptances_after_the_client_gave_up() -> None:
    plan = StubFaultPlan(seed=1)
    plan.configure(provider_faults(1.0, timeout_seconds=11, late_seconds=20))
    faults = {str(f["kind"]): f["seconds"] for f in plan.snapshot()["probabilistic"]["kinds"]}
    assert faults["accept_after_give_up"] == 20 and faults["timeout"] == 11


def test_quick_runs_keep_late_acceptances_short_and_inside_notifys_in_flight_bound() -> None:
    quick, full = (parser("x", "x", quick="", results="r").parse_args(a) for a in (["--quick"], []))
    assert provider_timing(quick) == (5.0, 10.0) and provider_timing(full) == (20.0, 30.0)
    with pytest.raises(SystemExit):
        provider_timing(parser("x", "x", quick="", results="r").parse_args(["--provider-late-seconds", "40"]))


def test_missing_fault_kinds_names_what_was_not_injected() -> None:
    missing = missing_fault_kinds(
        kills={"cohort": 2}, targets=["cohort", "notify-1"], restarts={"rabbitmq": 1}, provider={"500": 1, "429": 0}
    )
    assert missing == ["kill notify-1", "postgres restart", "provider 429"]


def test_children_have_valid_unique_nhs_numbers_and_unique_contacts_the_importer_accepts() -> None:
    children = make_children(2500, run="abc", nhs_start=99_997_500)
    assert len({c.nhs for c in children}) == 2500
    assert all(is_valid_nhs_number(c.nhs) for c in children[:500])
    assert len({c.email for c in children}) == len({c.phone for c in children}) == 2500
    assert all(normalise_phone(c.phone) == c.phone for c in children[:500])
    assert [c.nhs for c in make_children(3, run="x", nhs_start=0)] == [
        c.nhs for c in make_children(3, run="y", nhs_start=0)
    ]
    with pytest.raises(ValueError):
        make_children(10, run="abc", nhs_start=99_999_995)  # the seeds would run past 10**8 and repeat


def test_imports_split_the_children_in_order_and_nearly_evenly() -> None:
    children = make_children(10, run="abc", nhs_start=1)
    parts = split(children, 3)
    assert [len(p) for p in parts] == [4, 3, 3]
    assert [c for p in parts for c in p] == children


def test_dead_letter_check_accepts_only_the_by_design_messages() -> None:
    malformed = malformed_messages()
    expected = expected_dead_letters(malformed)
    fanned_out: Malformed = malformed[2]
    assert len(fanned_out.dead_letter_queues) == 3  # TeamUpdated reaches cohort, consent and notify
    found = {q: [{"message_id": i, "reason": "invalid"} for i in ids] for q, ids in expected.items()}
    assert judge_dead_letters(found, expected) == []
    queue = next(iter(expected))
    found[queue].append({"message_id": "a-real-message", "reason": "boom"})
    other = next(q for q in expected if q != queue)
    found[other] = []
    problems = judge_dead_letters(found, expected)
    assert any("unexpected dead letter a-real-message" in p for p in problems)
    assert any(p.startswith(f"{other}: by-design message") for p in problems)
