"""Cohort rules without IO: who joins, initial or subsequent, the bulk-send selection, masking."""

from __future__ import annotations

import uuid

import pytest

from cohort.domain import (
    Candidate,
    ChildFlags,
    InvitationKind,
    JoinReason,
    LeftOutReason,
    Parent,
    Trigger,
    new_programmes,
    programme_done,
    programmes_or_default,
    reason_for_school,
    select_for_clinic,
    shown_recipient,
    staff_invite,
)
from cohort.ids import time_ordered_uuid
from contracts.common import URN_HOME_EDUCATED, URN_UNKNOWN_SCHOOL

pytestmark = pytest.mark.unit


def candidate(**overrides: object) -> Candidate:
    values: dict[str, object] = {"child_id": uuid.uuid4(), "flags": ChildFlags(), "contactable": True}
    values.update(overrides)
    return Candidate(**values)  # type: ignore[arg-type]


def test_unknown_and_home_educated_schools_join_and_real_schools_do_not() -> None:
    assert reason_for_school(URN_UNKNOWN_SCHOOL) is JoinReason.UNKNOWN_SCHOOL
    assert reason_for_school(URN_HOME_EDUCATED) is JoinReason.HOME_EDUCATED
    assert reason_for_school("100001") is None


@pytest.mark.parametrize(
    ("programme", "outcome", "reason", "given_in", "done"),
    [
        ("flu", "vaccinated", None, 2025, True),
        ("flu", "vaccinated", None, 2024, False),  # flu is seasonal
        ("hpv", "vaccinated", None, 2023, True),  # the others are for life
        ("hpv", "not_vaccinated", "already_had", 2020, True),
        ("flu", "not_vaccinated", "already_had", 2025, True),
        ("flu", "not_vaccinated", "unwell", 2025, False),
    ],
)
def test_a_programme_is_done_when_given_or_had_elsewhere_and_flu_only_for_its_year(
    programme: str, outcome: str, reason: str | None, given_in: int, done: bool
) -> None:
    settled = programme_done(programme=programme, outcome=outcome, reason=reason, given_in=given_in, academic_year=2025)
    assert settled is done


def test_programmes_default_to_the_teams_then_flu() -> None:
    assert programmes_or_default(["hpv"], ["flu", "mmr"]) == ("hpv",)
    assert programmes_or_default(None, ["flu", "mmr", "flu"]) == ("flu", "mmr")
    assert programmes_or_default(None, None) == ("flu",)


def test_joining_twice_is_a_no_op() -> None:
    assert new_programmes(["flu", "hpv"], {"flu"}) == ("hpv",)
    assert new_programmes(["flu"], {"flu"}) == ()


@pytest.mark.parametrize(
    ("flags", "may_join", "do_not_contact"),
    [
        (ChildFlags(), True, False),
        (ChildFlags(restricted=True), True, True),
        (ChildFlags(invalidated=True), True, True),
        (ChildFlags(archived=True), False, True),
        (ChildFlags(deceased=True), False, True),
    ],
)
def test_archived_and_deceased_never_join_and_all_four_flags_stop_messages(
    flags: ChildFlags, may_join: bool, do_not_contact: bool
) -> None:
    assert flags.may_join is may_join
    assert flags.do_not_contact is do_not_contact


def test_changing_flags_leaves_the_unnamed_ones_alone() -> None:
    flags = ChildFlags(restricted=True).changed(archived=True, restricted=None)
    assert flags == ChildFlags(restricted=True, archived=True)


def test_staff_invite_of_a_non_member_is_an_initial_join() -> None:
    child = uuid.uuid4()
    join, invitation = staff_invite(child, ("flu", "hpv"), {"flu"}, requested_by="Nurse Joy")
    assert join is not None and join.programmes == ("hpv",) and join.reason is JoinReason.STAFF_INVITE
    assert invitation.kind is InvitationKind.INITIAL and invitation.programmes == ("hpv",)
    assert invitation.trigger is Trigger.STAFF and invitation.requested_by == "Nurse Joy"


def test_staff_invite_of_a_member_is_an_explicit_subsequent_invitation() -> None:
    join, invitation = staff_invite(uuid.uuid4(), ("flu",), {"flu"}, requested_by="Nurse Joy")
    assert join is None
    assert invitation.kind is InvitationKind.SUBSEQUENT and invitation.programmes == ("flu",)


def test_selection_invites_only_open_programmes_and_counts_each_child_once() -> None:
    invited = candidate(vaccinated=frozenset({"flu"}))
    children = [
        invited,
        candidate(vaccinated=frozenset({"flu", "hpv"})),
        candidate(refused=frozenset({"flu", "hpv"})),
        candidate(vaccinated=frozenset({"flu"}), refused=frozenset({"hpv"})),
        candidate(member_of=frozenset({"hpv"}), vaccinated=frozenset({"flu"})),
        candidate(contactable=False),
        candidate(flags=ChildFlags(archived=True), contactable=False),
        candidate(flags=ChildFlags(restricted=True)),
    ]
    selection = select_for_clinic(children, ("flu", "hpv"))
    unreachable = children[5]
    # A child no parent of whom can be reached joins (staff may phone them) but is counted not contactable.
    assert [(j.child_id, j.programmes, j.reason) for j in selection.invite] == [
        (invited.child_id, ("hpv",), JoinReason.SCHOOL_SESSION_CLOSED),
        (unreachable.child_id, ("flu", "hpv"), JoinReason.SCHOOL_SESSION_CLOSED),
    ]
    assert selection.left_out == {
        LeftOutReason.VACCINATED: 2,
        LeftOutReason.CONSENT_REFUSED: 1,
        LeftOutReason.NOT_IN_YEAR_GROUPS: 0,
        LeftOutReason.ALREADY_INVITED: 1,
        LeftOutReason.NOT_CONTACTABLE: 1,
        LeftOutReason.DO_NOT_CONTACT: 2,
    }
    assert selection.will_invite + sum(selection.left_out.values()) == len(children)


def test_a_child_outside_the_programmes_year_groups_is_not_invited_for_it() -> None:
    year_7, year_9, unknown = candidate(year_group=7), candidate(year_group=9), candidate()
    selection = select_for_clinic([year_7, year_9, unknown], ("hpv",))
    assert [j.child_id for j in selection.invite] == [year_9.child_id, unknown.child_id]
    assert selection.left_out[LeftOutReason.NOT_IN_YEAR_GROUPS] == 1
    # Flu is offered from reception: a year 7 child is invited for flu only.
    both = select_for_clinic([year_7], ("flu", "hpv"))
    assert [j.programmes for j in both.invite] == [("flu",)]


@pytest.mark.parametrize(
    ("email", "phone", "channels"),
    [
        ("p@example.com", "07700 900982", ("email", "sms")),
        (None, "07700 900982", ("sms",)),
        ("p@example.com", "0113 496 0123", ("email",)),
        (None, "0113 496 0123", ()),  # a landline alone reaches nobody
        (None, None, ()),
    ],
)
def test_a_parent_is_reached_by_email_and_by_text_only_on_a_mobile(
    email: str | None, phone: str | None, channels: tuple[str, ...]
) -> None:
    parent = Parent(uuid.uuid4(), email=email, phone=phone)
    assert parent.channels == channels and parent.contactable == bool(channels)


def test_a_member_for_one_programme_is_invited_for_the_other() -> None:
    selection = select_for_clinic([candidate(member_of=frozenset({"flu"}))], ("flu", "hpv"))
    assert [j.programmes for j in selection.invite] == [("hpv",)]


def test_selection_after_the_joins_invites_nobody() -> None:
    children = [candidate(), candidate()]
    first = select_for_clinic(children, ("flu",))
    joined = [candidate(child_id=j.child_id, member_of=frozenset(j.programmes)) for j in first.invite]
    second = select_for_clinic(joined, ("flu",))
    assert first.will_invite == 2 and second.will_invite == 0
    assert second.left_out[LeftOutReason.ALREADY_INVITED] == 2


@pytest.mark.parametrize(
    ("recipient", "restricted", "shown"),
    [
        # In full, so staff can tell a child's two parents apart (issue 19 item 13).
        ("jane.doe@example.com", False, "jane.doe@example.com"),
        ("07412345678", False, "07412345678"),
        ("jane.doe@example.com", True, "(hidden)"),
        ("07412345678", True, "(hidden)"),
    ],
)
def test_recipients_are_shown_in_full_and_hidden_for_restricted_children(
    recipient: str, restricted: bool, shown: str
) -> None:
    assert shown_recipient(recipient, restricted=restricted) == shown


def test_bulk_ids_are_uuid7_and_sort_in_the_order_they_were_made() -> None:
    ids = [time_ordered_uuid() for _ in range(50)]
    assert all(i.version == 7 for i in ids)
    assert [i.bytes[:6] for i in ids] == sorted(i.bytes[:6] for i in ids)
