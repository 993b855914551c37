"""Drafts: one per browser session and link, kept server-side; the browser holds only a random key."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from consent_form.tables import drafts
from contracts.consent_form import ConsentFormView


def new_session_key() -> str:
    return secrets.token_urlsafe(32)


def session_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Draft:
    """A parent's answers so far, for one link, and what the link showed."""

    token: str
    view: ConsentFormView
    response_id: uuid.UUID = field(default_factory=uuid.uuid4)
    csrf_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    answers: dict[str, Any] = field(default_factory=dict)
    receipt: dict[str, Any] | None = None

    @property
    def submitted(self) -> bool:
        return self.receipt is not None


class DraftStore:
    """The drafts table: read, write and forget drafts by their session key."""

    def __init__(self, engine: AsyncEngine, *, lifetime: timedelta) -> None:
        self.engine = engine
        self.lifetime = lifetime

    async def load(self, key: str) -> Draft | None:
        query = sa.select(drafts).where(
            drafts.c.session_hash == session_hash(key), drafts.c.expires_at > datetime.now(UTC)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        if row is None:
            return None
        return Draft(
            token=row["token"],
            view=ConsentFormView.model_validate(row["view"]),
            response_id=row["response_id"],
            csrf_token=row["csrf_token"],
            answers=dict(row["answers"]),
            receipt=row["receipt"],
        )

    async def create(self, key: str, draft: Draft) -> None:
        now = datetime.now(UTC)
        values = {
            "session_hash": session_hash(key),
            "token": draft.token,
            "response_id": draft.response_id,
            "csrf_token": draft.csrf_token,
            "view": draft.view.model_dump(mode="json"),
            "answers": draft.answers,
            "receipt": draft.receipt,
            "created_at": now,
            "expires_at": now + self.lifetime,
        }
        async with self.engine.begin() as conn:
            await conn.execute(sa.insert(drafts).values(**values))

    async def save(self, key: str, draft: Draft) -> None:
        """Store the answers (and receipt) and keep the draft for another lifetime from now."""
        statement = (
            sa.update(drafts)
            .where(drafts.c.session_hash == session_hash(key))
            .values(answers=draft.answers, receipt=draft.receipt, expires_at=datetime.now(UTC) + self.lifetime)
        )
        async with self.engine.begin() as conn:
            await conn.execute(statement)

    async def forget(self, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sa.delete(drafts).where(drafts.c.session_hash == session_hash(key)))

    async def purge_expired(self) -> int:
        async with self.engine.begin() as conn:
            result = await conn.execute(sa.delete(drafts).where(drafts.c.expires_at <= datetime.now(UTC)))
        return int(result.rowcount or 0)
