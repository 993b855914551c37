"""Cohort import use cases: stage validated chunks, then commit all rows or none."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cohort.domain import programmes_or_default
from cohort.ids import time_ordered_uuid
from cohort.import_repository import ImportJoins
from cohort.import_rules import ABANDON_AFTER, ImportPlan, ImportStatus, RowOutcome
from cohort.importer import RowError, validate_rows
from cohort.uow import CohortUnitOfWork
from contracts.cohort import (
    ChildrenJoinedClinicCohort,
    ChildrenUpserted,
    CommitCohortImport,
    ImportCohortChunk,
    InviteToClinic,
)
from contracts.common import MAX_BATCH
from contracts.envelope import Reply
from msgkit.clock import academic_year_of, london_date
from msgkit.outbox import OutboxRow, spliced_row

log = logging.getLogger(__name__)


def _errors(errors: Sequence[RowError]) -> list[dict[str, object]]:
    return [{"row": e.row, "column": e.column, "message": e.message} for e in errors]


def _chunk_reply(accepted: int, errors: Sequence[RowError]) -> Reply:
    return Reply.success({"accepted": accepted, "errors": _errors(errors)})


def _other_team() -> Reply:
    return Reply.failure("invalid_request", "This import was started for another team")


def _closed(status: ImportStatus) -> Reply:
    if status in (ImportStatus.REJECTED, ImportStatus.ABANDONED):
        return Reply.failure("import_closed", f"This import was {status.value}; start a new one")
    return Reply.failure("already_committed", "This import has been committed; start a new one")


async def stage_chunk(command: ImportCohortChunk, uow: CohortUnitOfWork, now: datetime) -> Reply:
    """Validate a chunk's rows and stage them; a repeated (import, sequence) returns the first answer."""
    async with uow:
        await uow.imports.plan_for_growth()
        state = await uow.imports.open(command.import_id, command.team_ods, at=now)
        if state.team_ods != command.team_ods:
            return _other_team()
        if (previous := await uow.imports.chunk(command.import_id, command.sequence)) is not None:
            return _chunk_reply(*previous)
        if state.status is not ImportStatus.STAGING:
            return _closed(state.status)
        checked = validate_rows(command.header, command.rows, today=london_date(now), first=command.sequence == 0)
        # Ids for children the commit may find new: time-ordered, so a bulk import appends to their indexes.
        rows = [(row, time_ordered_uuid()) for row in checked.rows]
        await uow.imports.stage(command.import_id, command.team_ods, command.sequence, rows, checked.errors)
        await uow.commit()
        return _chunk_reply(len(checked.rows), checked.errors)


async def commit_import(command: CommitCohortImport, uow: CohortUnitOfWork, now: datetime) -> Reply:
    """Apply a staged import, or refuse it whole with every error.

    One transaction checks and classifies every row, then each batch of MAX_BATCH rows commits on its own
    with the import's progress, so its messages flow to notify while the rest is applied, and a redelivered
    commit resumes where the last one stopped instead of doing anything twice.
    """
    started = await _start(command, uow, now)
    if isinstance(started, Reply):
        return started
    while await _apply_next_batch(command, uow):
        pass
    return await _finish(command, uow)


async def _start(command: CommitCohortImport, uow: CohortUnitOfWork, now: datetime) -> Reply | None:
    """Check and classify every row in one transaction, or refuse the import (deleting what it staged)."""
    async with uow:
        state = await uow.imports.state(command.import_id)
        if state is not None and state.status is ImportStatus.STAGING:
            await uow.imports.checks.analyse()  # on its own: ANALYZE holds a lock other imports wait for
            await uow.commit()
    async with uow:
        await uow.imports.plan_for_growth()
        state = await uow.imports.state(command.import_id, for_update=True)
        if state is None:
            return Reply.failure("not_found", "Nothing was staged for this import")
        if state.team_ods != command.team_ods:
            return _other_team()
        if state.status is not ImportStatus.STAGING:
            return _answered_before(state.status, state.result)
        plan = await _plan(command, uow, now)
        checks = uow.imports.checks
        errors = await checks.errors(command.import_id, plan) or await checks.match(command.import_id, command.team_ods)
        if errors:
            return await _reject(command, uow, errors)
        held = await checks.classify(command.import_id, command.team_ods)
        await uow.imports.start_applying(command.import_id, plan)
        await uow.commit()
        if held:
            log.info("cohort import rows held for review", extra={"import_id": str(command.import_id), "held": held})
        return None


def _answered_before(status: ImportStatus, result: dict[str, Any] | None) -> Reply | None:
    """A redelivered commit: the same answer, nothing done twice (None: go on applying)."""
    if status is ImportStatus.APPLYING:
        return None
    if status is ImportStatus.COMMITTED:
        return Reply.success(result)
    if status is ImportStatus.REJECTED and result is not None:
        return Reply.model_validate(result)
    return _closed(status)


async def _reject(command: CommitCohortImport, uow: CohortUnitOfWork, errors: Sequence[RowError]) -> Reply:
    message = f"The file has {len(errors)} error(s), so nothing was imported"
    reply = Reply.failure("invalid_file", message, _errors(errors))
    await uow.imports.reject(command.import_id, reply.model_dump(mode="json"))
    await uow.commit()
    return reply


async def _plan(command: CommitCohortImport, uow: CohortUnitOfWork, now: datetime) -> ImportPlan:
    today = london_date(now)
    team_programmes = await uow.children.team_programmes(command.team_ods)
    return ImportPlan(
        programmes=programmes_or_default(command.programmes, team_programmes),
        academic_year=command.academic_year or academic_year_of(today),
        joined_on=today,
    )


async def _apply_next_batch(command: CommitCohortImport, uow: CohortUnitOfWork) -> bool:
    """Upsert the next MAX_BATCH rows' children and memberships, and publish; False when none are left."""
    async with uow:
        await uow.imports.plan_for_growth()
        state = await uow.imports.state(command.import_id, for_update=True)  # one applier at a time
        if state is None or state.status is not ImportStatus.APPLYING or state.plan is None:
            return False
        batch = await uow.imports.next_batch(command.import_id, after=state.applied_through, size=MAX_BATCH)
        if batch is None:
            return False
        lo, hi = batch
        snapshots = await uow.imports.apply(command.import_id, command.team_ods, lo, hi)
        joins = await uow.imports.join(
            command.import_id, team_ods=command.team_ods, lo=lo, hi=hi, plan=state.plan, at=command.occurred_at
        )
        await uow.publish_now(_messages(command, snapshots, joins))
        await uow.imports.applied(command.import_id, through=hi, joined=joins.count)
        await uow.commit()
        return True


def _messages(command: CommitCohortImport, snapshots: str | None, joins: ImportJoins) -> list[OutboxRow]:
    """ChildrenUpserted, then ChildrenJoinedClinicCohort and InviteToClinic (trigger automatic)."""
    tracing = command.caused_by(command)
    rows = [spliced_row(ChildrenUpserted, "children", snapshots, tracing=tracing)] if snapshots else []
    if joins.joins and joins.invitations:
        rows.append(spliced_row(ChildrenJoinedClinicCohort, "joins", joins.joins, tracing=tracing))
        rows.append(spliced_row(InviteToClinic, "invitations", joins.invitations, tracing=tracing))
    return rows


async def _finish(command: CommitCohortImport, uow: CohortUnitOfWork) -> Reply:
    async with uow:
        await uow.imports.plan_for_growth()
        state = await uow.imports.state(command.import_id, for_update=True)
        assert state is not None
        if state.status is ImportStatus.COMMITTED:
            return Reply.success(state.result)
        outcomes = await uow.imports.outcomes(command.import_id)
        result = {
            "children_created": outcomes.get(RowOutcome.CREATED, 0),
            "children_updated": outcomes.get(RowOutcome.UPDATED, 0),
            "unchanged": outcomes.get(RowOutcome.UNCHANGED, 0),
            "joined_clinic": state.joined,
            "needs_review": outcomes.get(RowOutcome.REVIEW, 0),
        }
        await uow.imports.finish(command.import_id, result)
        await uow.commit()
    log.info("cohort import committed", extra={"import_id": str(command.import_id), **result})
    return Reply.success(result)


async def resume_unfinished(uow: CohortUnitOfWork, now: datetime) -> int:
    """Finish commits that stopped part-way (run at start-up); applied batches are not applied again."""
    async with uow:
        unfinished = await uow.imports.unfinished()
    for import_id, team_ods in unfinished:
        log.warning("resuming an unfinished cohort import", extra={"import_id": str(import_id)})
        await commit_import(CommitCohortImport(import_id=import_id, team_ods=team_ods), uow, now)
    return len(unfinished)


async def abandon_stale_imports(uow: CohortUnitOfWork, now: datetime) -> int:
    """Imports staged but never committed within ABANDON_AFTER are abandoned and their rows deleted."""
    async with uow:
        abandoned = await uow.imports.abandon_stale(started_before=now - ABANDON_AFTER)
        await uow.commit()
    if abandoned:
        log.info("abandoned cohort imports deleted", extra={"imports": abandoned})
    return abandoned
