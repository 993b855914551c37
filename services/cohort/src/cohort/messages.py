"""Outgoing messages built from cohort state, in batches of at most MAX_BATCH items."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

from cohort.domain import Child, CohortYear, Invitation, Join
from contracts.cohort import (
    ChildrenJoinedClinicCohort,
    ChildrenUpserted,
    ChildSnapshot,
    CohortJoin,
    InvitationRequest,
    InviteToClinic,
    ParentContact,
)
from contracts.common import MAX_BATCH, Programme
from contracts.envelope import Message

T = TypeVar("T")


def batched(items: Sequence[T], size: int = MAX_BATCH) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def snapshot(child: Child) -> ChildSnapshot:
    return ChildSnapshot(
        child_id=child.id,
        team_ods=child.team_ods,
        nhs_number=child.nhs_number,
        first_name=child.first_name,
        last_name=child.last_name,
        date_of_birth=child.date_of_birth,
        school_urn=child.school_urn,
        postcode=child.postcode or None,
        deceased=child.flags.deceased,
        restricted=child.flags.restricted,
        invalidated=child.flags.invalidated,
        archived=child.flags.archived,
        parents=[
            ParentContact(parent_id=p.parent_id, name=p.name, relationship=p.relationship, email=p.email, phone=p.phone)
            for p in child.parents
        ],
    )


def children_upserted(children: Sequence[Child], *, cause: Message) -> list[Message]:
    return [
        ChildrenUpserted(children=[snapshot(c) for c in batch], **cause.caused_by(cause)) for batch in batched(children)
    ]


def _join(join: Join, cohort: CohortYear) -> CohortJoin:
    return CohortJoin(
        child_id=join.child_id,
        team_ods=cohort.team_ods,
        programmes=[Programme(p) for p in join.programmes],
        academic_year=cohort.academic_year,
        joined_on=cohort.joined_on,
        reason=join.reason,
    )


def _request(invitation: Invitation, cohort: CohortYear) -> InvitationRequest:
    return InvitationRequest(
        child_id=invitation.child_id,
        team_ods=cohort.team_ods,
        programmes=[Programme(p) for p in invitation.programmes],
        academic_year=cohort.academic_year,
        trigger=invitation.trigger,
        kind=invitation.kind,
        reason=invitation.reason,
        requested_by=invitation.requested_by,
    )


def joined_and_invited(
    joins: Sequence[Join], invitations: Sequence[Invitation], cohort: CohortYear, *, cause: Message
) -> list[Message]:
    """`ChildrenJoinedClinicCohort` for the joins, then `InviteToClinic` for the invitations."""
    tracing = cause.caused_by(cause)
    messages: list[Message] = [
        ChildrenJoinedClinicCohort(joins=[_join(j, cohort) for j in batch], **tracing) for batch in batched(joins)
    ]
    messages += [
        InviteToClinic(invitations=[_request(i, cohort) for i in batch], **tracing) for batch in batched(invitations)
    ]
    return messages
