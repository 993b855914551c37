"""Consent rules without IO: status from responses, the consent window, refusals and confirmations."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from consent.domain import (
    ALREADY_RESPONDED,
    DO_NOT_CONTACT,
    INVALID_ROUTE,
    NO_CONTACTABLE_PARENTS,
    NOT_FOUND,
    UNKNOWN_PARENT,
    WINDOW_CLOSED,
    Child,
    ClinicWindow,
    ConsentResponse,
    Membership,
    Parent,
    Refusal,
    RequestPlan,
    Response,
    Route,
    Status,
    check_staff_response,
    closing_day,
    confirmation_for,
    consent_status,
    implied_consent,
    merge_memberships,
    plan_consent_request,
    statuses_by_programme,
    window_closes_on,
)

pytestmark = pytest.mark.unit

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
MUM, DAD = uuid.uuid4(), uuid.uuid4()
CHILD = uuid.uuid4()


def make_response(
    response: Response = Response.GIVEN,
    *,
    parent_id: uuid.UUID | None = MUM,
    minutes: int = 0,
    programme: str = "flu",
    route: Route = Route.PHONE,
) -> ConsentResponse:
    return ConsentResponse(
        consent_id=uuid.uuid4(),
        child_id=CHILD,
        team_ods="RYG",
        programme=programme,
        academic_year=2025,
        response=response,
        route=route,
        parent_id=parent_id,
        recorded_by="nurse",
        recorded_at=T0 + timedelta(minutes=minutes),
    )


def make_parent(parent_id: uuid.UUID = MUM, *, email: bool = True, phone: bool = True, updates: bool = False) -> Parent:
    return Parent(parent_id, has_email=email, has_phone=phone, receive_updates=updates)


def make_child(*parents: Parent, team: str = "RYG", **flags: bool) -> Child:
    return Child(CHILD, team, parents=parents or (make_parent(),), **flags)


# --- status -------------------------------------------------------------------------------------


def test_no_responses_is_no_response() -> None:
    assert consent_status([]) is Status.NO_RESPONSE


@pytest.mark.parametrize(("response", "status"), [(Response.GIVEN, Status.GIVEN), (Response.REFUSED, Status.REFUSED)])
def test_one_parents_answer_is_the_status(response: Response, status: Status) -> None:
    assert consent_status([make_response(response)]) is status


def test_parents_who_disagree_are_conflicting() -> None:
    responses = [make_response(Response.GIVEN, parent_id=MUM), make_response(Response.REFUSED, parent_id=DAD)]
    assert consent_status(responses) is Status.CONFLICTING


def test_parents_who_agree_are_not_conflicting() -> None:
    responses = [make_response(Response.REFUSED, parent_id=MUM), make_response(Response.REFUSED, parent_id=DAD)]
    assert consent_status(responses) is Status.REFUSED


def test_a_parents_latest_answer_replaces_their_earlier_one() -> None:
    responses = [make_response(Response.REFUSED, minutes=0), make_response(Response.GIVEN, minutes=5)]
    assert consent_status(responses) is Status.GIVEN


def test_latest_is_by_time_recorded_not_by_arrival() -> None:
    responses = [make_response(Response.GIVEN, minutes=5), make_response(Response.REFUSED, minutes=0)]
    assert consent_status(responses) is Status.GIVEN


def test_withdrawn_after_given_counts_as_refused() -> None:
    responses = [make_response(Response.GIVEN, minutes=0), make_response(Response.WITHDRAWN, minutes=5)]
    assert consent_status(responses) is Status.REFUSED


def test_one_parent_withdrawing_while_the_other_consents_is_conflicting() -> None:
    responses = [
        make_response(Response.GIVEN, parent_id=MUM),
        make_response(Response.GIVEN, parent_id=DAD),
        make_response(Response.WITHDRAWN, parent_id=DAD, minutes=3),
    ]
    assert consent_status(responses) is Status.CONFLICTING


def test_a_parent_changing_their_mind_resolves_a_conflict() -> None:
    responses = [
        make_response(Response.GIVEN, parent_id=MUM),
        make_response(Response.REFUSED, parent_id=DAD),
        make_response(Response.GIVEN, parent_id=DAD, minutes=3),
    ]
    assert consent_status(responses) is Status.GIVEN


def test_responses_without_a_parent_count_as_one_respondent() -> None:
    responses = [
        make_response(Response.REFUSED, parent_id=None),
        make_response(Response.GIVEN, parent_id=None, minutes=1),
    ]
    assert consent_status(responses) is Status.GIVEN


def test_status_is_per_programme() -> None:
    responses = [make_response(Response.GIVEN, programme="flu"), make_response(Response.REFUSED, programme="hpv")]
    assert statuses_by_programme(responses, ["flu", "hpv", "mmr"]) == {
        "flu": Status.GIVEN,
        "hpv": Status.REFUSED,
        "mmr": Status.NO_RESPONSE,
    }


def test_implied_consent_is_given_in_person_and_its_id_follows_the_vaccination() -> None:
    record_id = uuid.uuid4()

    def implied() -> ConsentResponse:
        return implied_consent(
            record_id=record_id,
            child_id=CHILD,
            team_ods="RYG",
            programme="flu",
            academic_year=2025,
            recorded_by="nurse",
            performed_at=T0,
        )

    first, again = implied(), implied()
    assert first.consent_id == again.consent_id
    assert (first.response, first.route, first.parent_id) == (Response.GIVEN, Route.IN_PERSON_IMPLIED, None)


# --- consent window -----------------------------------------------------------------------------


def test_window_closes_the_day_before_the_last_clinic_date() -> None:
    assert window_closes_on(date(2026, 3, 20)) == date(2026, 3, 19)


def test_window_closing_day_announced_by_sessions_wins() -> None:
    assert window_closes_on(date(2026, 3, 20), date(2026, 3, 18)) == date(2026, 3, 18)


def test_no_clinic_dates_means_no_window() -> None:
    assert window_closes_on(None) is None


def test_closing_day_is_the_latest_of_the_clinics_offering_the_programme() -> None:
    windows = [
        ClinicWindow(frozenset({"flu"}), date(2026, 3, 1)),
        ClinicWindow(frozenset({"flu", "hpv"}), date(2026, 4, 1)),
        ClinicWindow(frozenset({"mmr"}), date(2026, 5, 1)),
        ClinicWindow(frozenset({"hpv"}), None),
    ]
    assert closing_day(windows, "flu") == date(2026, 4, 1)
    assert closing_day(windows, "td_ipv") is None


# --- send consent request -----------------------------------------------------------------------

OPEN = [ClinicWindow(frozenset({"flu", "hpv"}), date(2026, 3, 19))]


def plan(
    child: Child | None = None,
    *,
    statuses: dict[str, Status] | None = None,
    today: date = date(2026, 3, 18),
    windows: list[ClinicWindow] | None = None,
) -> RequestPlan | Refusal:
    return plan_consent_request(
        child=child if child is not None else make_child(),
        team_ods="RYG",
        statuses=statuses or {"flu": Status.NO_RESPONSE},
        windows=OPEN if windows is None else windows,
        today=today,
    )


def refusal_code(result: RequestPlan | Refusal) -> str:
    assert isinstance(result, Refusal), result
    return result.code


def test_request_is_planned_while_the_window_is_open() -> None:
    assert plan() == RequestPlan(programmes=("flu",), skipped={})


def test_window_is_open_on_its_closing_day_and_closed_after() -> None:
    assert isinstance(plan(today=date(2026, 3, 19)), RequestPlan)
    closed = plan(today=date(2026, 3, 20))
    assert refusal_code(closed) == WINDOW_CLOSED
    assert isinstance(closed, Refusal) and closed.message.endswith("the last day was 19 Mar 2026")


def test_no_clinic_dates_closes_the_window() -> None:
    result = plan(windows=[])
    assert refusal_code(result) == WINDOW_CLOSED
    assert isinstance(result, Refusal) and "no clinic dates" in result.message


def test_child_with_a_response_is_refused_as_already_responded() -> None:
    assert refusal_code(plan(statuses={"flu": Status.REFUSED})) == ALREADY_RESPONDED


def test_programmes_with_a_response_are_left_out_of_the_request() -> None:
    result = plan(statuses={"flu": Status.GIVEN, "hpv": Status.NO_RESPONSE})
    assert result == RequestPlan(programmes=("hpv",), skipped={"flu": Status.GIVEN})


def test_child_without_contactable_parents_is_refused() -> None:
    child = make_child(make_parent(email=False, phone=False))
    assert refusal_code(plan(child)) == NO_CONTACTABLE_PARENTS


@pytest.mark.parametrize("flag", ["deceased", "restricted", "invalidated", "archived"])
def test_do_not_contact_children_are_refused(flag: str) -> None:
    assert refusal_code(plan(make_child(make_parent(), **{flag: True}))) == DO_NOT_CONTACT


def test_unknown_child_or_another_teams_child_is_not_found() -> None:
    unknown = plan_consent_request(child=None, team_ods="RYG", statuses={}, windows=OPEN, today=T0.date())
    assert refusal_code(unknown) == NOT_FOUND
    assert refusal_code(plan(make_child(make_parent(), team="RT5"))) == NOT_FOUND


# --- record consent -----------------------------------------------------------------------------


@pytest.mark.parametrize("route", [Route.PHONE, Route.PAPER, Route.IN_PERSON])
def test_staff_record_by_phone_paper_or_in_person(route: Route) -> None:
    assert check_staff_response(child=make_child(), team_ods="RYG", route=route, parent_id=MUM) is None


@pytest.mark.parametrize("route", [Route.WEBSITE, Route.IN_PERSON_IMPLIED])
def test_staff_may_not_record_website_or_implied_routes(route: Route) -> None:
    refusal = check_staff_response(child=make_child(), team_ods="RYG", route=route, parent_id=None)
    assert refusal is not None and refusal.code == INVALID_ROUTE


def test_recording_for_a_parent_the_child_does_not_have_is_refused() -> None:
    refusal = check_staff_response(child=make_child(), team_ods="RYG", route=Route.PHONE, parent_id=DAD)
    assert refusal is not None and refusal.code == UNKNOWN_PARENT


def test_confirmation_is_emailed_and_texted_only_to_a_parent_who_opted_in() -> None:
    opted_in = make_child(make_parent(MUM, updates=True), make_parent(DAD))
    told = confirmation_for(opted_in, make_response(parent_id=MUM))
    assert told is not None and (told.parent_id, told.sms) == (MUM, True)
    not_opted = confirmation_for(opted_in, make_response(parent_id=DAD))
    assert not_opted is not None and (not_opted.parent_id, not_opted.sms) == (DAD, False)


def test_confirmation_without_a_named_parent_goes_to_the_only_parent() -> None:
    told = confirmation_for(make_child(make_parent(MUM, updates=True)), make_response(parent_id=None))
    assert told is not None and (told.parent_id, told.sms) == (MUM, True)


def test_confirmation_without_a_named_parent_of_several_is_email_to_all() -> None:
    told = confirmation_for(make_child(make_parent(MUM, updates=True), make_parent(DAD)), make_response(parent_id=None))
    assert told is not None and (told.parent_id, told.sms) == (None, False)


def test_no_confirmation_for_uncontactable_parent_or_deceased_child() -> None:
    assert confirmation_for(make_child(make_parent(email=False, phone=False)), make_response()) is None
    assert confirmation_for(make_child(make_parent(), deceased=True), make_response()) is None


def test_archived_child_still_gets_a_confirmation() -> None:
    assert confirmation_for(make_child(make_parent(), archived=True), make_response()) is not None


def test_joining_again_widens_a_membership_from_its_earliest_start() -> None:
    child = uuid.uuid4()
    joins = [
        Membership(child, "RYG", 2025, ("hpv",), date(2025, 10, 2)),
        Membership(child, "RYG", 2025, ("flu", "hpv"), date(2025, 10, 1)),
        Membership(child, "RYG", 2026, ("flu",), date(2026, 9, 1)),
    ]
    assert merge_memberships(joins) == [
        Membership(child, "RYG", 2025, ("flu", "hpv"), date(2025, 10, 1)),
        Membership(child, "RYG", 2026, ("flu",), date(2026, 9, 1)),
    ]
