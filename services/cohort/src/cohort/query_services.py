"""Read use cases: preview of a bulk send, clinic children, finding children, activity logs."""

from __future__ import annotations

from cohort import paging
from cohort.domain import select_for_clinic
from cohort.uow import CohortUnitOfWork
from contracts.cohort import FindChildren, GetActivityLog, ListClinicChildren, PreviewClinicInvitations
from contracts.envelope import Reply
from contracts.nhs_number import normalise_nhs_number


async def preview_invitations(query: PreviewClinicInvitations, uow: CohortUnitOfWork) -> Reply:
    """What closing the session would do now, by the same selection the close runs."""
    async with uow:
        session = await uow.copies.school_session(query.session_id)
        if session is None:
            return Reply.failure("not_found", "There is no school session with that id")
        selection = select_for_clinic(await uow.copies.candidates(session), session.programmes)
    left_out = {reason.value: count for reason, count in selection.left_out.items()}
    return Reply.success(
        {"session_id": str(query.session_id), "will_invite": selection.will_invite, "left_out": left_out}
    )


async def activity_log(query: GetActivityLog, uow: CohortUnitOfWork) -> Reply:
    async with uow:
        entries = await uow.queries.activity_log(query.child_id)
    if entries is None:
        return Reply.failure("not_found", "There is no child with that id")
    return Reply.success({"child_id": str(query.child_id), "entries": entries})


async def clinic_children(query: ListClinicChildren, uow: CohortUnitOfWork) -> Reply:
    after = None
    if query.after is not None:
        if query.page != 1:
            return Reply.failure("invalid_request", "Give either a page number or a cursor (after), not both")
        try:
            after = paging.decode(query.after)
        except paging.BadCursor:
            return Reply.failure(
                "invalid_request", "That cursor is not one a clinic children list gave; start again from page 1"
            )
    async with uow:
        total, items, last = await uow.queries.clinic_children(
            team_ods=query.team_ods,
            programme=query.programme.value,
            academic_year=query.academic_year,
            filter_=query.filter.value,
            page=query.page,
            page_size=query.page_size,
            after=after,
        )
    return Reply.success(
        {
            "total": total,
            "page": query.page,
            "page_size": query.page_size,
            "children": items,
            "after": query.after,
            "next_cursor": paging.encode(last) if last else None,
        }
    )


async def find_children(query: FindChildren, uow: CohortUnitOfWork) -> Reply:
    nhs_number = normalise_nhs_number(query.nhs_number or "") or None
    last_name = (query.last_name or "").strip() or None
    if nhs_number is None and last_name is None:
        return Reply.failure("invalid_request", "Give an NHS number or a last name to search by")
    async with uow:
        found = await uow.queries.find_children(team_ods=query.team_ods, nhs_number=nhs_number, last_name=last_name)
    return Reply.success({"children": found})
