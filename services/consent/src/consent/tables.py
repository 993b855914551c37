"""Tables of the consent service: local copies from events, consent responses and requests."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

from msgkit.tables import messaging_tables

metadata = MetaData()
messaging = messaging_tables(metadata)

# Local copies (built from other services' events; `source_at` keeps a late, older event from winning).
teams = Table(
    "teams",
    metadata,
    Column("ods_code", String(10), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("source_at", DateTime(timezone=True), nullable=False),
    # Shown on the online consent form, for parents to contact the team (issue 20).
    Column("email", String(320), nullable=True),
    Column("phone", String(300), nullable=True),
)

children = Table(
    "children",
    metadata,
    Column("child_id", Uuid, primary_key=True),
    Column("team_ods", String(10), nullable=False),
    Column("deceased", Boolean, nullable=False),
    Column("restricted", Boolean, nullable=False),
    Column("invalidated", Boolean, nullable=False),
    Column("archived", Boolean, nullable=False),
    Column("source_at", DateTime(timezone=True), nullable=False),
    # consent.matching.child_key of name, birth date and postcode (never the details): online responses match it.
    Column("match_key", String(64), nullable=True),
    # Shown to the holder of the child's consent-request link, as the request's message names them.
    Column("first_name", String(300), nullable=True),
    Column("last_name", String(300), nullable=True),
)
Index("ix_children_match", children.c.team_ods, children.c.match_key)

# Only whether a parent can be reached is kept: notify holds the addresses themselves.
parents = Table(
    "parents",
    metadata,
    Column("child_id", Uuid, nullable=False),
    Column("parent_id", Uuid, nullable=False),
    Column("has_email", Boolean, nullable=False),
    Column("has_phone", Boolean, nullable=False),
    Column("receive_updates", Boolean, nullable=False),
    # consent.matching keys of the parent's email and phone: is an online response from a parent on record?
    Column("email_key", String(64), nullable=True),
    Column("phone_key", String(64), nullable=True),
    PrimaryKeyConstraint("child_id", "parent_id"),
)

clinic_memberships = Table(
    "clinic_memberships",
    metadata,
    Column("child_id", Uuid, nullable=False),
    Column("team_ods", String(10), nullable=False),
    Column("academic_year", Integer, nullable=False),
    Column("programmes", ARRAY(String(20)), nullable=False),
    Column("joined_on", Date, nullable=False),
    PrimaryKeyConstraint("child_id", "team_ods", "academic_year"),
)

clinic_sessions = Table(
    "clinic_sessions",
    metadata,
    Column("session_id", Uuid, primary_key=True),
    Column("team_ods", String(10), nullable=False),
    Column("academic_year", Integer, nullable=False),
    Column("programmes", ARRAY(String(20)), nullable=False),
    Column("last_date", Date, nullable=True),
    Column("consent_window_closes_on", Date, nullable=True),
    Column("source_at", DateTime(timezone=True), nullable=False),
)
Index("ix_clinic_sessions_team_year", clinic_sessions.c.team_ods, clinic_sessions.c.academic_year)

# Consent's own records. Responses are append-only; status is computed from them.
consent_responses = Table(
    "consent_responses",
    metadata,
    Column("consent_id", Uuid, primary_key=True),
    Column("seq", BigInteger, Identity(always=True), nullable=False),
    Column("child_id", Uuid, nullable=False),
    Column("team_ods", String(10), nullable=False),
    Column("programme", String(20), nullable=False),
    Column("academic_year", Integer, nullable=False),
    Column("response", String(20), nullable=False),
    Column("route", String(30), nullable=False),
    Column("parent_id", Uuid, nullable=True),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    # Online responses (issue 20): methods agreed, a refusal's follow-up, and who answered if not a parent on record.
    Column("vaccine_methods", ARRAY(String(20)), nullable=False, server_default="{}"),
    Column("follow_up_requested", Boolean, nullable=False, server_default="false"),
    Column("respondent", String(64), nullable=True),
    Column("form_response_id", Uuid, nullable=True),
)
Index("ix_consent_responses_child", consent_responses.c.child_id, consent_responses.c.academic_year)

consent_requests = Table(
    "consent_requests",
    metadata,
    Column("request_id", Uuid, primary_key=True),
    Column("child_id", Uuid, nullable=False),
    Column("team_ods", String(10), nullable=False),
    Column("programmes", ARRAY(String(20)), nullable=False),
    Column("academic_year", Integer, nullable=False),
    Column("requested_by", String(200), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
)
Index("ix_consent_requests_child", consent_requests.c.child_id)

# Online consent forms as submitted (issue 20): one row per response_id, the parent's answers as given.
consent_forms = Table(
    "consent_forms",
    metadata,
    Column("response_id", Uuid, primary_key=True),
    Column("seq", BigInteger, Identity(always=True), nullable=False),
    Column("team_ods", String(10), nullable=False),
    Column("academic_year", Integer, nullable=False),
    Column("link_kind", String(10), nullable=False),
    Column("request_id", Uuid, nullable=True),
    Column("programmes", ARRAY(String(20)), nullable=False),
    Column("answers", JSONB, nullable=False),
    Column("needs_triage", Boolean, nullable=False),
    Column("match_key", String(64), nullable=True),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    # unmatched -> matched | creating (cohort is adding the child) -> matched | archived
    Column("state", String(10), nullable=False),
    Column("child_id", Uuid, nullable=True),
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("notes", String(300), nullable=True),
)
Index("ix_consent_forms_waiting", consent_forms.c.team_ods, consent_forms.c.state, consent_forms.c.seq)
Index("ix_consent_forms_child", consent_forms.c.child_id)
Index("ix_consent_forms_match", consent_forms.c.match_key, postgresql_where=consent_forms.c.state == "unmatched")
