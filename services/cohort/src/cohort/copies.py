"""Local copies of other services' data (teams, school sessions, vaccinations, consent, invitations)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from cohort.copies_sql import CANDIDATES, KEEP_SCHEDULED
from cohort.domain import Candidate, ChildFlags, parents_contactable
from cohort.tables import clinic_sessions, consents, invitations, school_sessions, teams, vaccinations
from contracts.bulk import InvitationsScheduledRows
from contracts.common import year_group

_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Unsent:
    """An invitation notify has scheduled and not yet sent: when it is due (None: waiting for clinic dates)."""

    due_at: datetime | None


@dataclass(frozen=True, slots=True)
class SchoolSession:
    """The local copy of a school session."""

    session_id: uuid.UUID
    team_ods: str
    school_urn: str
    programmes: tuple[str, ...]
    academic_year: int


class CopyRepository:
    """Keeps the copies current: the newest version of a team, session or consent wins."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def keep_team(self, ods_code: str, programmes: Sequence[str], changed_at: datetime) -> None:
        statement = insert(teams).values(ods_code=ods_code, programmes=list(programmes), changed_at=changed_at)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[teams.c.ods_code],
                set_={"programmes": statement.excluded.programmes, "changed_at": statement.excluded.changed_at},
                where=teams.c.changed_at <= statement.excluded.changed_at,
            )
        )

    async def keep_school_session(self, s: SchoolSession, *, dates: Sequence[Any], changed_at: datetime) -> None:
        values = {
            "session_id": s.session_id,
            "team_ods": s.team_ods,
            "school_urn": s.school_urn,
            "programmes": list(s.programmes),
            "academic_year": s.academic_year,
            "dates": list(dates),
            "changed_at": changed_at,
        }
        statement = insert(school_sessions).values(**values)
        changed = {k: statement.excluded[k] for k in values if k != "session_id"}
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[school_sessions.c.session_id],
                set_=changed,
                where=school_sessions.c.changed_at <= statement.excluded.changed_at,
            )
        )

    async def keep_clinic_dates(self, values: dict[str, Any]) -> None:
        statement = insert(clinic_sessions).values(**values)
        changed = {k: statement.excluded[k] for k in values if k != "session_id"}
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[clinic_sessions.c.session_id],
                set_=changed,
                where=clinic_sessions.c.changed_at <= statement.excluded.changed_at,
            )
        )

    async def clinic_dates(self, team_ods: str) -> list[date]:
        """Every clinic date of the team, in order."""
        day = func.unnest(clinic_sessions.c.dates).label("day")
        rows = await self.session.execute(select(day).where(clinic_sessions.c.team_ods == team_ods).order_by(day))
        return list(dict.fromkeys(rows.scalars()))

    async def ensure_school_session(self, s: SchoolSession) -> None:
        """Keep a session first heard of when it closed; any SchoolSessionChanged (with dates) overrides it."""
        values = {
            "session_id": s.session_id,
            "team_ods": s.team_ods,
            "school_urn": s.school_urn,
            "programmes": list(s.programmes),
            "academic_year": s.academic_year,
            "dates": [],
            "changed_at": _LONG_AGO,
        }
        await self.session.execute(insert(school_sessions).values(**values).on_conflict_do_nothing())

    async def school_session(self, session_id: uuid.UUID) -> SchoolSession | None:
        s = school_sessions.c
        row = (
            await self.session.execute(
                select(s.session_id, s.team_ods, s.school_urn, s.programmes, s.academic_year).where(
                    s.session_id == session_id
                )
            )
        ).first()
        if row is None:
            return None
        return SchoolSession(row.session_id, row.team_ods, row.school_urn, tuple(row.programmes), row.academic_year)

    async def candidates(self, s: SchoolSession) -> list[Candidate]:
        """Every child of the session's school in the team, with vaccinations, refusals and memberships."""
        params = {"team": s.team_ods, "urn": s.school_urn, "year": s.academic_year}
        rows = (await self.session.execute(CANDIDATES, params)).all()
        return [
            Candidate(
                child_id=r.id,
                flags=ChildFlags(r.deceased, r.restricted, r.invalidated, r.archived),
                # By the phone library's rules, which SQL cannot apply: a landline is no way to send an invitation.
                contactable=parents_contactable(r.parents),
                vaccinated=frozenset(r.vaccinated),
                refused=frozenset(r.refused),
                member_of=frozenset(r.member_of),
                year_group=r.year_group if r.year_group is not None else year_group(r.date_of_birth, s.academic_year),
            )
            for r in rows
        ]

    async def keep_vaccination(self, values: dict[str, Any]) -> None:
        statement = insert(vaccinations).values(**values)
        changed = {k: statement.excluded[k] for k in ("outcome", "reason", "performed_at")}
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=[vaccinations.c.record_id], set_=changed)
        )

    async def keep_consent(self, values: dict[str, Any]) -> None:
        statement = insert(consents).values(**values)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[consents.c.child_id, consents.c.programme, consents.c.academic_year],
                set_={"status": statement.excluded.status, "recorded_at": statement.excluded.recorded_at},
                where=consents.c.recorded_at <= statement.excluded.recorded_at,
            )
        )

    async def keep_scheduled(self, event: InvitationsScheduledRows) -> None:
        """Scheduled (or re-timed) invitations, and their activity entries.

        A NotificationsSent may have created an invitation's row first. One statement of arrays: notify
        reports a bulk send a thousand invitations at a time.
        """
        scheduled = event.invitations
        await self.session.execute(
            KEEP_SCHEDULED,
            {
                "ids": [i["invitation_id"] for i in scheduled],
                "children": [i["child_id"] for i in scheduled],
                "teams": [i["team_ods"] for i in scheduled],
                "programmes": [",".join(p.value for p in i["programmes"]) for i in scheduled],
                "years": [i["academic_year"] for i in scheduled],
                "kinds": [i["kind"].value for i in scheduled],
                "due": [i["due_at"] for i in scheduled],
                "message_id": str(event.message_id),
                "at": event.occurred_at,
            },
        )

    async def mark_invitations_sent(self, sent: Iterable[tuple[uuid.UUID, uuid.UUID, str]]) -> None:
        """Mark invitations sent, creating placeholders for those not yet seen scheduled."""
        # One row per invitation (its email and SMS come together), in key order so consumers never deadlock.
        unique = sorted(dict.fromkeys(sent))
        rows = [{"invitation_id": i, "child_id": c, "team_ods": t, "sent": True} for i, c, t in unique]
        if rows:
            statement = insert(invitations).values(rows)
            await self.session.execute(
                statement.on_conflict_do_update(
                    index_elements=[invitations.c.invitation_id], set_={"sent": statement.excluded.sent}
                )
            )

    async def mark_invitation(self, invitation_id: uuid.UUID, **values: Any) -> None:
        """Mark an invitation sent or cancelled, creating a placeholder if it was not seen scheduled yet."""
        statement = insert(invitations).values(invitation_id=invitation_id, **values)
        changed = {k: statement.excluded[k] for k in values if k not in ("child_id", "team_ods")}
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=[invitations.c.invitation_id], set_=changed)
        )

    async def unsent_invitation(
        self, child_id: uuid.UUID, cohort_year: tuple[str, int], programmes: Sequence[str], now: datetime
    ) -> Unsent | None:
        """The child's first invitation for any of `programmes` notify has not reported sent or cancelled.

        Only one waiting for dates or due later than now: one overdue may be being sent, or have failed
        (which notify does not report here), so the repeat goes to notify, whose ledger decides.
        """
        team_ods, year = cohort_year
        statement = (
            select(invitations.c.due_at)
            .where(
                invitations.c.child_id == child_id,
                invitations.c.team_ods == team_ods,
                invitations.c.academic_year == year,
                invitations.c.programmes.overlap(list(programmes)),
                invitations.c.sent.is_(False),
                invitations.c.cancelled_reason.is_(None),
                or_(invitations.c.due_at.is_(None), invitations.c.due_at > now),
            )
            .order_by(invitations.c.due_at.nulls_last())
            .limit(1)
        )
        rows = (await self.session.execute(statement)).all()
        return Unsent(rows[0].due_at) if rows else None
