"""Online consent form rules without IO: links, matching keys, Mavis's multi-parent status, answers that fit."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from consent import links, matching
from consent.domain import ClinicWindow
from consent.form_rules import form_problem, from_contact, needs_triage, open_programmes
from consent.status import ConsentResponse, Response, Route, Status, agreed_methods, consent_status
from contracts.consent import ConsentFormAnswers

pytestmark = pytest.mark.unit

SECRETS = ("current-secret", "old-secret")


# --- links -------------------------------------------------------------------------------------


def test_a_request_link_round_trips_and_names_only_its_request() -> None:
    request_id = uuid.uuid4()
    token = links.sign(links.RequestLink(request_id), SECRETS)
    assert links.verify(token, SECRETS) == links.RequestLink(request_id)
    assert str(request_id) not in token and request_id.hex not in token


def test_a_team_link_round_trips() -> None:
    token = links.sign(links.TeamLink("RYG", 2025), SECRETS)
    assert links.verify(token, SECRETS) == links.TeamLink("RYG", 2025)


def test_a_link_signed_with_an_older_secret_is_accepted_until_it_is_dropped() -> None:
    token = links.sign(links.TeamLink("RYG", 2025), ("old-secret",))
    assert links.verify(token, SECRETS) == links.TeamLink("RYG", 2025)
    assert links.verify(token, ("current-secret",)) is None


@pytest.mark.parametrize("change", ["payload", "signature", "version", "truncate", "garbage"])
def test_a_tampered_link_is_refused(change: str) -> None:
    token = links.sign(links.RequestLink(uuid.uuid4()), SECRETS)
    version, payload, signature = token.split(".")
    other = links.sign(links.RequestLink(uuid.uuid4()), SECRETS).split(".")[1]
    tampered = {
        "payload": f"{version}.{other}.{signature}",
        "signature": f"{version}.{payload}.{signature[:-2]}AA",
        "version": f"c2.{payload}.{signature}",
        "truncate": token[:-5],
        "garbage": "c1.!!!.???",
    }[change]
    assert links.verify(tampered, SECRETS) is None


# --- matching keys -------------------------------------------------------------------------------

BORN = date(2016, 4, 2)


@pytest.mark.parametrize(
    ("typed", "held"),
    [
        (("O'Brien", "sw1a 1aa"), ("O’Brien", "SW1A 1AA")),
        (("o’brien", "SW1A1AA"), ("O'BRIEN", "SW1A 1AA")),
        (("  O'Brien ", " sw1a  1aa "), ("O‘Brien", "SW1A 1AA")),
    ],
)
def test_names_match_whatever_the_apostrophe_case_and_spacing(typed: tuple[str, str], held: tuple[str, str]) -> None:
    assert matching.child_key("Aoife", typed[0], BORN, typed[1]) == matching.child_key("AOIFE", held[0], BORN, held[1])


def test_a_different_birth_date_or_postcode_does_not_match() -> None:
    key = matching.child_key("Aoife", "O'Brien", BORN, "SW1A 1AA")
    assert key != matching.child_key("Aoife", "O'Brien", BORN + timedelta(days=1), "SW1A 1AA")
    assert key != matching.child_key("Aoife", "O'Brien", BORN, "SW1A 2AA")
    assert matching.child_key("Aoife", "O'Brien", BORN, None) is None


def test_contact_keys_ignore_case_and_phone_formatting() -> None:
    assert matching.email_key(" Mum@Example.com ") == matching.email_key("mum@example.com")
    assert matching.phone_key("+44 7700 900123") == matching.phone_key("07700900123")


# --- status from several parents (Mavis's rules) -------------------------------------------------

T0 = datetime(2026, 3, 1, 10, tzinfo=UTC)
MUM, DAD = uuid.uuid4(), uuid.uuid4()


def online(
    response: Response,
    parent: uuid.UUID | None = MUM,
    *,
    methods: tuple[str, ...] = ("nasal", "injection"),
    follow_up: bool = False,
    minutes: int = 0,
    route: Route = Route.WEBSITE,
) -> ConsentResponse:
    return ConsentResponse(
        consent_id=uuid.uuid4(),
        child_id=uuid.uuid4(),
        team_ods="RYG",
        programme="flu",
        academic_year=2025,
        response=response,
        route=route,
        parent_id=parent,
        recorded_by="x",
        recorded_at=T0 + timedelta(minutes=minutes),
        vaccine_methods=methods if response is Response.GIVEN else (),
        follow_up_requested=follow_up,
    )


G, R = Response.GIVEN, Response.REFUSED


@pytest.mark.parametrize(
    ("responses", "status"),
    [
        ([online(G, MUM), online(G, DAD, methods=("injection",))], Status.GIVEN),
        ([online(G, MUM, methods=("nasal",)), online(G, DAD, methods=("injection",))], Status.CONFLICTING),
        ([online(R, MUM), online(R, DAD)], Status.REFUSED),
        ([online(R, MUM, follow_up=True), online(R, DAD)], Status.CONFLICTING),
        ([online(R, MUM, follow_up=True)], Status.FOLLOW_UP_REQUESTED),
        ([online(R, MUM, follow_up=True), online(G, DAD)], Status.FOLLOW_UP_REQUESTED),
        ([online(G, MUM), online(R, DAD)], Status.CONFLICTING),
        ([online(R, MUM), online(G, MUM, minutes=5)], Status.GIVEN),
    ],
)
def test_status_follows_mavis(responses: list[ConsentResponse], status: Status) -> None:
    assert consent_status(responses) is status


def test_methods_in_common_are_what_was_agreed() -> None:
    assert agreed_methods([online(G, MUM), online(G, DAD, methods=("injection",))]) == ("injection",)
    assert agreed_methods([online(G, MUM), online(G, DAD, route=Route.PHONE, methods=())]) == ("nasal", "injection")


def test_a_later_staff_response_for_the_family_supersedes_the_parents_answers() -> None:
    conflict = [online(G, MUM), online(R, DAD)]
    settled = [*conflict, online(G, None, route=Route.PHONE, methods=(), minutes=10)]
    assert consent_status(conflict) is Status.CONFLICTING
    assert consent_status(settled) is Status.GIVEN


# --- answers that fit the link -------------------------------------------------------------------


def answers(**changes: object) -> ConsentFormAnswers:
    base: dict[str, object] = {
        "child_first_name": "Aoife",
        "child_last_name": "O’Brien",
        "child_date_of_birth": BORN,
        "education_setting": "home_educated",
        "parent_name": "Siobhan O’Brien",
        "relationship": "mum",
        "email": "mum@example.com",
        "phone": "07700900123",
        "answers": [{"programme": "flu", "response": "given", "vaccine_methods": ["nasal", "injection"]}],
    }
    return ConsentFormAnswers.model_validate({**base, **changes})


def test_answers_for_the_links_programmes_fit() -> None:
    assert form_problem(answers(), ["flu"]) is None


@pytest.mark.parametrize(
    "changes",
    [
        {"answers": [{"programme": "hpv", "response": "given", "vaccine_methods": ["injection"]}]},
        {"answers": [{"programme": "flu", "response": "given"}]},
        {"answers": [{"programme": "flu", "response": "refused"}]},
        {"relationship": "other", "parental_responsibility": False},
        {
            "answers": [
                {
                    "programme": "flu",
                    "response": "given",
                    "vaccine_methods": ["nasal"],
                    "health_answers": [{"question_id": "made_up", "question": "?", "answer": False}],
                }
            ]
        },
    ],
)
def test_answers_that_do_not_fit_are_refused(changes: dict[str, object]) -> None:
    assert form_problem(answers(**changes), ["flu"]) is not None


def test_any_health_yes_on_a_consent_needs_triage() -> None:
    health = [{"question_id": "asthma", "question": "Asthma?", "answer": True, "details": "mild"}]
    given = {"programme": "flu", "response": "given", "vaccine_methods": ["nasal"], "health_answers": health}
    assert needs_triage(answers(answers=[given]))
    assert not needs_triage(answers())


def test_a_response_from_a_parent_on_record_is_theirs() -> None:
    keys = [(MUM, matching.email_key("other@example.com"), matching.phone_key("07700 900123"))]
    assert from_contact(answers(), keys) == MUM
    assert from_contact(answers(phone=None), keys) is None


def test_a_link_is_open_until_the_day_before_the_last_clinic_date() -> None:
    windows = [ClinicWindow(frozenset({"flu"}), date(2026, 3, 20))]
    assert open_programmes(windows, ["flu", "hpv"], date(2026, 3, 20)) is not None
    assert open_programmes(windows, ["flu"], date(2026, 3, 21)) is None


def test_a_school_urn_goes_with_the_school_setting() -> None:
    assert form_problem(answers(education_setting="school"), ["flu"]) is not None
    assert form_problem(answers(education_setting="school", school_urn="100001"), ["flu"]) is None
    assert form_problem(answers(school_urn="100001"), ["flu"]) is not None


@pytest.mark.parametrize("typed", ["07700 900123", "+44 7700 900123", "0044 7700 900123", "+44 (0)7700 900123"])
def test_a_uk_mobile_has_one_key_however_it_is_written(typed: str) -> None:
    assert matching.national_digits(typed) == "07700900123"
    assert matching.phone_key(typed) == matching.phone_key("07700900123")
