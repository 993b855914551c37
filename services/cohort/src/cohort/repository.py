"""Children, their clinic memberships, activity entries and stored replies, in the cohort schema."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import Row, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cohort.activity import Entry
from cohort.domain import HIDDEN, Child, ChildFlags, CohortYear, Join, JoinReason, Parent
from cohort.tables import children, clinic_memberships, replies, teams


def _to_parent(parent: dict[str, Any]) -> Parent:
    return Parent(
        parent_id=uuid.UUID(parent["parent_id"]),
        name=parent.get("name"),
        relationship=parent.get("relationship"),
        email=parent.get("email"),
        phone=parent.get("phone"),
    )


def _to_child(row: Row[Any]) -> Child:
    return Child(
        id=row.id,
        team_ods=row.team_ods,
        first_name=row.first_name,
        last_name=row.last_name,
        date_of_birth=row.date_of_birth,
        school_urn=row.school_urn,
        postcode=row.postcode,
        nhs_number=row.nhs_number,
        year_group=row.year_group,
        flags=ChildFlags(row.deceased, row.restricted, row.invalidated, row.archived),
        parents=[_to_parent(p) for p in row.parents],
    )


class ChildRepository:
    """Children with their parents and flags."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, child_id: uuid.UUID, *, for_update: bool = False) -> Child | None:
        found = await self.get_many([child_id], for_update=for_update)
        return found[0] if found else None

    async def get_many(self, child_ids: Sequence[uuid.UUID], *, for_update: bool = False) -> list[Child]:
        statement = select(children).where(children.c.id.in_(child_ids)).order_by(children.c.id)
        if for_update:
            statement = statement.with_for_update()
        return [_to_child(row) for row in await self.session.execute(statement)]

    async def add(self, child: Child) -> None:
        """A new child (staff adding one from an online consent response)."""
        parents = [
            {
                "parent_id": str(p.parent_id),
                "name": p.name,
                "relationship": p.relationship,
                "email": p.email,
                "phone": p.phone,
            }
            for p in child.parents
        ]
        await self.session.execute(
            insert(children).values(
                id=child.id,
                team_ods=child.team_ods,
                nhs_number=child.nhs_number,
                first_name=child.first_name,
                last_name=child.last_name,
                date_of_birth=child.date_of_birth,
                postcode=child.postcode,
                school_urn=child.school_urn,
                year_group=child.year_group,
                parents=parents,
            )
        )

    async def save_school(self, child: Child) -> None:
        await self.session.execute(
            update(children).where(children.c.id == child.id).values(school_urn=child.school_urn, updated_at=func.now())
        )

    async def save_flags(self, child: Child) -> None:
        f = child.flags
        await self.session.execute(
            update(children)
            .where(children.c.id == child.id)
            .values(
                deceased=f.deceased,
                restricted=f.restricted,
                invalidated=f.invalidated,
                archived=f.archived,
                updated_at=func.now(),
            )
        )

    async def is_restricted(self, child_id: uuid.UUID) -> bool:
        found = await self.session.execute(select(children.c.restricted).where(children.c.id == child_id))
        return bool(found.scalar())

    async def restricted_among(self, child_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these children have restricted records."""
        found = await self.session.execute(
            select(children.c.id).where(children.c.id.in_(list(child_ids)), children.c.restricted)
        )
        return set(found.scalars())

    async def team_programmes(self, team_ods: str) -> list[str] | None:
        found = await self.session.execute(select(teams.c.programmes).where(teams.c.ods_code == team_ods))
        programmes = found.scalar()
        return list(programmes) if programmes else None


class MembershipRepository:
    """Clinic cohort membership: one row per child, team, academic year and programme."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def programmes_of(self, child_id: uuid.UUID, cohort: CohortYear) -> set[str]:
        m = clinic_memberships.c
        found = await self.session.execute(
            select(m.programme).where(
                m.child_id == child_id, m.team_ods == cohort.team_ods, m.academic_year == cohort.academic_year
            )
        )
        return set(found.scalars())

    async def add(self, joins: Iterable[Join], cohort: CohortYear) -> list[Join]:
        """Insert memberships, ignoring those that exist; returns only what actually joined."""
        rows = [
            {
                "child_id": j.child_id,
                "team_ods": cohort.team_ods,
                "academic_year": cohort.academic_year,
                "programme": p,
                "joined_on": cohort.joined_on,
                "reason": j.reason.value,
            }
            for j in joins
            for p in j.programmes
        ]
        if not rows:
            return []
        m = clinic_memberships.c
        statement = insert(clinic_memberships).on_conflict_do_nothing().returning(m.child_id, m.programme, m.reason)
        inserted = (await self.session.execute(statement, rows)).all()
        return regroup((r.child_id, r.programme, r.reason) for r in inserted)


def regroup(rows: Iterable[tuple[uuid.UUID, str, str]]) -> list[Join]:
    """Membership rows back into one join per child, programmes in a stable order."""
    grouped: dict[uuid.UUID, tuple[list[str], str]] = {}
    for child_id, programme, reason in rows:
        grouped.setdefault(child_id, ([], reason))[0].append(programme)
    return [Join(child_id, tuple(sorted(ps)), JoinReason(reason)) for child_id, (ps, reason) in grouped.items()]


class ActivityRepository:
    """Appends to children's activity logs; a repeated source adds nothing."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append(self, entries: Sequence[Entry]) -> None:
        if entries:
            # One statement of arrays rather than a multi-row INSERT: bulk paths append a thousand at a time.
            await self.session.execute(
                _APPEND,
                {
                    "child_ids": [e.child_id for e in entries],
                    "times": [e.occurred_at for e in entries],
                    "kinds": [e.kind for e in entries],
                    "details": [json.dumps(e.details) for e in entries],
                    "keys": [e.source_key for e in entries],
                },
            )

    async def hide_recipients(self, child_id: uuid.UUID) -> None:
        """Erase the recipients stored in a child's log: a restricted child's parents' contacts are kept nowhere
        staff read, even if the restriction is lifted later."""
        await self.session.execute(_HIDE, {"child": child_id, "hidden": HIDDEN})


_APPEND = text(
    """
    INSERT INTO activity_log (child_id, occurred_at, kind, details, source_key)
    SELECT * FROM unnest(CAST(:child_ids AS uuid[]), CAST(:times AS timestamptz[]), CAST(:kinds AS varchar[]),
                         CAST(:details AS jsonb[]), CAST(:keys AS uuid[]))
    ON CONFLICT DO NOTHING
    """
)


_HIDE = text(
    """
    UPDATE activity_log SET details = jsonb_set(details, '{recipient}', to_jsonb(CAST(:hidden AS text)))
    WHERE child_id = :child AND details ? 'recipient' AND details->>'recipient' <> :hidden
    """
)


class ReplyRepository:
    """Replies to request-commands, so a redelivered request gets the same answer and no second effect."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, message_id: uuid.UUID) -> dict[str, Any] | None:
        found = await self.session.execute(select(replies.c.reply).where(replies.c.message_id == message_id))
        reply = found.scalar()
        return dict(reply) if reply is not None else None

    async def add(self, message_id: uuid.UUID, reply: dict[str, Any]) -> None:
        await self.session.execute(insert(replies).values(message_id=message_id, reply=reply).on_conflict_do_nothing())
