"""Cohort import use cases: stage validated chunks, then commit all rows or none."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from cohort.domain import programmes_or_default
from cohort.ids import time_ordered_uuid
from cohort.import_repository import ImportJoins
from cohort.import_rules import ImportPlan, ImportStatus, RowOutcome
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


async def stage_chunk(command: ImportCohortChunk, uow: CohortUnitOfWork, now: datetime) -> Reply:
    """Validate a chunk's rows and stage them; a repeated (import, sequence) returns the first answer."""
    async with uow:
        state = await uow.imports.open(command.import_id, command.team_ods)
        if state.team_ods != command.team_ods:
            return _other_team()
        if (previous := await uow.imports.chunk(command.import_id, command.sequence)) is not None:
            return _chunk_reply(*previous)
        if state.status is not ImportStatus.STAGING:
            return Reply.failure("already_committed", "This import has been committed; start a new one")
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
    async with uow:
        state = await uow.imports.state(command.import_id, for_update=True)
        if state is None:
            return Reply.failure("not_found", "Nothing was staged for this import")
        if state.team_ods != command.team_ods:
            return _other_team()
        if state.status is ImportStatus.COMMITTED:
            return Reply.success(state.result)  # a redelivered commit: the same answer, nothing done twice
        if state.status is ImportStatus.APPLYING:
            return None
        errors = await uow.imports.errors(command.import_id) or await uow.imports.match(
            command.import_id, command.team_ods
        )
        if errors:
            message = f"The file has {len(errors)} error(s), so nothing was imported"
            return Reply.failure("invalid_file", message, _errors(errors))
        await uow.imports.plan_for_growth()
        await uow.imports.classify(command.import_id)
        await uow.imports.start_applying(command.import_id, await _plan(command, uow, now))
        await uow.commit()
        return None


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
        state = await uow.imports.state(command.import_id, for_update=True)  # one applier at a time
        if state is None or state.status is not ImportStatus.APPLYING or state.plan is None:
            return False
        batch = await uow.imports.next_batch(command.import_id, after=state.applied_through, size=MAX_BATCH)
        if batch is None:
            return False
        lo, hi = batch
        await uow.imports.plan_for_growth()
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
