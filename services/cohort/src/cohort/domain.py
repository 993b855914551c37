"""Cohort rules: who may join a clinic cohort, for which programmes, and who a bulk send leaves out."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from types import MappingProxyType

# The contract's vocabularies are the domain's: one list each of join reasons, triggers and kinds.
from contracts.cohort import InvitationKind as InvitationKind
from contracts.cohort import InvitationTrigger
from contracts.cohort import JoinReason as JoinReason
from contracts.common import URN_HOME_EDUCATED, URN_UNKNOWN_SCHOOL, Channel, Programme, programmes_for, year_group
from contracts.phone import PhoneKind, parse_uk_phone
from contracts.sessions import NotVaccinatedReason, VaccinationOutcome

Trigger = InvitationTrigger
DEFAULT_PROGRAMMES: tuple[str, ...] = (Programme.FLU.value,)
# The schools whose children join the clinic cohort by themselves, and why (import_sql renders it).
SCHOOL_JOIN_REASONS: Mapping[str, JoinReason] = MappingProxyType(
    {URN_UNKNOWN_SCHOOL: JoinReason.UNKNOWN_SCHOOL, URN_HOME_EDUCATED: JoinReason.HOME_EDUCATED}
)


class LeftOutReason(StrEnum):
    VACCINATED = "vaccinated"
    CONSENT_REFUSED = "consent_refused"
    NOT_IN_YEAR_GROUPS = "not_in_year_groups"
    ALREADY_INVITED = "already_invited"
    NOT_CONTACTABLE = "not_contactable"
    DO_NOT_CONTACT = "do_not_contact"


# Restricted and invalidated children still join (notify cancels their messages); these never do.
NEVER_JOIN = ("deceased", "archived")
DO_NOT_CONTACT = ("deceased", "restricted", "invalidated", "archived")


@dataclass(frozen=True, slots=True)
class ChildFlags:
    """The do-not-contact flags of a child; any of them set means no message may go to the parents."""

    deceased: bool = False
    restricted: bool = False
    invalidated: bool = False
    archived: bool = False

    @property
    def do_not_contact(self) -> bool:
        return any(getattr(self, flag) for flag in DO_NOT_CONTACT)

    @property
    def may_join(self) -> bool:
        return not any(getattr(self, flag) for flag in NEVER_JOIN)

    def changed(
        self,
        *,
        deceased: bool | None = None,
        restricted: bool | None = None,
        invalidated: bool | None = None,
        archived: bool | None = None,
    ) -> ChildFlags:
        """These flags with the given ones set (None leaves a flag as it is)."""
        return replace(
            self,
            deceased=self.deceased if deceased is None else deceased,
            restricted=self.restricted if restricted is None else restricted,
            invalidated=self.invalidated if invalidated is None else invalidated,
            archived=self.archived if archived is None else archived,
        )


@dataclass(frozen=True, slots=True)
class Parent:
    """A parent or carer of a child, as the cohort import or staff gave them."""

    parent_id: uuid.UUID
    name: str | None = None
    relationship: str | None = None
    email: str | None = None
    phone: str | None = None

    @property
    def channels(self) -> tuple[Channel, ...]:
        return channels_of(self.email, self.phone)

    @property
    def contactable(self) -> bool:
        return bool(self.channels)


def channels_of(email: object, phone: object) -> tuple[Channel, ...]:
    """How an invitation can reach a parent: email to an address, a text only to a mobile (a landline never
    gets one: GOV.UK Notify refuses it), classified by `contracts.phone` as notify does."""
    parsed = parse_uk_phone(phone) if isinstance(phone, str) and phone else None
    mobile = parsed is not None and parsed[1] is PhoneKind.MOBILE
    return (*([Channel.EMAIL] if email else []), *([Channel.SMS] if mobile else []))


def parents_contactable(parents: Iterable[Mapping[str, object]]) -> bool:
    """Whether any of these parents, as stored ({email, phone, ...}), can be sent an invitation."""
    return any(channels_of(p.get("email"), p.get("phone")) for p in parents)


@dataclass(slots=True)
class Child:
    """A child of a team's cohort."""

    id: uuid.UUID
    team_ods: str
    first_name: str
    last_name: str
    date_of_birth: date
    school_urn: str
    postcode: str = ""
    nhs_number: str | None = None
    year_group: int | None = None
    flags: ChildFlags = ChildFlags()
    parents: list[Parent] = field(default_factory=list)

    @property
    def contactable(self) -> bool:
        return any(p.contactable for p in self.parents)


@dataclass(frozen=True, slots=True)
class CohortYear:
    """A team's clinic cohort for one academic year, and the day children join it."""

    team_ods: str
    academic_year: int
    joined_on: date


@dataclass(frozen=True, slots=True)
class Join:
    """A child joining a team's clinic cohort for some programmes of a year."""

    child_id: uuid.UUID
    programmes: tuple[str, ...]
    reason: JoinReason


@dataclass(frozen=True, slots=True)
class Invitation:
    """What notify is asked to schedule for one child."""

    child_id: uuid.UUID
    programmes: tuple[str, ...]
    reason: JoinReason
    trigger: Trigger
    kind: InvitationKind = InvitationKind.INITIAL
    requested_by: str | None = None


def reason_for_school(school_urn: str) -> JoinReason | None:
    """The reason a child of this school joins the clinic cohort by itself, or None for a real school."""
    return SCHOOL_JOIN_REASONS.get(school_urn)


# A programme is done when it was given, or had elsewhere; a seasonal one only for the academic year it
# was given in, the others for life (copies_sql renders it; migration 0004's triggers keep a copy).
DONE_OUTCOMES = frozenset({VaccinationOutcome.VACCINATED.value})
DONE_REASONS = frozenset({NotVaccinatedReason.ALREADY_HAD.value})
SEASONAL_PROGRAMMES = frozenset({Programme.FLU.value})


def programme_done(*, programme: str, outcome: str, reason: str | None, given_in: int, academic_year: int) -> bool:
    """Whether a vaccination record (given in academic year `given_in`) settles `programme` for `academic_year`."""
    done = outcome in DONE_OUTCOMES or reason in DONE_REASONS
    return done and (given_in == academic_year or programme not in SEASONAL_PROGRAMMES)


def programmes_or_default(requested: Sequence[str] | None, team_programmes: Sequence[str] | None) -> tuple[str, ...]:
    """Explicit programmes, else the team's, else flu."""
    chosen = requested or team_programmes or DEFAULT_PROGRAMMES
    return tuple(dict.fromkeys(chosen))


def new_programmes(requested: Iterable[str], member_of: Iterable[str]) -> tuple[str, ...]:
    """The requested programmes the child is not yet a member for (joining twice is a no-op)."""
    already = set(member_of)
    return tuple(p for p in dict.fromkeys(requested) if p not in already)


def staff_invite(
    child_id: uuid.UUID, requested: Sequence[str], member_of: Iterable[str], *, requested_by: str
) -> tuple[Join | None, Invitation]:
    """*Invite to community clinic*: join what is new (initial), or an explicit repeat (subsequent)."""
    joining = new_programmes(requested, member_of)
    if joining:
        join = Join(child_id, joining, JoinReason.STAFF_INVITE)
        return join, Invitation(child_id, joining, JoinReason.STAFF_INVITE, Trigger.STAFF, requested_by=requested_by)
    repeat = Invitation(
        child_id, tuple(requested), JoinReason.STAFF_INVITE, Trigger.STAFF, InvitationKind.SUBSEQUENT, requested_by
    )
    return None, repeat


def invitation_for(join: Join, trigger: Trigger, requested_by: str | None = None) -> Invitation:
    return Invitation(join.child_id, join.programmes, join.reason, trigger, requested_by=requested_by)


# --- Send clinic invitations: who a closed school session invites ----------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """A child of a school session's school with what the selection needs to know about them."""

    child_id: uuid.UUID
    flags: ChildFlags
    contactable: bool
    vaccinated: frozenset[str] = frozenset()
    refused: frozenset[str] = frozenset()
    member_of: frozenset[str] = frozenset()
    # The child's year group in the session's academic year; None when unknown (every programme is offered).
    year_group: int | None = None


@dataclass(slots=True)
class Selection:
    """Who a bulk send makes join (with their programmes) and how many it leaves out, by reason.

    A child no parent of whom can be reached still joins (staff may phone them) but is counted
    "not contactable": no invitation can go to them.
    """

    invite: list[Join] = field(default_factory=list)
    left_out: dict[LeftOutReason, int] = field(default_factory=lambda: dict.fromkeys(LeftOutReason, 0))

    @property
    def will_invite(self) -> int:
        return len(self.invite) - self.left_out[LeftOutReason.NOT_CONTACTABLE]


def eligible_programmes(programmes: Sequence[str], group: int | None) -> tuple[str, ...]:
    """The programmes offered to a child of year group `group` (all of them when it is unknown)."""
    return tuple(dict.fromkeys(programmes)) if group is None else programmes_for(programmes, group)


def child_year_group(child: Child, academic_year: int) -> int:
    """The year group the import gave, else the one the child's date of birth puts them in."""
    return child.year_group if child.year_group is not None else year_group(child.date_of_birth, academic_year)


def left_out_reason(candidate: Candidate, programmes: Sequence[str]) -> LeftOutReason | tuple[str, ...]:
    """Why a child is left out, or the programmes they join for.

    Checks run in the order staff read them: do-not-contact, not in the programmes' year groups, nothing
    left to offer (vaccinated, or consent refused when nothing was vaccinated), already invited for what
    is left.
    """
    if candidate.flags.do_not_contact:
        return LeftOutReason.DO_NOT_CONTACT
    offered = eligible_programmes(programmes, candidate.year_group)
    if not offered:
        return LeftOutReason.NOT_IN_YEAR_GROUPS
    open_programmes = [p for p in offered if p not in candidate.vaccinated and p not in candidate.refused]
    if not open_programmes:
        vaccinated_any = any(p in candidate.vaccinated for p in offered)
        return LeftOutReason.VACCINATED if vaccinated_any else LeftOutReason.CONSENT_REFUSED
    inviting = new_programmes(open_programmes, candidate.member_of)
    return inviting or LeftOutReason.ALREADY_INVITED


def select_for_clinic(candidates: Iterable[Candidate], programmes: Sequence[str]) -> Selection:
    """The one selection both the preview and the close use, so their counts always agree."""
    selection = Selection()
    for candidate in candidates:
        outcome = left_out_reason(candidate, programmes)
        if isinstance(outcome, LeftOutReason):
            selection.left_out[outcome] += 1
            continue
        selection.invite.append(Join(candidate.child_id, outcome, JoinReason.SCHOOL_SESSION_CLOSED))
        if not candidate.contactable:
            selection.left_out[LeftOutReason.NOT_CONTACTABLE] += 1
    return selection


# --- Recipients in the activity log ----------------------------------------------------------

HIDDEN = "(hidden)"


def shown_recipient(recipient: str, *, restricted: bool) -> str:
    """A recipient as the activity log shows it: in full, so staff can tell a child's parents apart, or
    wholly hidden for a restricted child (SPEC 2.8)."""
    return HIDDEN if restricted else recipient
