"""Staff review of cohort import rows held back: listing them side by side, and deciding each one.

A held row changed nothing and invited nobody; its decision does what the import would have done then:
*use the upload* updates the child, *keep both* adds the upload as a new child, and either joins the
clinic cohort (and is invited) when the school says so; *keep the existing record* discards the upload.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cohort import import_activity
from cohort.activity import Entry, source_key
from cohort.domain import Child, CohortYear, Join, Trigger, reason_for_school
from cohort.import_rules import COMPARED, HeldRow, MatchedOn, differences, rekeyed_parents, row_programmes
from cohort.messages import children_upserted
from cohort.services import join_and_invite
from cohort.uow import CohortUnitOfWork
from contracts.cohort import DecideImportReview, ListImportReviews, ReviewDecision
from contracts.envelope import Reply
from msgkit.clock import london_date


async def list_reviews(query: ListImportReviews, uow: CohortUnitOfWork) -> Reply:
    """A page of the import's held rows, each with the fields the upload would change."""
    async with uow:
        reviews = uow.imports.reviews
        total, undecided = await reviews.counts(query.import_id)
        page = await reviews.page(query.import_id, after_row=query.after_row, size=query.page_size + 1)
    more = len(page) > query.page_size
    page = page[: query.page_size]
    for held in page:
        held["differs"] = differences(held["uploaded"], held["existing"])
    data = {"import_id": str(query.import_id), "total": total, "undecided": undecided, "reviews": page}
    return Reply.success({**data, "next_after": page[-1]["row_number"] if more else None})


async def decide_review(command: DecideImportReview, uow: CohortUnitOfWork, now: datetime) -> Reply:
    """Apply staff's decision on one held row; a row is decided once (the same decision again is answered
    as before, another is refused)."""
    async with uow:
        if not await uow.claim(command):
            stored = await uow.replies.get(command.message_id)
            return Reply.model_validate(stored) if stored else Reply.success({"duplicate": True})
        held = await uow.imports.reviews.get(command.import_id, command.row_number, for_update=True)
        refusal = _refusal(held, command)
        if refusal is not None or held is None:
            return refusal or _not_found()
        child_id, joined = await _apply(command, held, uow, now)
        await uow.imports.reviews.decided(held, decision=command.decision, decided_by=command.decided_by, at=now)
        data = {
            "import_id": str(held.import_id),
            "row_number": held.row_number,
            "decision": command.decision.value,
            "child_id": str(child_id),
            "joined_clinic": joined,
        }
        reply = Reply.success(data)
        await uow.replies.add(command.message_id, reply.model_dump(mode="json"))
        await uow.commit()
        return reply


def _not_found() -> Reply:
    return Reply.failure("not_found", "That import holds no row of that number for review")


def _refusal(held: HeldRow | None, command: DecideImportReview) -> Reply | None:
    if held is None:
        return _not_found()
    if held.decision is not None:
        return Reply.failure(
            "already_decided", f"Row {held.row_number} was decided already ({held.decision}, by {held.decided_by})"
        )
    if command.decision is ReviewDecision.KEEP_BOTH and held.matched_on is MatchedOn.NHS_NUMBER:
        return Reply.failure(
            "invalid_request", "Keep both is for a possible duplicate: this row has the child's own NHS number"
        )
    return None


async def _apply(command: DecideImportReview, held: HeldRow, uow: CohortUnitOfWork, now: datetime) -> tuple[Any, bool]:
    """Write the decision; returns the child it leaves with the upload's details, and whether they joined."""
    reviews, existing = uow.imports.reviews, await uow.children.get(held.child_id, for_update=True)
    assert existing is not None  # children are never deleted
    changed = differences(held.details, _details(existing))
    entries = [_entry(command, held.child_id, import_activity.DECIDED, changed)]
    child: Child | None = None
    if command.decision is ReviewDecision.USE_UPLOAD:
        await reviews.use_upload(held)
        child = await uow.children.get(held.child_id)
    elif command.decision is ReviewDecision.KEEP_BOTH:
        await reviews.add_child(held, rekeyed_parents(held.team_ods, held.new_child_id, held.parents))
        child = await uow.children.get(held.new_child_id)
        kept = {"kept_beside": str(held.child_id)}
        entries.append(_entry(command, held.new_child_id, import_activity.CREATED, changed, extra=kept))
    await uow.activity.append(entries)
    if child is None:
        return held.child_id, False
    uow.publish(*children_upserted([child], cause=command))
    return child.id, await _join(command, held, child, uow, now)


def _details(child: Child) -> dict[str, Any]:
    return {name: getattr(child, name) for name in COMPARED}


def _entry(
    command: DecideImportReview, child_id: Any, kind: str, changed: list[str], extra: dict[str, Any] | None = None
) -> Entry:
    details = import_activity.decided_details(
        command.decision, command.decided_by, row_number=command.row_number, changed=changed
    )
    return Entry(
        child_id, command.occurred_at, kind, source_key(command.message_id, kind), {**details, **(extra or {})}
    )


async def _join(command: DecideImportReview, held: HeldRow, child: Child, uow: CohortUnitOfWork, now: datetime) -> bool:
    """As the import would have: a child of a clinic URN joins for the import's programmes of their year."""
    reason = reason_for_school(child.school_urn)
    plan = held.plan
    programmes = row_programmes(plan.programmes, child.year_group, child.date_of_birth, plan.academic_year)
    if reason is None or not child.flags.may_join or not programmes:
        return False
    cohort = CohortYear(child.team_ods, plan.academic_year, london_date(now))
    joined = await join_and_invite(
        uow, [Join(child.id, programmes, reason)], cohort, trigger=Trigger.AUTOMATIC, requested_by=None, cause=command
    )
    return bool(joined)
