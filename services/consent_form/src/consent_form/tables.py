"""The consent form's only table: parents' drafts, until they submit or walk away."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

drafts = sa.Table(
    "drafts",
    metadata,
    # SHA-256 of the session cookie's value: a copy of this table opens nobody's draft.
    sa.Column("session_hash", sa.String(64), primary_key=True),
    # The link the draft was opened from (what the contract's SubmitConsentForm carries back).
    sa.Column("token", sa.String(200), nullable=False),
    # Fixed when the draft is made, so a double submit or a back-and-resubmit is one response.
    sa.Column("response_id", sa.Uuid, nullable=False, unique=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    # What OpenConsentForm answered (team, programmes, questions): the pages need not ask again.
    sa.Column("view", sa.JSON, nullable=False),
    sa.Column("answers", sa.JSON, nullable=False),
    sa.Column("receipt", sa.JSON, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_drafts_expires_at", "expires_at"),
)
