"""The journey's rules and the answers' checks, without servers."""

from __future__ import annotations

from datetime import date

import pytest

from consent_form import fields, steps
from consent_form.fields import FieldError
from consent_form.security import RateLimit, client_address

from .fakes import flu, hpv, make_view

pytestmark = pytest.mark.unit


def test_a_refusal_for_a_reason_mavis_asks_about_adds_notes_and_a_follow_up() -> None:
    view = make_view(programmes=[flu(), hpv()])
    answers = {"response-flu": "no", "response-hpv": "yes", "refusal_reason": "medical_reasons"}

    asked = steps.steps_for(view, answers)

    assert asked[5:] == ["response-flu", "response-hpv", "reason", "reason-notes", "follow-up", "address", "health-hpv"]


@pytest.mark.parametrize(
    ("reason", "extra"),
    [
        ("contains_gelatine", ["follow-up"]),
        ("already_vaccinated", ["reason-notes"]),
        ("will_be_vaccinated_elsewhere", ["reason-notes"]),
        ("personal_choice", ["follow-up"]),
        ("other", ["reason-notes", "follow-up"]),
    ],
)
def test_each_reason_asks_what_mavis_asks(reason: str, extra: list[str]) -> None:
    asked = steps.steps_for(make_view(), {"response-flu": "no", "refusal_reason": reason})

    assert asked[asked.index("reason") + 1 :] == extra


def test_a_changed_answer_asks_the_new_questions_before_check_answers() -> None:
    view = make_view()
    answers: dict[str, object] = {"response-flu": "no", "refusal_reason": "personal_choice"}
    for step in steps.steps_for(view, answers):
        steps.mark_done(answers, step)
    assert steps.next_step(view, answers) == steps.CHECK

    answers["response-flu"] = "nasal"

    assert steps.next_step(view, answers) == "address"


@pytest.mark.parametrize(
    ("day", "month", "year", "error"),
    [
        ("", "", "", "Enter your child’s date of birth"),
        ("31", "2", "2015", "real date"),
        ("1", "1", "2030", "in the past"),
        ("a", "1", "2015", "real date"),
        ("1", "1", "1990", "under 22"),
    ],
)
def test_dates_of_birth_that_are_refused(day: str, month: str, year: str, error: str) -> None:
    with pytest.raises(FieldError, match=error):
        fields.date_of_birth(day, month, year, today=date(2026, 12, 7))


def test_postcodes_are_normalised_and_checked() -> None:
    assert fields.postcode(" ls1   4ap ") == "LS1 4AP"
    assert fields.postcode("sw1a1aa") == "SW1A 1AA"
    with pytest.raises(FieldError):
        fields.postcode("NOT A POSTCODE")


def test_the_rate_limit_counts_per_client_in_a_sliding_window() -> None:
    limit = RateLimit(2, window=60.0)

    assert limit.allow("a", now=0) and limit.allow("a", now=1) and not limit.allow("a", now=2)
    assert limit.allow("b", now=2)
    assert limit.allow("a", now=61)


def test_the_client_address_trusts_only_the_configured_proxies() -> None:
    scope = {"client": ("10.0.0.9", 1), "headers": [(b"x-forwarded-for", b"6.6.6.6, 203.0.113.7")]}

    assert client_address(scope, 0) == "10.0.0.9"
    assert client_address(scope, 1) == "203.0.113.7"
