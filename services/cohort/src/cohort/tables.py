"""Tables of the cohort service (its own schema, chosen by the engine's search_path)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Computed,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from cohort.import_rules import ImportStatus
from cohort.sql_text import literal
from contracts.consent import ConsentStatus
from msgkit.tables import messaging_tables

metadata = MetaData()

# Any contact at all (SQL cannot tell a mobile from a landline: domain.parents_contactable does, in Python).
CONTACTABLE = "jsonb_path_exists(parents, '$[*] ? (@.email != null || @.phone != null)')"
messaging = messaging_tables(metadata)


def _created() -> Column[object]:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


children = Table(
    "children",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("team_ods", String(10), nullable=False),
    Column("nhs_number", String(10)),
    Column("first_name", String(300), nullable=False),
    Column("last_name", String(300), nullable=False),
    Column("date_of_birth", Date, nullable=False),
    Column("postcode", String(10), nullable=False),
    Column("school_urn", String(6), nullable=False),
    Column("year_group", SmallInteger),
    # Parents live with their child: [{parent_id, name, relationship, email, phone}], as imports give them.
    Column("parents", JSONB, nullable=False, server_default=text("'[]'")),
    Column("contactable", Boolean, Computed(CONTACTABLE, persisted=True)),
    Column("deceased", Boolean, nullable=False, server_default=text("false")),
    Column("restricted", Boolean, nullable=False, server_default=text("false")),
    Column("invalidated", Boolean, nullable=False, server_default=text("false")),
    Column("archived", Boolean, nullable=False, server_default=text("false")),
    _created(),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
# One child per NHS number in a team; children without one are matched on name, date of birth and postcode.
Index(
    "uq_children_team_nhs_number",
    children.c.team_ods,
    children.c.nhs_number,
    unique=True,
    postgresql_where=children.c.nhs_number.isnot(None),
)
Index("ix_children_team_school", children.c.team_ods, children.c.school_urn)
# Finding by last name reads its matches in list order.
Index(
    "ix_children_team_last_name",
    children.c.team_ods,
    func.lower(children.c.last_name),
    children.c.last_name,
    children.c.first_name,
    children.c.id,
)

clinic_memberships = Table(
    "clinic_memberships",
    metadata,
    Column("child_id", Uuid, nullable=False),
    Column("team_ods", String(10), nullable=False),
    Column("academic_year", Integer, nullable=False),
    Column("programme", String(20), nullable=False),
    Column("joined_on", Date, nullable=False),
    Column("reason", String(40), nullable=False),
    _created(),
    # What the clinic list sorts and filters by: the child's names and status for the programme and year,
    # kept by triggers from children and the copies below (migration 0004), never written by the service.
    Column("invited", Boolean, nullable=False, server_default=text("false")),
    Column("consent_status", String(20), nullable=False, server_default=text(literal(ConsentStatus.NO_RESPONSE))),
    Column("vaccinated", Boolean, nullable=False, server_default=text("false")),
    Column("last_name", String(300), nullable=False, server_default=text("''")),
    Column("first_name", String(300), nullable=False, server_default=text("''")),
    PrimaryKeyConstraint("child_id", "team_ods", "academic_year", "programme", name="pk_clinic_memberships"),
)
# A list in name order, counted and paged (by number or keyset) from the index alone.
Index(
    "ix_clinic_memberships_list",
    clinic_memberships.c.team_ods,
    clinic_memberships.c.academic_year,
    clinic_memberships.c.programme,
    clinic_memberships.c.last_name,
    clinic_memberships.c.first_name,
    clinic_memberships.c.child_id,
    postgresql_include=["invited", "consent_status", "vaccinated", "joined_on", "reason"],
)

# --- local copies of other services' data, kept from their events ---------------------------
teams = Table(
    "teams",
    metadata,
    Column("ods_code", String(10), primary_key=True),
    Column("programmes", ARRAY(String(20)), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

school_sessions = Table(
    "school_sessions",
    metadata,
    Column("session_id", Uuid, primary_key=True),
    Column("team_ods", String(10), nullable=False),
    Column("school_urn", String(6), nullable=False),
    Column("programmes", ARRAY(String(20)), nullable=False),
    Column("academic_year", Integer, nullable=False),
    Column("dates", ARRAY(Date), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

# Each team's community clinic dates, from ClinicDatesChanged (migration 0007): a walk-in needs a clinic today.
clinic_sessions = Table(
    "clinic_sessions",
    metadata,
    Column("session_id", Uuid, primary_key=True),
    Column("team_ods", String(10), nullable=False, index=True),
    Column("academic_year", Integer, nullable=False),
    Column("programmes", ARRAY(String(20)), nullable=False),
    Column("dates", ARRAY(Date), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)
vaccinations = Table(
    "vaccinations",
    metadata,
    Column("record_id", Uuid, primary_key=True),
    Column("child_id", Uuid, nullable=False, index=True),
    Column("programme", String(20), nullable=False),
    Column("academic_year", Integer, nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("reason", String(40)),
    Column("performed_at", DateTime(timezone=True), nullable=False),
)

consents = Table(
    "consents",
    metadata,
    Column("child_id", Uuid, nullable=False),
    Column("programme", String(20), nullable=False),
    Column("academic_year", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("child_id", "programme", "academic_year", name="pk_consents"),
)

invitations = Table(
    "invitations",
    metadata,
    Column("invitation_id", Uuid, primary_key=True),
    Column("child_id", Uuid, nullable=False, index=True),
    Column("team_ods", String(10), nullable=False),
    # Unknown until InvitationsScheduled arrives when a NotificationsSent overtakes it.
    Column("programmes", ARRAY(String(20))),
    Column("academic_year", Integer),
    Column("kind", String(20)),
    Column("due_at", DateTime(timezone=True)),
    Column("sent", Boolean, nullable=False, server_default=text("false")),
    Column("cancelled_reason", String(200)),
)

# --- activity log and idempotent replies -----------------------------------------------------

activity_log = Table(
    "activity_log",
    metadata,
    Column("child_id", Uuid, primary_key=True),
    # Derived from the message that caused the entry, so a redelivery adds nothing.
    Column("source_key", Uuid, primary_key=True),
    # Arrival order, which breaks ties between entries of the same time (not indexed on its own).
    Column("id", BigInteger, Identity(always=True), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("details", JSONB, nullable=False),
    # When the entry was written (its transaction's start): how far the log trails its events.
    Column("logged_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_activity_log_child_time", activity_log.c.child_id, activity_log.c.occurred_at, activity_log.c.id)

replies = Table(
    "replies",
    metadata,
    Column("message_id", Uuid, primary_key=True),
    Column("reply", JSONB, nullable=False),
    _created(),
)

# --- cohort imports, staged until committed --------------------------------------------------

imports = Table(
    "imports",
    metadata,
    Column("import_id", Uuid, primary_key=True),
    Column("team_ods", String(10), nullable=False),
    Column("status", String(20), nullable=False, server_default=text(literal(ImportStatus.STAGING))),
    # Fixed when the commit starts, so a resumed commit applies the rest exactly as it began.
    Column("programmes", ARRAY(String(20))),
    Column("academic_year", Integer),
    Column("joined_on", Date),
    Column("applied_through", Integer, nullable=False, server_default=text("0")),
    Column("joined", Integer, nullable=False, server_default=text("0")),
    Column("result", JSONB),
    _created(),
    Column("committed_at", DateTime(timezone=True)),
)

import_chunks = Table(
    "import_chunks",
    metadata,
    Column("import_id", Uuid, nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    PrimaryKeyConstraint("import_id", "sequence", name="pk_import_chunks"),
)

import_rows = Table(
    "import_rows",
    metadata,
    Column("import_id", Uuid, nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("nhs_number", String(10)),
    Column("first_name", String(300), nullable=False),
    Column("last_name", String(300), nullable=False),
    Column("date_of_birth", Date, nullable=False),
    Column("postcode", String(10), nullable=False),
    Column("school_urn", String(6), nullable=False),
    Column("year_group", SmallInteger),
    Column("parents", JSONB, nullable=False),
    Column("new_child_id", Uuid, nullable=False),
    Column("child_id", Uuid),
    Column("outcome", String(20)),
    # How the row found its existing child (import_rules.MatchedOn), if it did.
    Column("matched_on", String(20)),
    PrimaryKeyConstraint("import_id", "row_number", name="pk_import_rows"),
)

# Rows held for staff to decide (migration 0005): what was uploaded, beside the existing child it matched.
import_reviews = Table(
    "import_reviews",
    metadata,
    Column("import_id", Uuid, nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("team_ods", String(10), nullable=False),
    Column("child_id", Uuid, nullable=False),
    Column("matched_on", String(20), nullable=False),
    Column("nhs_number", String(10)),
    Column("first_name", String(300), nullable=False),
    Column("last_name", String(300), nullable=False),
    Column("date_of_birth", Date, nullable=False),
    Column("postcode", String(10), nullable=False),
    Column("school_urn", String(6), nullable=False),
    Column("year_group", SmallInteger),
    Column("parents", JSONB, nullable=False),
    Column("new_child_id", Uuid, nullable=False),
    Column("decision", String(20)),
    Column("decided_by", String(200)),
    Column("decided_at", DateTime(timezone=True)),
    _created(),
    PrimaryKeyConstraint("import_id", "row_number", name="pk_import_reviews"),
)
Index(
    "ix_import_reviews_undecided",
    import_reviews.c.team_ods,
    import_reviews.c.import_id,
    import_reviews.c.row_number,
    postgresql_where=import_reviews.c.decision.is_(None),
)

import_errors = Table(
    "import_errors",
    metadata,
    Column("import_id", Uuid, nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("row_number", Integer, nullable=False),
    Column("column", String(100), nullable=False),
    Column("message", String(300), nullable=False),
    PrimaryKeyConstraint("import_id", "row_number", "column", "message", name="pk_import_errors"),
)
