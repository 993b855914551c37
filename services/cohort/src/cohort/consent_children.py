"""Children added from an online consent response (consent's AddChildFromConsentResponse, issue 20).

Staff found no child of the team for a parent's online response and asked for one to be added: the child
joins the team's clinic cohort for the response's programmes (those of its year group), with the responding
parent as their contact, and ChildrenUpserted tells consent, which then matches the response to them.
"""

from __future__ import annotations

import logging
from datetime import datetime

from cohort import services
from cohort.domain import Child, CohortYear, Join, JoinReason, Parent, Trigger, reason_for_school
from cohort.messages import children_upserted
from cohort.uow import CohortUnitOfWork
from contracts.common import programmes_for, year_group
from contracts.consent import AddChildFromConsentResponse
from msgkit.clock import london_date

log = logging.getLogger(__name__)


def child_from(command: AddChildFromConsentResponse) -> Child:
    p = command.parent
    return Child(
        id=command.child_id,
        team_ods=command.team_ods,
        first_name=command.first_name,
        last_name=command.last_name,
        date_of_birth=command.date_of_birth,
        school_urn=command.school_urn,
        postcode=command.postcode or "",
        year_group=year_group(command.date_of_birth, command.academic_year),
        parents=[Parent(p.parent_id, p.name, p.relationship, p.email, p.phone)],
    )


async def add_child(command: AddChildFromConsentResponse, uow: CohortUnitOfWork, now: datetime) -> None:
    """Add the child once per child_id (a redelivery, or staff asking twice, adds nothing more)."""
    async with uow:
        if not await uow.claim(command):
            return
        if await uow.children.get(command.child_id) is not None:
            await uow.commit()
            return
        child = child_from(command)
        await uow.children.add(child)
        uow.publish(*children_upserted([child], cause=command))
        group = child.year_group if child.year_group is not None else -1
        programmes = programmes_for((p.value for p in command.programmes), group)
        if programmes:
            reason = reason_for_school(child.school_urn) or JoinReason.STAFF_INVITE
            cohort = CohortYear(command.team_ods, command.academic_year, london_date(now))
            joins = [Join(child.id, programmes, reason)]
            await services.join_and_invite(
                uow, joins, cohort, trigger=Trigger.STAFF, requested_by=command.created_by, cause=command
            )
        await uow.commit()
    log.info("child added from a consent response", extra={"child_id": str(command.child_id)})
