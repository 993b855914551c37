"""Stub building blocks: fault plans, the rolling rate limit, counters and request validation."""

from __future__ import annotations

import time

import jwt
import pytest

from notify_stub.checks import AuthFailure, TokenVerifier, valid_phone, validate_send
from notify_stub.faults import Fault, FaultKind, FaultPlan, RequestStats, RollingLimit
from notify_stub.server import make_api_key

pytestmark = pytest.mark.unit

TEMPLATE_ID = "626080e2-a56c-48e4-b612-4da628a23c5b"


def test_queued_faults_come_first_then_none() -> None:
    plan = FaultPlan()
    plan.configure(["500", {"kind": "timeout", "seconds": 2}, {"kind": "429", "count": 2, "retry_after": 1}])
    kinds = [plan.next() for _ in range(5)]
    assert kinds == [
        Fault(FaultKind.ERROR_500),
        Fault(FaultKind.TIMEOUT, seconds=2),
        Fault(FaultKind.ERROR_429, retry_after=1),
        Fault(FaultKind.ERROR_429, retry_after=1),
        None,
    ]


def test_probabilistic_mode_hits_about_its_rate() -> None:
    plan = FaultPlan(seed=7)
    plan.configure({"probabilistic": {"rate": 0.1, "kinds": ["500", "accept_then_drop"]}})
    faults = [plan.next() for _ in range(10_000)]
    hits = [f for f in faults if f is not None]
    assert 800 < len(hits) < 1200
    assert {f.kind for f in hits} == {FaultKind.ERROR_500, FaultKind.ACCEPT_THEN_DROP}
    plan.configure({"probabilistic": None})
    assert plan.next() is None


@pytest.mark.parametrize(
    "payload", [{"faults": [{"kind": "nope"}]}, {"probabilistic": {"rate": 2, "kinds": ["500"]}}, 3]
)
def test_malformed_fault_requests_are_refused(payload: object) -> None:
    with pytest.raises(ValueError):
        FaultPlan().configure(payload)


def test_rolling_limit_never_exceeds_per_minute_in_any_window() -> None:
    limit = RollingLimit(3)
    assert [limit.try_acquire(t) for t in (0.0, 1.0, 2.0, 59.9)] == [True, True, True, False]
    assert limit.try_acquire(60.0)  # the acquisition at 0.0 has left the window
    assert not limit.try_acquire(60.5)


def test_stats_count_per_second_and_best_minute() -> None:
    stats = RequestStats()
    for second in range(120):
        stats.received(1_000 + second)
        stats.accepted(1_000 + second)
    stats.received(1_119.5)
    snapshot = stats.snapshot()
    assert snapshot["max_received_per_second"] == 2
    assert snapshot["max_accepted_per_60s"] == 60


def test_token_verifier_checks_issuer_signature_and_clock() -> None:
    key = make_api_key()
    verifier = TokenVerifier(key)
    service_id, secret = key[-73:-37], key[-36:]
    now = int(time.time())

    def bearer(iss: str = service_id, iat: int = now, signing_key: str = secret) -> str:
        return "Bearer " + jwt.encode({"iss": iss, "iat": iat}, signing_key, algorithm="HS256")

    verifier.check(bearer())
    cases = {
        None: 401,
        "Basic abc": 401,
        bearer(iss="someone-else"): 403,
        bearer(signing_key="another-secret-long-enough-for-hs256-keys"): 403,
        bearer(iat=now - 31): 403,
        bearer(iat=now + 31): 403,
    }
    for header, status in cases.items():
        with pytest.raises(AuthFailure) as raised:
            verifier.check(header)
        assert raised.value.status == status


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("07700 900123", True),
        ("+44 7700 900123", True),
        ("0044 (7700) 900-123", True),
        ("07700 90012", False),
        ("01234 567890", False),
        ("+1 202 555 0143", True),
        ("call me", False),
    ],
)
def test_phone_numbers_must_be_plausible(number: str, ok: bool) -> None:
    assert valid_phone(number) is ok


def test_send_validation_reports_every_problem() -> None:
    errors = validate_send("email", {"template_id": "nope", "personalisation": [], "colour": "red"})
    assert errors == [
        "email_address is a required property",
        "Additional properties are not allowed (colour was unexpected)",
        "template_id is not a valid UUID",
        "personalisation is not of type object",
    ]
    assert validate_send("sms", {"phone_number": "07700900123", "template_id": TEMPLATE_ID}) == []
